"""How each bundled seed document is split into items, and what is extracted from them."""

from datetime import date

from conftest import items_containing


def only(kb, fragment):
    found = items_containing(kb, fragment)
    assert len(found) == 1, [i.text for i in found]
    return found[0]


def test_000_task_with_its_own_clause(kb):
    item = only(kb, "设立碳减排支持工具")
    assert item.text == "实施金融支持绿色低碳发展专项政策，设立碳减排支持工具。"
    assert item.departments.lead == ("人民银行",)
    assert item.departments.support == ("生态环境部",)
    first, second = item.deadlines
    assert (first.text, first.due, first.ongoing) == ("6月底前出台相关政策", date(2021, 6, 30), False)
    assert (second.text, second.due, second.ongoing) == ("年内持续推进", date(2021, 12, 31), True)
    doc = kb.store.get_document(item.doc_id)
    assert doc.doc_number == "国发〔2021〕6号" and doc.date == date(2021, 3, 26)


def test_000_clause_governs_every_sentence_of_its_paragraph(kb):
    for fragment in ("优化产业结构和能源结构", "在确保安全的前提下积极有序发展核电", "提升生态系统碳汇能力"):
        item = only(kb, fragment)
        # （国家发展改革委、…等按职责分工负责）names no lead: all 16 are responsible
        assert item.departments.lead == () and item.departments.support == ()
        assert item.departments.responsible[0] == "国家发展改革委" and len(item.departments.responsible) == 16
        assert item.deadline.text == "年内持续推进" and item.deadline.due == date(2021, 12, 31)


def test_000_clean_heating_target(kb):
    item = only(kb, "北方地区清洁取暖率")
    assert item.kind == "target"
    assert item.deadline.due == date(2021, 12, 31)
    assert item.departments.lead == ()
    assert item.departments.responsible[0] == "生态环境部" and item.departments.responsible[-1] == "中国气象局"
    assert [(t.metric, t.value, t.unit) for t in item.targets] == [("北方地区清洁取暖率", "70", "%")]


def test_002_sections_and_five_year_plan_periods(kb):
    item = only(kb, "石油消费“十五五”时期进入峰值平台期")
    assert item.section == "三是加快构建清洁低碳安全高效能源体系 › 9.严格控制化石能源消费"
    assert (item.deadline.start, item.deadline.due) == (date(2026, 1, 1), date(2030, 12, 31))
    wiki = items_containing(kb, "[[")
    assert wiki == []


def test_002_document_name_is_not_a_deadline(kb):
    item = only(kb, "制定2030年前碳排放达峰行动方案")
    assert [d.text for d in item.deadlines] == ["年内持续推进"]


def test_003_wechat_article_has_no_guessed_dates(kb):
    doc = next(d for d in kb.store.documents() if d.region == "浙江省")
    items = kb.store.items_of_document(doc.doc_id)
    assert doc.date is None and items
    for item in items:
        for d in item.deadlines:
            if d.due:  # only phrases that carry their own year, like “十四五”
                assert any(ch.isdigit() for ch in d.text) or "十" in d.text, d
    assert not items_containing(kb, "微信号")
    assert not items_containing(kb, "往期")


def test_004_targets_are_split_and_keep_departments_and_section(kb):
    item = only(kb, "煤炭消费比重降至75%以下")
    assert item.text == "全区煤炭消费比重降至75%以下"
    assert item.region == "内蒙古自治区"
    assert item.section == "三、实施节能减排重点工程 › (八)煤炭清洁高效利用工程"
    assert item.deadline.text == "到2025年" and item.deadline.due == date(2025, 12, 31)
    assert item.departments.responsible[0] == "自治区能源局" and not item.departments.lead
    assert "国家能源局" not in item.departments.all()
    assert [(t.metric, t.comparator, t.value, t.unit, t.qualifier, t.year) for t in item.targets] == [
        ("煤炭消费比重", "降至", "75", "%", "以下", 2025)
    ]
    sibling = only(kb, "非化石能源占能源消费比重达到18%左右")
    assert sibling.id != item.id and sibling.departments == item.departments


def test_004_news_intro_is_not_imported_twice(kb):
    assert len(items_containing(kb, "煤炭消费比重降至75%")) == 1
    assert len(items_containing(kb, "基本淘汰国三及以下排放标准的柴油汽车")) == 1


def test_004_agriculture_targets_are_separate_items(kb):
    for fragment in ("农村生活污水治理率达到32%左右", "秸秆综合利用率稳定在90%以上",
                     "主要农作物化肥、农药利用率均达到43%以上", "畜禽粪污综合利用率达到84%以上"):
        item = only(kb, fragment)
        assert item.kind == "target"
        assert item.section.endswith("(五)农牧业节能减排工程")
        assert item.departments.lead[0] == "自治区农牧厅"


def test_004_relative_limit_kept_as_text(kb):
    item = only(kb, "淘汰时限不超过3年")
    assert [(d.text, d.due) for d in item.deadlines] == [("时限不超过3年", None)]


def test_items_are_short_unrewritten_spans(kb):
    from knowledge.seed import bundled_documents

    sources = "".join(text for _, text, _ in bundled_documents())
    for item in kb.store.all_items():
        assert len(item.text) <= 300, item.text
        assert item.text in sources, item.text
