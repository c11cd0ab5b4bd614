"""Documents the knowledge base has never seen, in the styles the held-back check imports:
政策措施 with 6月30日前 / 到今年底 and a 国务院办公厅 signature, and a 行动方案 with 到2025年/到2030年 targets."""

from datetime import date
from pathlib import Path

from conftest import TODAY

from knowledge.answer import render_text
from knowledge.importer import DocumentOverrides, import_path

DATA = Path(__file__).parent / "data"


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
    assert "应急管理部" in coal.departments.support
    pricing = next(i for t, i in items.items() if "分时电价" in t and "指导意见" in t)
    assert pricing.deadline.due == date(2022, 9, 30)
    assert pricing.departments.lead == ("国家发展改革委",)


def test_measures_answers(kb):
    import_path(kb.store, DATA / "measures_2022.txt")
    kb.searcher.invalidate()
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
