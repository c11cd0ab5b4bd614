"""Junk never becomes knowledge, and inputs past the caps are refused clearly (nothing changed)."""

from __future__ import annotations

import copy
import io
from datetime import date

import pytest

from knowledge.curation import CurationError, add_items, edit_item, postpone
from knowledge.documents import DocumentError
from knowledge.formats import MAX_LINES, file_text
from knowledge.importer import MAX_ITEM_CHARS, MAX_ITEMS_PER_DOCUMENT, MAX_LINE_CHARS, import_text, prepare
from knowledge.store import KnowledgeStore
from knowledge.targets import find_targets

TODAY = date(2026, 11, 21)
DOC = """关于推进充电设施建设的通知
一、加快推进充电桩布局。完成全省充电桩布局规划。（省能源局牵头，2027年6月底前完成）
浙江省人民政府
2026年3月1日
"""


def state(store: KnowledgeStore) -> tuple:
    return (
        [(i.id, i.text, i.status, i.deadlines, i.progress) for i in store.all_items(("active", "retired", "deleted"))],
        store.db.execute("SELECT count(*) FROM changes").fetchone()[0],
        [d.doc_id for d in store.documents()],
    )


@pytest.mark.parametrize("sentence", ["。", "\u200b\u200b\u200b", "\u200b。\u200c，\ufeff", "……！？", "2030", " \u2060 "])
def test_add_without_words_is_refused(store, sentence):
    import_text(store, DOC, "notice.txt")
    before = state(store)
    with pytest.raises(CurationError, match="内容"):
        add_items(store, sentence, actor="admin:1")
    assert state(store) == before


@pytest.mark.parametrize("text", ["。", "\u200b", "\u3000。\u200d"])
def test_edit_to_no_words_is_refused(store, text):
    report = import_text(store, DOC, "notice.txt")
    before = state(store)
    with pytest.raises(CurationError, match="内容"):
        edit_item(store, report.added[0], text, actor="admin:1")
    assert state(store) == before


def test_added_text_loses_its_invisible_characters(store):
    items = add_items(store, "完成\u200b全省充电桩\u200d布局规划（省能源局负责，2027年底前完成）", actor="admin:1")
    assert items and all("\u200b" not in i.text and "\u200d" not in i.text for i in items)


@pytest.mark.parametrize("phrase", ["9999年12月31日", "2077-01-01", "2100年6月30日"])
def test_postpone_to_an_impossible_date_is_refused(store, phrase):
    report = import_text(store, DOC, "notice.txt")  # the document is dated 2026-03-01
    item_id = next(i for i in report.added if store.get_item(i).deadlines)
    before = state(store)
    with pytest.raises(CurationError, match="50 年"):
        postpone(store, item_id, phrase, actor="admin:1", today=TODAY)
    assert state(store) == before
    assert postpone(store, item_id, "2030年3月31日", actor="admin:1", today=TODAY).deadline.due == date(2030, 3, 31)


SCRIPT_ONLY = [
    "<script>\nvar target = '到2030年全省完成改造100万千瓦';\nfunction f() { return 1; }\n</script>\n"
    "<style>\np { color: red; }\n</style>",
    "<!DOCTYPE html><html><head><title>通知</title></head><body><noscript>请启用脚本，完成全省改造100万千瓦</noscript>"
    "<template><p>完成全省充电桩布局规划。（省能源局负责）</p></template></body></html>",
    "<script src='a.js'></script>\n<script>\nif (a < b) { document.write('<p>完成全省改造</p>'); }\n",  # never closed
]


@pytest.mark.parametrize("html", SCRIPT_ONLY)
def test_html_of_only_scripts_and_styles_is_refused(store, html):
    with pytest.raises(DocumentError, match="正文"):
        import_text(store, html, "page.html")
    assert state(store) == ([], 0, [])


def test_html_scripts_never_become_items():
    html = ("<html><body><script>var x = '加强监管达到100%';</script><style>.a{}</style>"
            "<p>完成全省充电桩布局规划。（省能源局负责，2027年6月底前完成）</p>"
            "<template><p>完成模板改造100万千瓦。</p></template></body></html>")
    _, items = prepare(html, "page.html")
    assert [i.text for i in items] == ["完成全省充电桩布局规划。"]


def test_punctuation_only_lines_never_become_items():
    _, items = prepare(DOC.replace("浙江省人民政府", "。。。\n\u200b\u200b\n——\n浙江省人民政府"), "notice.txt")
    assert items and all(any("\u4e00" <= c <= "\u9fff" for c in i.text) for i in items)


def test_too_many_items_is_refused():
    lines = "\n".join(f"{n}. 完成第{n}批充电桩改造{n}个。" for n in range(MAX_ITEMS_PER_DOCUMENT + 1))
    with pytest.raises(DocumentError, match=f"{MAX_ITEMS_PER_DOCUMENT} 条"):
        prepare("关于推进充电设施建设的通知\n" + lines, "many.txt")


def test_too_many_lines_is_refused_before_extraction():
    with pytest.raises(DocumentError, match="段落太多"):
        prepare("关于推进充电设施建设的通知\n" + "完成\n" * (MAX_LINES + 1), "lines.txt")


def test_docx_of_countless_tiny_paragraphs_is_refused():
    import docx

    document = docx.Document()
    body = document.element.body
    paragraph = document.add_paragraph("完成1%")._p
    for _ in range(MAX_LINES + 5):  # copies of one paragraph's XML: quick to build
        body.append(copy.deepcopy(paragraph))
    buf = io.BytesIO()
    document.save(buf)
    with pytest.raises(DocumentError, match="段落太多"):
        file_text(buf.getvalue(), "tiny.docx")


def test_docx_headings_still_found():
    import docx

    document = docx.Document()
    document.add_heading("一、总体要求", level=1)
    document.add_paragraph("完成全省充电桩布局规划。")
    buf = io.BytesIO()
    document.save(buf)
    assert file_text(buf.getvalue(), "a.docx") == "# 一、总体要求\n完成全省充电桩布局规划。"


def test_monster_line_and_unpunctuated_sentence_are_refused():
    with pytest.raises(DocumentError, match="一行长达"):
        prepare("关于推进充电设施建设的通知\n一、" + "推进" * MAX_LINE_CHARS, "long.txt")
    with pytest.raises(DocumentError, match="丢了标点"):
        prepare("关于推进充电设施建设的通知\n一、完成" + "推进工作" * (MAX_ITEM_CHARS // 4) + "。\n", "long.txt")


def test_targets_on_a_long_unpunctuated_line_are_still_found():
    """The linear scan finds what the old pattern found (speed: benchmarks/bench_long_lines.py)."""
    line = "推进工作" * 3000 + "全省煤炭消费比重降至75%以下；" + "提高" * 2000 + "，非化石能源比重提高到25%"
    found = [(t.metric, t.comparator, t.value, t.unit) for t in find_targets(line)]
    assert found[-1] == ("非化石能源比重", "提高到", "25", "%")
    assert found[0][1:] == ("降至", "75", "%") and found[0][0].endswith("全省煤炭消费比重")
