"""Follow-ups answered from the last question and answer (knowledge/dialogue.py)."""

from __future__ import annotations

from datetime import date

import pytest

from knowledge.answer import render_text
from knowledge.dialogue import Context, asks_about_same_item, converse, reask, regional_department
from knowledge.intents import understand

TODAY = date(2021, 6, 10)


@pytest.mark.parametrize(("national", "regional"), [
    ("生态环境部", "生态环境厅"), ("工业和信息化部", "工业和信息化厅"), ("国家发展改革委", "发展改革委"),
    ("发改委", "发展改革委"), ("国家能源局", "能源局"), ("国务院国资委", "国资委"), ("市场监管总局", "市场监管局"),
    ("人民银行", None), ("中国气象局", None),
])
def test_regional_department(national, regional):
    assert regional_department(national) == regional


@pytest.mark.parametrize(("text", "same"), [
    ("谁负责？", True), ("截止时间呢", True), ("什么时候完成", True), ("还有谁参与", True), ("目标是多少", True),
    ("具体内容呢", True), ("牵头单位是哪个", True), ("截止到什么时候", True),
    ("那内蒙古呢？", False), ("那非化石能源呢", False), ("光伏发电有什么目标", False), ("有哪些任务", False),
])
def test_what_asks_about_the_same_item(text, same):
    assert asks_about_same_item(text, understand(text, TODAY)) is same


def test_reask_swaps_region_year_department_or_topic():
    known = {"生态环境部": "生态环境", "人民银行": "人民银行", "国家发展改革委": "发展改革委"}
    assert reask("生态环境部牵头的任务", "内蒙古", known, TODAY) == "内蒙古生态环境厅牵头的任务"
    assert reask("北方地区清洁取暖率目标是多少", "内蒙古", known, TODAY) == "内蒙古北方地区清洁取暖率目标是多少"
    assert reask("内蒙古煤炭消费比重要降到多少", "浙江", known, TODAY) == "浙江煤炭消费比重要降到多少"
    assert reask("浙江2025年光伏装机目标", "2030年", known, TODAY) == "浙江2030年光伏装机目标"
    assert reask("全国十四五时期煤炭消费怎么控制", "十五五", known, TODAY) == "全国十五五煤炭消费怎么控制"
    assert reask("2025年十四五规划的能耗目标", "十五五", known, TODAY) == "2025年十五五的能耗目标"  # (the year stays)
    assert reask("煤炭消费怎么控制", "十五五时期", known, TODAY) == "十五五时期煤炭消费怎么控制"
    assert reask("内蒙古煤炭消费比重要降到多少", "非化石能源", known, TODAY) == "内蒙古非化石能源目标是多少"
    assert reask("碳减排支持工具什么时候出台", "绿色信贷", known, TODAY) == "绿色信贷什么时候完成"


def talk(kb, *turns):
    context = Context()
    return [converse(kb, context, turn, TODAY)[0] for turn in turns]


def test_a_chain_of_aspects_stays_on_the_first_answers_item(kb):
    first, who, when = talk(kb, "北方地区清洁取暖率目标是多少", "谁负责？", "截止时间呢")
    item = first.hits[0].item
    assert "清洁取暖率" in item.text
    assert who.hits[0].item.id == item.id and when.hits[0].item.id == item.id
    assert who.wants_who and "中国气象局" in render_text(who)  # asked who: every department
    assert "2021-12-31" in render_text(when)


def test_a_plan_period_follow_up_asks_the_same_of_that_period(kb):
    first, later = talk(kb, "全国层面十四五时期煤炭消费怎么控制", "那十五五呢")
    assert "十四五" in first.hits[0].item.text
    assert "十五五" in later.hits[0].item.text and "煤炭" in later.hits[0].item.text


def test_a_region_follow_up_maps_national_departments_to_the_regions_own(kb):
    _, regional = talk(kb, "生态环境部牵头的任务", "那内蒙古呢？")
    assert regional.mode == "list" and regional.hits
    assert all("自治区生态环境厅" in h.item.departments.all() for h in regional.hits)


def test_another_topic_in_the_same_document(kb):
    coal, other = talk(kb, "内蒙古煤炭消费比重要降到多少", "那非化石能源呢")
    assert "非化石能源" in other.hits[0].item.text and other.hits[0].item.doc_id == coal.hits[0].item.doc_id


def test_a_new_question_is_not_a_follow_up(kb):
    _, fresh = talk(kb, "设立碳减排支持工具是什么任务", "北方地区清洁取暖率目标是多少")
    assert "清洁取暖率" in fresh.hits[0].item.text
    (alone,) = talk(kb, "谁负责？")  # nothing before it: asked as it is
    assert alone.mode == "not_found"


def test_another_region_leaves_the_document_cited_before():
    known = {"人民银行": "人民银行"}
    assert reask("国发6号文里单位国内生产总值能耗降多少", "内蒙古", known, TODAY) == "内蒙古单位国内生产总值能耗降多少"


def test_whether_a_department_takes_part_is_asked_of_the_last_item(kb):
    first, check = talk(kb, "内蒙古遏制两高项目是谁牵头？", "人民银行也参与吗")
    assert check.hits[0].item.id == first.hits[0].item.id and check.wants_who
    assert "人民银行呼和浩特中心支行" in render_text(check)
    _, listed = talk(kb, "内蒙古遏制两高项目是谁牵头？", "人民银行负责哪些任务")  # a question of its own
    assert listed.mode == "list"


def test_the_goals_of_a_task_asked_after_it_are_its_paragraphs_targets(kb):
    task, goals = talk(kb, "内蒙古环境基础设施水平提升工程主要干什么？", "具体目标是多少")
    assert task.mode == "item" and not task.hits[0].item.targets
    assert goals.mode == "list" and goals.hits and all(h.item.targets for h in goals.hits)
    assert {"90%", "65%"} <= {f"{t.value}{t.unit}" for h in goals.hits for t in h.item.targets}


def test_who_after_a_list_of_one_paragraphs_items_names_all_its_departments(kb):
    listed, who = talk(kb, "内蒙古农牧业节能减排工程到2025年有什么目标？", "谁牵头？")
    assert listed.mode == "list" and len({h.item.departments for h in listed.hits}) == 1
    assert who.mode == "item" and who.wants_who and "自治区乡村振兴局" in render_text(who)


def test_the_other_goal_of_the_item_just_answered(kb):
    first, other = talk(kb, "内蒙古氨氮排放总量要降多少", "另一个指标呢")
    assert other.mode == "item" and other.hits[0].item.id == first.hits[0].item.id  # its sentence has them all
    assert len(first.hits[0].item.targets) >= 2


def test_words_that_turn_to_a_new_question_are_not_part_of_it():
    q = understand("先不说内蒙古了，全国新能源汽车充电设施谁负责", TODAY)
    assert q.region == "国家" and "内蒙古" not in q.core
    assert "换个问题" not in understand("换个问题，内蒙古节约型机关比例要多少", TODAY).core
