"""A document is the same document whatever its file is called; an import is one change /undo reverts."""

from __future__ import annotations

import pytest

from knowledge.curation import CurationError, edit_item, undo_last
from knowledge.importer import import_text
from knowledge.store import KnowledgeStore

V1 = """关于推进充电设施建设的通知
浙发改能源〔2026〕12号
一、加快推进充电桩布局。完成全省充电桩布局规划。（省能源局牵头，省发展改革委等按职责分工负责，2027年6月底前完成）
二、到2026年，全省公共充电桩达到5万个，换电站达到500座。（省能源局负责）
三、加强安全监管。（省市场监管局负责，年内持续推进）
浙江省人民政府
2026年3月1日
"""
NO_NUMBER = V1.replace("浙发改能源〔2026〕12号\n", "")
OTHER = """关于加快氢能产业发展的通知
一、建设加氢站20座。（省能源局负责，2027年底前完成）
二、推广燃料电池汽车1000辆。（省经信厅负责）
浙江省经济和信息化厅
2026年5月8日
"""


def tables(store: KnowledgeStore) -> tuple:
    """Everything an import writes, except the change log (which keeps the import and its undo)."""
    q = lambda sql: sorted(map(tuple, store.db.execute(sql).fetchall()), key=repr)  # noqa: E731
    columns = [c for c in store.db["items"].columns_dict if c != "updated_at"]  # when it was last written
    return (q("SELECT * FROM documents"), q(f"SELECT {', '.join(columns)} FROM items"), q("SELECT * FROM item_texts"),
            q("SELECT * FROM item_departments"), q("SELECT * FROM item_deadlines"))


def active(store: KnowledgeStore) -> list[tuple[str, str]]:
    return sorted((i.doc_id, i.text) for i in store.all_items())


# (first file, its text, second file, its text, same document?)
IDENTITY = [
    ("notice.txt", V1, "浙发改能源2026-12.docx.txt", V1.replace("关于推进充电设施建设的通知", "关于推进充电设施建设的补充通知"), True),
    ("a.txt", NO_NUMBER, "b.md", NO_NUMBER.replace("换电站达到500座", "换电站达到600座"), True),  # title+issuer+date
    ("a.txt", NO_NUMBER.replace("浙江省人民政府\n2026年3月1日\n", ""),
     "copy.txt", "\u200b" + NO_NUMBER.replace("浙江省人民政府\n2026年3月1日\n", "").replace("\n", " \r\n\r\n")
     .replace("2026", "２０２６").replace("全省", "全\u200b省").replace("，", ","),
     True),  # the same text, spaced, widened and with invisible characters, no number, no date
    ("a.txt", V1, "b.txt", OTHER, False),
    ("a.txt", NO_NUMBER, "b.txt", NO_NUMBER.replace("2026年3月1日", "2027年3月1日").replace("5万个", "8万个"), False),
]


@pytest.mark.parametrize(("first_name", "first", "second_name", "second", "same"), IDENTITY)
def test_document_identity_whatever_the_file_name(store, first_name, first, second_name, second, same):
    one = import_text(store, first, first_name)
    count = len(store.items_of_document(one.doc_id))
    two = import_text(store, second, second_name)
    assert (two.doc_id == one.doc_id) == same
    assert len(store.documents()) == (1 if same else 2)
    if same:
        assert two.status in ("updated", "unchanged") and two.added == []
        assert len(store.items_of_document(one.doc_id)) == count  # not doubled
        assert import_text(store, second, second_name).status == "unchanged"


def test_a_changed_deadline_counts_as_an_update(store):
    one = import_text(store, V1, "notice.txt")
    two = import_text(store, V1.replace("2027年6月底前完成", "2028年6月底前完成"), "notice-v2.txt")
    assert two.doc_id == one.doc_id and two.status == "updated"
    item = next(i for i in store.items_of_document(one.doc_id) if "布局规划" in i.text)
    assert item.deadline.due.year == 2028
    assert item.id in two.updated and two.added == [] and two.retired == []
    assert "更新 2 条" in two.summary()  # the clause governs both items of the paragraph


def test_undo_a_new_documents_import(store):
    import_text(store, OTHER, "other.txt", actor="admin:1")
    before = tables(store)
    report = import_text(store, V1, "notice.txt", actor="admin:1")
    result = undo_last(store, actor="admin:1")
    assert result.item is None and result.action == "import_document"
    assert f"移除 {len(report.added)} 条" in result.summary
    assert tables(store) == before
    assert store.get_document(report.doc_id) is None
    undo = store.db.execute("SELECT after FROM changes WHERE action = 'undo' ORDER BY id DESC").fetchone()[0]
    assert '"action": "import_document"' in undo
    again = import_text(store, V1, "notice.txt", actor="admin:1")  # imports as new again
    assert again.status == "new" and len(again.added) == len(report.added)


def test_undo_a_new_version(store):
    import_text(store, V1, "notice.txt", actor="admin:1")
    before = tables(store)
    v2 = (V1.replace("达到5万个", "达到6万个").replace("三、加强安全监管。（省市场监管局负责，年内持续推进）\n", "")
          .replace("二、", "二、开展充电设施示范。（省能源局负责）\n三、").replace("2027年6月底前", "2028年6月底前"))
    report = import_text(store, v2, "notice.txt", actor="admin:1")
    assert report.added and report.updated and report.retired  # new, changed, retired and moved items
    result = undo_last(store, actor="admin:1")
    assert result.action == "update_document" and "恢复" in result.summary
    assert tables(store) == before
    again = import_text(store, v2, "notice.txt", actor="admin:1")  # the new version is new again
    assert again.status == "updated" and len(again.added) == len(report.added)
    assert len(again.updated) == len(report.updated) and len(again.retired) == len(report.retired)


def test_undo_of_an_import_changed_since_is_refused(store):
    report = import_text(store, V1, "notice.txt", actor="admin:1")
    edit_item(store, report.added[0], "加快推进全省充电桩布局。", actor="admin:2")
    before = tables(store)
    with pytest.raises(CurationError, match="之后"):
        undo_last(store, actor="admin:1")
    assert tables(store) == before
    undo_last(store, actor="admin:2")  # once the other admin's edit is undone, the import can be
    assert undo_last(store, actor="admin:1").action == "import_document" and active(store) == []


def test_undo_of_an_import_is_one_transaction(store, monkeypatch):
    import_text(store, V1, "notice.txt", actor="admin:1")
    import_text(store, V1.replace("达到5万个", "达到6万个"), "notice.txt", actor="admin:1")
    before = tables(store)
    changes = store.db.execute("SELECT count(*) FROM changes").fetchone()[0]

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "restore_document_row", fail)
    with pytest.raises(RuntimeError):
        undo_last(store, actor="admin:1")
    assert tables(store) == before
    assert store.db.execute("SELECT count(*) FROM changes").fetchone()[0] == changes


def test_undo_order_item_changes_then_import(store):
    report = import_text(store, V1, "notice.txt", actor="admin:1")
    edit_item(store, report.added[0], "加快推进全省充电桩布局。", actor="admin:1")
    assert undo_last(store, actor="admin:1").action == "edit"
    assert undo_last(store, actor="admin:1").action == "import_document"
    with pytest.raises(CurationError, match="没有可以撤销"):
        undo_last(store, actor="admin:1")
