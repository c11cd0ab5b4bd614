"""Forms the third blind set (tests/data/unseen3) found unread, each table-driven with documents of our
own: a tab-separated task list, a red header over a title on three lines, a transcript's labelled
head, a place's government as its issuer, 次年 and full-width digits, roles in a label's value, roles
written with the sentence's subject, and a target's yearly values under its heading."""

from __future__ import annotations

from datetime import date

import pytest

from knowledge.deadlines import find_deadlines
from knowledge.departments import parse_clause
from knowledge.documents import parse_document, text_blocks
from knowledge.extract import extract_items, extract_sentence
from knowledge.models import Departments
from knowledge.regions import unlisted_place

TAB_TABLE = ("附件\n\n秦溪县2026年节水行动任务表\n\n"
             "序号\t任务内容\t牵头部门\t协同部门\t时间节点\n"
             "1\t完成县城老旧供水管网改造30公里\t县水利局\t县住建局、县财政局\t2026年9月底前\n"
             "\n— 2 —\n\n续表\n\n"
             "序号\t任务内容\t牵头部门\t协同部门\t时间节点\n"
             "2\t建成再生水利用工程2处\t县住建局\t县发展改革局\t次年一季度\n")


def test_a_tab_separated_task_list_is_read_as_a_table_across_its_pages():
    blocks, _ = text_blocks(TAB_TABLE)
    texts = [b.text for b in blocks]
    assert "完成县城老旧供水管网改造30公里。（牵头部门：县水利局；协同部门：县住建局、县财政局；时间节点：2026年9月底前）" in texts
    assert not any(t.startswith("序号") for t in texts)  # the header, on each page, is no task
    items = extract_items(blocks, region="秦溪县", doc_year=2026)
    pipes = next(i for i in items if "供水管网" in i.text)
    assert pipes.departments == Departments(lead=("县水利局",), support=("县住建局", "县财政局"))
    assert pipes.deadline.due == date(2026, 9, 30)
    water = next(i for i in items if "再生水" in i.text)
    assert water.departments.lead == ("县住建局",) and water.deadline.due == date(2027, 3, 31)  # 次年: the next year


def test_a_red_header_and_a_title_on_three_lines():
    doc = parse_document("秦溪县人民政府办公室文件\n\n秦政办发〔2026〕3号\n\n秦溪县人民政府办公室\n关于印发秦溪县2026年节水行动\n"
                         "任务表的通知\n\n各乡镇人民政府，县政府各部门：\n　　现将任务表印发给你们，请认真组织实施。\n"
                         "完成县城老旧供水管网改造30公里。（县水利局负责，9月底前）\n")
    assert doc.title == "秦溪县人民政府办公室关于印发秦溪县2026年节水行动任务表的通知"
    assert (doc.issuer, doc.doc_number) == ("秦溪县人民政府办公室", "秦政办发〔2026〕3号")
    assert not any("文件" in b.text or "关于印发" in b.text for b in doc.blocks)


def test_a_transcripts_labelled_head_gives_its_issuer_and_day():
    doc = parse_document("《秦溪县节水行动方案》新闻发布会实录\n\n发布单位：秦溪县人民政府新闻办公室\n时间：2026年4月2日上午9:30\n"
                         "地点：县政府新闻发布厅\n\n主持人：各位记者朋友，上午好！\n")
    assert doc.title == "《秦溪县节水行动方案》新闻发布会实录"
    assert (doc.issuer, doc.date) == ("秦溪县人民政府新闻办公室", date(2026, 4, 2))
    assert [b.text for b in doc.blocks] == ["主持人：各位记者朋友，上午好！"]


@pytest.mark.parametrize(("title", "issuer", "body", "place"), [
    ("关于印发节水行动任务表的通知", "秦溪县人民政府办公室", "各乡镇完成改造", "秦溪县"),  # its government issues it
    ("澜沧省人民政府关于节水的意见", "澜沧省人民政府", "推动全省节水", "澜沧省"),
    ("关于印发工作要点的通知", "澜沧省水务集团有限公司", "集团公司推进节水", None),  # a company is not the place
])
def test_a_place_whose_government_issues_the_document_is_its_region(title, issuer, body, place):
    assert unlisted_place(title, issuer, body) == place


@pytest.mark.parametrize(("text", "due"), [
    ("次年一季度完成", date(2027, 3, 31)),
    ("翌年6月底前出台", date(2027, 6, 30)),
])
def test_the_year_after_the_documents(text, due):
    assert find_deadlines(text, 2026)[0].due == due


def test_full_width_digits_are_digits():
    doc = parse_document("秦溪县节水方案\n\n完成管网改造。（县水利局负责，２０２６年９月底前）\n")
    assert doc.blocks[-1].text == "完成管网改造。（县水利局负责，2026年9月底前）"


@pytest.mark.parametrize(("clause", "departments"), [
    ("责任部门：安全环保部牵头，人力资源部配合", Departments(lead=("安全环保部",), support=("人力资源部",))),
    ("协同部门：县住建局；牵头部门：县水利局", Departments(lead=("县水利局",), support=("县住建局",))),
    ("由县水利局牵头推进，县供水公司配合做好管网接入", Departments(lead=("县水利局",), support=("县供水公司",))),
])
def test_roles_in_a_labels_value_and_with_what_they_do(clause, departments):
    assert parse_clause(clause).departments == departments


@pytest.mark.parametrize(("sentence", "departments", "due"), [
    ("县统计局牵头建立用水统计季报制度，县水利局配合，相关制度于2026年9月底前印发实施。",
     Departments(lead=("县统计局",), support=("县水利局",)), date(2026, 9, 30)),
    ("县水利局会同县财政局、县审计局组成核查组，于2026年4月底前完成现场核查。",
     Departments(responsible=("县水利局", "县财政局", "县审计局")), date(2026, 4, 30)),  # 会同: no lead said
    ("县发展改革局将于10月底前出台阶梯水价方案，适当拉大价差。",
     Departments(responsible=("县发展改革局",)), date(2026, 10, 31)),
    ("管网安全管理由县应急管理局牵头，县水利局配合，年内完成隐患排查全覆盖。",
     Departments(lead=("县应急管理局",), support=("县水利局",)), date(2026, 12, 31)),
    ("企业将于10月底前完成改造。", Departments(), date(2026, 10, 31)),  # 企业 is no department
])
def test_roles_said_with_the_sentences_subject(sentence, departments, due):
    item = extract_sentence(sentence, region="秦溪县", doc_year=2026)[0]
    assert item.departments == departments and item.deadline.due == due


def test_a_targets_yearly_values_under_its_heading_are_its_targets_with_one_responsibility():
    blocks, _ = text_blocks("三、万元GDP用水量\n2026年：下降3%\n2027年：下降5%\n责任单位：县水利局（牵头）、县统计局\n")
    items = extract_items(blocks, region="秦溪县", doc_year=2026)
    assert [(i.deadline.due.year, i.targets[0].metric, i.targets[0].value) for i in items] == [
        (2026, "万元GDP用水量", "3"), (2027, "万元GDP用水量", "5")]
    assert all(i.departments == Departments(lead=("县水利局",), support=("县统计局",)) for i in items)


def test_a_table_of_values_by_place_gives_each_row_its_columns_names():
    blocks, _ = text_blocks("附件2\n\n区县\t2026年用水总量控制目标\t万元GDP用水量降幅\n城关镇\t1.2亿立方米\t3%\n"
                            "河口镇\t0.8亿立方米\t2.5%\n")
    assert [b.text for b in blocks][1:] == ["城关镇：2026年用水总量控制目标1.2亿立方米，万元GDP用水量降幅3%。",
                                            "河口镇：2026年用水总量控制目标0.8亿立方米，万元GDP用水量降幅2.5%。"]


def test_a_later_years_value_without_its_metric_takes_the_one_before():
    items = extract_sentence("到2025年底，全市新型储能装机规模达到50万千瓦；到2027年底，达到150万千瓦。", doc_year=2025)
    assert [(t.metric, t.value, t.year) for i in items for t in i.targets] == [
        ("新型储能装机规模", "50", 2025), ("新型储能装机规模", "150", 2027)]


def test_a_sentence_with_its_roles_written_in_keeps_its_own_time_first():
    (item,) = extract_sentence("产业园一期计划2026年6月底前建成，由市工业和信息化局牵头，高新区管委会配合，"
                               "到2027年产值突破200亿元。", region="栖梧市", doc_year=2025)
    assert item.deadline.due == date(2026, 6, 30) and item.departments.lead == ("市工业和信息化局",)
