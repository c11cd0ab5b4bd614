"""Issue 13: departments by the roles the text gives, and documents in styles the corpus lacks
(a notice whose signature precedes the text it issues, labelled fields in any order, a plan whose
year is only in its title), imported and asked about end to end."""

from datetime import date
from pathlib import Path

from conftest import TODAY

from knowledge.answer import render_text
from knowledge.importer import import_path
from knowledge.models import Departments, Item
from reminders.messages import _headline

DATA = Path(__file__).parent / "data"


def _import(kb, name: str) -> dict[str, Item]:
    report = import_path(kb.store, DATA / name)
    kb.searcher.invalidate()
    return {i.text: i for i in kb.store.items_of_document(report.doc_id)}


def _item(items: dict[str, Item], fragment: str) -> Item:
    return next(i for t, i in items.items() if fragment in t)


def test_a_departments_work_plan_issued_by_notice(kb):
    items = _import(kb, "dept_workplan_2023.txt")
    doc = kb.store.get_document(next(iter(items.values())).doc_id)
    assert doc.title == "江西省生态环境厅关于印发《2023年全省固体废物污染防治工作要点》的通知"
    assert (doc.issuer, doc.date, doc.region, doc.doc_number) == (
        "江西省生态环境厅", date(2023, 2, 20), "江西省", "赣环固发[2023]12号")
    # the notice's head and its issuing sentence are not items
    assert not any(t.startswith(("江西省生态环境厅", "赣环固发", "厅机关", "现将", "2023年2月20日", "为持续推进"))
                   for t in items)
    waste_city = _item(items, "无废城市”建设实施方案")
    assert waste_city.deadline.due == date(2023, 10, 31)  # 10月底 without 前
    assert waste_city.departments == Departments(responsible=("固体处", "规财处"))
    hazardous = _item(items, "规范化环境管理评估")  # fields on lines of their own, time first
    assert hazardous.deadline.text == "三季度末前" and hazardous.deadline.due == date(2023, 9, 30)
    assert hazardous.departments == Departments(support=("执法局",), responsible=("固体处",))
    medical = _item(items, "医疗废物集中处置")  # a provincial centre that leads
    assert medical.departments == Departments(lead=("省固体废物管理中心",), support=("固体处",))
    assert medical.deadline.due == date(2023, 12, 31)
    plastics = _item(items, "塑料污染治理专项行动")  # 根据…安排: kept as text, no date
    assert plastics.deadline.text == "根据全省专项行动统一安排" and plastics.deadline.due is None
    later = _item(items, "2027年进一步提高到65%")
    assert later.deadline.due == date(2027, 12, 31) and later.targets[0].metric == "一般工业固体废物综合利用率"


def test_the_year_of_a_plan_named_only_in_its_title(kb):
    items = _import(kb, "energy_plan_title_year.txt")
    doc = kb.store.get_document(next(iter(items.values())).doc_id)
    assert doc.date is None and doc.region == "湖南省" and doc.issuer == "湖南省发展和改革委员会 湖南省能源局"
    assert _item(items, "核准平江二期").deadline.due == date(2024, 5, 31)
    assert _item(items, "农村电网改造投资").deadline.due == date(2024, 12, 31)


def test_answers_say_responsible_where_the_text_names_no_lead(kb):
    _import(kb, "energy_plan_title_year.txt")
    answer = kb.ask("湖南绿电交易扩围由哪些部门负责", TODAY)
    text = render_text(answer)
    assert answer.confident and "牵头" not in text
    # a who-question names every department
    assert "负责：省发展改革委、省能源局、省工业和信息化厅、省财政厅、省生态环境厅、省统计局" in text
    led = render_text(kb.ask("湖南抽水蓄能电站核准谁牵头", TODAY))
    assert "牵头：省能源局" in led and "参与：省自然资源厅、省林业局" in led


def test_a_list_entry_shortens_many_responsible_departments(kb):
    _import(kb, "energy_plan_title_year.txt")
    answer = kb.ask("湖南省统计局负责的任务有哪些", TODAY)
    assert answer.mode == "list"
    assert "负责：省发展改革委、省能源局等6个部门" in render_text(answer)


def test_a_document_number_in_square_brackets_is_a_filter(kb):
    _import(kb, "dept_workplan_2023.txt")
    for cited in ("赣环固发[2023]12号", "赣环固发〔2023〕12号", "赣环固发（2023）12号"):
        answer = kb.ask(f"{cited}里无废城市建设什么时候完成", TODAY)
        assert answer.confident and answer.hits[0].item.deadline.due == date(2023, 10, 31), cited


def test_which_divisions_is_a_who_question_not_a_list(kb):
    _import(kb, "dept_workplan_2023.txt")
    answer = kb.ask("江西危险废物专项整治是哪个处负责", TODAY)
    assert answer.mode == "item" and "负责：固体处" in render_text(answer)


def test_reminders_name_the_responsible_not_a_lead():
    item = Item(text="推进农村电网巩固提升。", departments=Departments(responsible=("省能源局", "省财政厅")), id=1)
    line = _headline(item, date(2024, 12, 1))
    assert "负责：省能源局、省财政厅" in line and "牵头" not in line


def test_a_news_opening_is_no_task_and_no_list_entry(kb):
    from knowledge.importer import DocumentOverrides, import_text

    text = ("11月8日，某省发展改革委印发《某省节能降碳行动方案》（某发改〔2022〕5号），明确了六方面举措。\n"
            "其中涉及工业、建筑等领域的内容如下：\n"
            "一、工业节能。推进钢铁企业超低排放改造，年底前完成20家。（省工业和信息化厅牵头）\n")
    report = import_text(kb.store, text, "news.txt", DocumentOverrides(doc_number="某发改〔2022〕5号"))
    kb.searcher.invalidate()
    kinds = {i.text[:6]: i.kind for i in kb.store.items_of_document(report.doc_id)}
    assert kinds == {"11月8日，": "intro", "其中涉及工业": "intro", "工业节能。": "task", "推进钢铁企业": "target"}
    listed = kb.ask("某发改〔2022〕5号里有哪些任务", TODAY)
    assert listed.mode == "list" and listed.hits
    assert all(h.item.kind != "intro" for h in listed.hits)
    # the opening's facts are still answered
    assert kb.ask("某省节能降碳行动方案明确了几方面举措", TODAY).hits[0].item.kind == "intro"


def test_calendar_entries_name_the_roles_the_text_gives():
    from reminders import ics

    item = Item(text="推进农村电网巩固提升。", id=7,
                departments=Departments(support=("省统计局",), responsible=("省能源局", "省财政厅")))
    text = ics.calendar([(item, date(2024, 12, 31), "计划")], "日历").replace("\r\n ", "")
    assert "负责：省能源局、省财政厅；参与：省统计局" in text and "牵头" not in text


def test_a_bracket_of_labelled_fields_is_a_clause_whatever_its_labels():
    from knowledge.extract import extract_sentence

    item = extract_sentence("推进屋顶光伏建设。（时间节点：2023年12月；主责单位：市住建局）", region="厦门市")[0]
    assert item.deadline.due == date(2023, 12, 31) and item.departments.lead == ("市住建局",)



def test_a_plan_named_by_its_kind_and_a_role_word_leave_only_filters():
    from knowledge.intents import understand

    known = {"大气处": "大气处", "省生态环境厅": "生态环境厅"}
    for question in ("四川省生态环境厅计划里大气处负责的任务有哪些", "四川省生态环境厅要点里大气处牵头的任务有哪些"):
        q = understand(question, TODAY, known)
        assert q.document_kind in ("计划", "要点") and q.core_is_only_filters, question
