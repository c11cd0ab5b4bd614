"""Documents in styles the first unseen set lacked (a task table, meeting minutes, a county's plan, a
government work report, a progress bulletin): each form the extractor now reads, table-driven, and
questions about a place the region tables lack."""

from __future__ import annotations

from datetime import date

import pytest

from knowledge.departments import parse_clause
from knowledge.documents import parse_document, table_row_sentence, text_blocks
from knowledge.extract import extract_items, extract_sentence
from knowledge.importer import import_text, prepare
from knowledge.intents import understand
from knowledge.models import Departments
from knowledge.regions import unlisted_place

TABLE = """## 二、重点任务分工

| 序号 | 重点任务 | 牵头单位 | 配合单位 | 完成时限 |
|---|---|---|---|---|
| 1 | 开工建设海上风电二期项目，完成项目核准手续 | 市能源局 | 市自然资源规划局、市海洋渔业局 | 2023年6月底前 |
| 2 | 完成既有公共建筑节能改造面积30万平方米 | 市住房城乡建设局、市机关事务管理局 | 市财政局 | 年底前 |

表后的说明。
"""


def test_a_task_tables_rows_are_its_tasks_with_labelled_fields():
    blocks, _ = text_blocks(TABLE)
    texts = [b.text for b in blocks]
    assert texts[1] == ("开工建设海上风电二期项目，完成项目核准手续。（牵头单位：市能源局；配合单位：市自然资源规划局、"
                        "市海洋渔业局；完成时限：2023年6月底前）")
    assert texts[-1] == "表后的说明。" and len(texts) == 4  # heading, two rows, the note; no header or rule
    items = extract_items(blocks, region="嘉禾市", doc_year=2023)
    wind = next(i for i in items if i.text.startswith("开工建设海上风电"))
    assert wind.deadline.due == date(2023, 6, 30)
    assert wind.departments == Departments(lead=("市能源局",), support=("市自然资源规划局", "市海洋渔业局"))
    retrofit = next(i for i in items if "既有公共建筑" in i.text)
    assert retrofit.departments.lead == ("市住房城乡建设局", "市机关事务管理局")
    assert retrofit.deadline.due == date(2023, 12, 31)


@pytest.mark.parametrize(("header", "row", "sentence"), [
    (["重点任务", "责任单位"], ["推广屋顶光伏", "市住建局"], "推广屋顶光伏。（责任单位：市住建局）"),
    (["序号", "工作内容", "完成时间"], ["3", "出台细则；", ""], "出台细则。"),  # empty fields left out
    (["地区", "指标"], ["全市", "3%"], "全市：指标3%。"),  # a row label and its values
    (["序", "说明"], ["1", "见附件"], "1，见附件"),  # no task column, no label column: the cells as they are
])
def test_table_row_sentence(header, row, sentence):
    assert table_row_sentence(header, row) == sentence


@pytest.mark.parametrize(("clause", "departments"), [
    ("责任单位：国网青崖供电公司（牵头）、市能源局", Departments(lead=("国网青崖供电公司",), support=("市能源局",))),
    ("责任单位：市工信局(牵头)、市发展改革委、市财政局",
     Departments(lead=("市工信局",), support=("市发展改革委", "市财政局"))),
    ("由市发展改革委牵头，市工信局、市住建局配合，6月底前全部印发实施",
     Departments(lead=("市发展改革委",), support=("市工信局", "市住建局"))),
    ("请市住建局牵头，市机关事务管理局配合", Departments(lead=("市住建局",), support=("市机关事务管理局",))),
])
def test_roles_marked_in_a_list_or_written_into_the_sentence(clause, departments):
    assert parse_clause(clause, "青崖市").departments == departments


@pytest.mark.parametrize(("sentence", "departments"), [
    ("整治入海排污口120个，由市生态环境局、市海洋发展局按职责分工负责，年底前完成整治任务。",
     Departments(responsible=("市生态环境局", "市海洋发展局"))),
    ("推进项目建设，由企业负责，年底前完成。", Departments()),  # 企业 is no department
])
def test_responsibility_written_into_a_sentence(sentence, departments):
    (item,) = extract_sentence(sentence, region="云港市", doc_year=2024)
    assert item.departments == departments and item.deadline.due == date(2024, 12, 31)


def test_roles_written_into_a_sentence_govern_it_and_the_sentences_before():
    (plan,) = extract_sentence("出台云港市碳达峰专项方案，由市发展改革委牵头，市工信局配合，6月底前全部印发实施。",
                               region="云港市", doc_year=2024)
    assert plan.departments.lead == ("市发展改革委",) and plan.deadline.due == date(2024, 6, 30)
    items = extract_sentence("会议同意在新建公共建筑推广屋顶光伏。请市住建局牵头，市机关事务管理局配合，"
                             "于2025年9月30日前出台实施细则。", region="青崖市", doc_year=2025)
    solar = next(i for i in items if "屋顶光伏" in i.text)
    assert solar.departments == Departments(lead=("市住建局",), support=("市机关事务管理局",))
    assert solar.deadline.due == date(2025, 9, 30)


def test_a_government_work_report_is_dated_and_issued_by_its_subtitle():
    doc = parse_document("# 政府工作报告（节选）\n\n——2024年1月18日在云港市第十七届人民代表大会第四次会议上\n\n"
                         "云港市市长　林伟明\n\n各位代表：\n\n今年全市单位地区生产总值能耗下降3.2%。\n")
    assert (doc.title, doc.date, doc.issuer) == ("政府工作报告（节选）", date(2024, 1, 18), "云港市人民政府")
    assert not any("人民代表大会" in b.text for b in doc.blocks)


def test_meeting_minutes_are_a_document_kind():
    doc = parse_document("青崖市人民政府专题会议纪要\n\n〔2025〕14号\n\n会议研究了全市新能源发展。\n")
    assert doc.title == "青崖市人民政府专题会议纪要"


@pytest.mark.parametrize(("title", "issuer", "body", "place"), [
    ("石岭县碳达峰实施方案", "石岭县人民政府", "到2025年，全县非化石能源比重达到25%", "石岭县"),
    ("嘉禾市2023年节能降碳重点任务分工方案", "", "2023年，全市单位地区生产总值能耗下降3.5%", "嘉禾市"),
    ("城市更新行动方案", "", "全市推进城市更新", None),  # 城市 is no place
    ("超大城市治理意见", "", "推进超大城市治理", None),  # the text never speaks of it as its own
])
def test_a_place_the_tables_lack_is_the_documents_region_when_it_calls_it_its_own(title, issuer, body, place):
    assert unlisted_place(title, issuer, body) == place


def test_a_question_finds_a_place_the_tables_lack_by_its_documents(kb):
    import_text(kb.store, "石岭县碳达峰实施方案\n石政发〔2024〕5号\n"
                "一、推进农光互补基地建设。到2025年，全县光伏装机达到50万千瓦。\n牵头单位：县发改局\n完成时间：2025年底前\n"
                "石岭县人民政府\n2024年2月26日\n", "shiling.txt", actor="test")
    q = understand("石岭光伏装机目标是多少", date(2024, 3, 1), places=("石岭县",))
    assert q.region == "石岭县"
    answer = kb.ask("石岭光伏装机目标是多少", date(2024, 3, 1))
    assert answer.confident and answer.hits[0].item.region == "石岭县" and "50万千瓦" in answer.hits[0].item.text


@pytest.mark.parametrize(("text", "window"), [
    ("23年年底完成的任务", (date(2023, 12, 1), date(2023, 12, 31))),
    ("2023年年底前要完成的任务", (date(2023, 1, 1), date(2023, 12, 31))),
    ("24年上半年要完成的任务", (date(2024, 1, 1), date(2024, 6, 30))),
    ("年底前要完成哪些任务", (date(2026, 11, 30), date(2026, 12, 31))),
])
def test_a_year_written_short_or_before_the_year_end(text, window):
    assert understand(text, date(2026, 11, 30)).window == window


def test_a_county_plans_departments_get_the_county_prefix():
    doc, items = prepare("石岭县碳达峰实施方案\n一、加快风电场建设。\n牵头单位：发改局\n完成时间：2024年底前\n"
                         "全县推进。\n石岭县人民政府\n2024年2月26日\n", "shiling.txt")
    assert doc.region == "石岭县"
    assert next(i for i in items if "风电场" in i.text).departments.lead == ("县发改局",)


BULLETIN = """江北市发展和改革委员会关于重点任务推进情况的通报
二、重点任务进展情况
5．对年耗能1万吨标准煤以上的32家企业开展能源审计。由市工信局牵头，市发展改革委、市市场监管局参与。
进展情况：滞后。目前仅完成19家。
下步要求：2023年10月底前完成剩余企业能源审计。
6．创建市级以上绿色工厂8家。责任单位：市工信局。
进展情况：已完成。共有9家企业通过评审。
下步要求：无。
江北市发展和改革委员会
2023年10月9日
"""


def test_a_bulletins_progress_is_its_tasks_text_and_its_next_step_its_deadline():
    _, items = prepare(BULLETIN, "jiangbei.txt")
    audit = next(i for i in items if "能源审计" in i.text)
    assert "进展情况：滞后" in audit.text and audit.deadline.due == date(2023, 10, 31)
    assert audit.departments == Departments(lead=("市工信局",), support=("市发展改革委", "市市场监管局"))
    factories = next(i for i in items if "绿色工厂" in i.text)
    assert "已完成" in factories.text and factories.departments.responsible == ("市工信局",)
    assert not any(i.text.startswith(("进展情况", "下步要求")) for i in items)  # no tasks of their own
