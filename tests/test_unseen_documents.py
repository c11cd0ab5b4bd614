"""Documents the knowledge base has never seen, in the styles the held-back check imports:
政策措施 with 6月30日前 / 到今年底 and a 国务院办公厅 signature, and a 行动方案 with 到2025年/到2030年 targets."""

from datetime import date
from pathlib import Path

from conftest import TODAY

from knowledge.answer import render_text
from knowledge.importer import DocumentOverrides, import_path

DATA = Path(__file__).parent / "data"


def imported(kb, name: str) -> str:
    """Import a test document into the knowledge base the questions search; its doc id."""
    report = import_path(kb.store, DATA / name)
    kb.searcher.invalidate()
    return report.doc_id


def test_measures_signature_dates_every_deadline(kb):
    report = import_path(kb.store, DATA / "measures_2022.txt")
    doc = kb.store.get_document(report.doc_id)
    assert doc.date == date(2022, 3, 21) and doc.issuer == "国务院办公厅"
    items = {i.text: i for i in kb.store.items_of_document(report.doc_id)}
    start = next(i for t, i in items.items() if "核准开工" in t)
    assert start.deadline.due == date(2022, 6, 30)
    assert start.departments.lead == ("国家发展改革委", "国家能源局")
    coal = next(i for t, i in items.items() if "新增煤炭产能" in t)
    assert coal.deadline.text == "到今年底" and coal.deadline.due == date(2022, 12, 31)
    assert coal.targets[0].value == "3" and coal.targets[0].unit == "亿吨"
    assert "应急管理部" in coal.departments.responsible and not coal.departments.lead
    pricing = next(i for t, i in items.items() if "分时电价" in t and "指导意见" in t)
    assert pricing.deadline.due == date(2022, 9, 30)
    assert pricing.departments.lead == ("国家发展改革委",)


def test_measures_answers(kb):
    imported(kb, "measures_2022.txt")
    answer = kb.ask("分时电价指导意见什么时候出台", TODAY)
    text = render_text(answer)
    assert answer.confident and "2022-09-30" in text and "国家发展改革委" in text
    answer = kb.ask("煤电企业纾困由谁牵头", TODAY)
    assert "人民银行" in render_text(answer)


def test_action_plan_targets(kb):
    report = import_path(kb.store, DATA / "action_plan.md", DocumentOverrides(region="浙江省"))
    items = kb.store.items_of_document(report.doc_id)
    share_2025 = next(i for i in items if "非化石能源消费比重达到20%" in i.text)
    assert share_2025.deadline.due == date(2025, 12, 31) and share_2025.kind == "target"
    assert share_2025.section == "一、主要目标"
    share_2030 = next(i for i in items if "非化石能源消费比重达到25%" in i.text)
    assert share_2030.deadline.due == date(2030, 12, 31)
    coal = next(i for i in items if "煤电装机容量控制在4500万千瓦以内" in i.text)
    assert coal.departments.lead == ("省发展改革委", "省能源局")
    assert coal.targets[0].value == "4500" and coal.targets[0].unit == "万千瓦"
    kb.searcher.invalidate()
    answer = kb.ask("浙江2030年非化石能源消费比重目标", TODAY)
    assert "25%" in render_text(answer)


def test_task_list_labelled_fields_lines_and_parts(kb):
    """牵头单位：…；配合单位：…；完成时限：… after a task, a 责任单位 line of its own, a bracketed
    （责任单位：…）, and the issued text's own title as a part that closes the notice's sections."""
    report = import_path(kb.store, DATA / "task_list_2023.txt")
    items = kb.store.items_of_document(report.doc_id)
    by_text = {i.text: i for i in items}
    coke = next(i for t, i in by_text.items() if "焦炉" in t)
    assert coke.departments.lead == ("省工业和信息化厅",)
    assert coke.departments.support == ("省生态环境厅", "省能源局")
    assert coke.deadline.due == date(2023, 10, 31)
    assert coke.section.startswith("山西省2023年节能减排重点工作安排 › 一、推进重点行业节能降碳")
    data_center = next(i for t, i in by_text.items() if "电能利用效率" in t)
    assert data_center.deadline.due == date(2023, 9, 30) and data_center.departments.lead == ("省能源局",)
    gas = [i for t, i in by_text.items() if "瓦斯" in t]
    assert gas and all(i.departments.responsible == ("省能源局", "省发展改革委") and not i.departments.lead
                       for i in gas)
    heating = next(i for t, i in by_text.items() if "清洁取暖改造" in t)
    assert heating.departments.responsible == ("省住房城乡建设厅", "省财政厅")
    assert not any(t.startswith(("牵头单位", "配合单位", "完成时限", "责任单位")) for t in by_text)


def test_task_list_answers_who_and_when(kb):
    import_path(kb.store, DATA / "task_list_2023.txt")
    answer = kb.ask("山西焦炉关停那项谁牵头，啥时候完成", TODAY)
    text = render_text(answer)
    assert answer.confident and "牵头：省工业和信息化厅" in text and "2023-10-31" in text
    listed = kb.ask("山西省能源局牵头的任务有哪些", TODAY)
    assert listed.mode == "list"
    leads = [h for h in listed.hits if h.item.departments.lead]
    assert {h.item.departments.lead for h in leads} == {("省能源局",)} and len(leads) == 1
    assert listed.hits[:1] == leads  # then where it is responsible with no lead named
    assert all("省能源局" in h.item.departments.primary() for h in listed.hits)


def test_a_city_document_is_that_citys_and_its_questions_find_it(kb):
    city, province = imported(kb, "city_measures_2024.txt"), imported(kb, "province_charging_2024.txt")
    assert kb.store.get_document(city).region == "成都市" and kb.store.get_document(province).region == "四川省"
    service_fee = next(i for i in kb.store.items_of_document(city) if "运营补贴" in i.text)
    assert service_fee.departments.responsible == ("市发展改革委", "市财政局")  # the city's own, not 国家发展改革委

    answer = kb.ask("成都公共充电桩到2025年要达到多少", TODAY)
    assert answer.confident and "8万个" in render_text(answer)  # the city's target, not the province's
    answer = kb.ask("四川公共充电桩到2025年要达到多少", TODAY)
    assert "20万个" in render_text(answer).split("\n")[0]
    answer = kb.ask("在成都买纯电车补多少钱", TODAY)
    assert answer.confident and "3000元" in render_text(answer)

    listed = kb.ask("成都2025年前要完成哪些任务", TODAY)  # the city's and its province's, no other region's
    regions = {kb.store.get_document(h.item.doc_id).region for h in listed.hits}
    assert listed.mode == "list" and regions == {"成都市", "四川省"}


def test_sub_sections_that_answer_alike_are_listed_through_their_parent(kb):
    imported(kb, "peak_plan_2022.txt")
    answer = kb.ask("安徽工业领域碳达峰行动分了哪几个行业，各自要干啥", TODAY)
    text = render_text(answer)
    assert answer.mode == "list" and len(answer.hits) == 3
    for task in ("推广短流程电炉炼钢", "推广窑炉余热利用", "淘汰落后合成氨产能"):  # each industry's whole task
        assert task in text
    answer = kb.ask("安徽碳达峰方案的能源结构调整行动都包括啥", TODAY)
    assert answer.mode == "list" and "皖北采煤沉陷区" in render_text(answer) and "绩溪" in render_text(answer)


def test_a_topic_list_follows_the_order_the_question_names_its_topics(kb):
    imported(kb, "peak_plan_2022.txt")
    for question, first in (("安徽工业领域碳达峰和能源结构调整方面各有哪些任务", "钢铁"),
                            ("安徽能源结构调整和工业领域碳达峰方面各有哪些任务", "光伏")):
        answer = kb.ask(question, TODAY)
        assert answer.mode == "list" and len(answer.hits) == 5, question
        assert first in answer.hits[0].item.text, question


def test_a_notices_reporting_duty_is_an_item_found_in_spoken_words(kb):
    imported(kb, "task_list_2023.txt")
    answer = kb.ask("山西节能减排工作安排的进展多久报一次、报给谁", TODAY)
    text = render_text(answer)
    assert answer.confident and "每半年末月20日前" in text and "省发展改革委" in text
