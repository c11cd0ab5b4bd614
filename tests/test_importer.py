import sqlite3
from datetime import date
from pathlib import Path

import pytest

from knowledge.documents import DocumentError
from knowledge.importer import DocumentOverrides, import_path, import_text
from knowledge.normalize import sound_bigrams
from knowledge.store import KnowledgeStore

DOC_V1 = """关于推进充电设施建设的通知
一、加快推进充电桩布局。完成全省充电桩布局规划。（省能源局牵头，省发展改革委等按职责分工负责，2027年6月底前完成）
二、到2026年，全省公共充电桩达到5万个，换电站达到500座。（省能源局负责）
三、加强安全监管。（省市场监管局负责，年内持续推进）
浙江省人民政府
2026年3月1日
"""


def snapshot(store: KnowledgeStore):
    return (
        [(d.doc_id, d.fingerprint) for d in store.documents()],
        [(i.id, i.text, i.status) for i in store.all_items(("active", "retired", "deleted"))],
        *(store.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
          for table in ("item_texts", "item_departments", "item_deadlines", "changes")),
    )


def test_reimport_unchanged_adds_nothing(store):
    first = import_text(store, DOC_V1, "notice.txt")
    before = snapshot(store)
    again = import_text(store, DOC_V1, "notice.txt")
    assert first.status == "new" and len(first.added) == 5
    assert again.status == "unchanged" and again.added == []
    assert snapshot(store) == before


def test_document_metadata_from_signature_and_title(store):
    report = import_text(store, DOC_V1, "notice.txt")
    doc = store.get_document(report.doc_id)
    assert doc.title == "关于推进充电设施建设的通知"
    assert doc.date == date(2026, 3, 1) and doc.issuer == "浙江省人民政府"
    item = next(i for i in store.items_of_document(report.doc_id) if "布局规划" in i.text)
    assert item.departments.lead == ("省能源局",)
    assert item.deadline.due == date(2027, 6, 30)
    ongoing = next(i for i in store.items_of_document(report.doc_id) if "安全监管" in i.text)
    assert ongoing.deadline.due == date(2026, 12, 31) and ongoing.deadline.ongoing


def test_new_version_keeps_ids_updates_and_retires(store):
    v1 = import_text(store, DOC_V1, "notice.txt")
    ids = {i.text: i.id for i in store.items_of_document(v1.doc_id)}
    v2_text = DOC_V1.replace("达到5万个", "达到6万个").replace("三、加强安全监管。（省市场监管局负责，年内持续推进）\n", "")
    v2_text = v2_text.replace("二、", "二、开展充电设施示范。（省能源局负责）\n三、")
    v2 = import_text(store, v2_text, "notice.txt")
    assert v2.status == "updated"
    now = {i.text: i.id for i in store.items_of_document(v2.doc_id)}
    assert now["完成全省充电桩布局规划。"] == ids["完成全省充电桩布局规划。"]  # unchanged item keeps its id
    changed = next(i for i in now if "6万个" in i)
    assert now[changed] == ids["全省公共充电桩达到5万个"]  # a small change updates in place
    assert now[changed] in v2.updated
    assert ids["加强安全监管。"] in v2.retired
    assert store.get_item(ids["加强安全监管。"]).status == "retired"
    history = store.history(now[changed])
    assert history[-1]["before"]["text"] == "全省公共充电桩达到5万个"
    assert history[-1]["after"]["text"] == "全省公共充电桩达到6万个"
    assert any("开展充电设施示范" in t for t in now)


def test_admin_edit_is_not_overwritten(store):
    v1 = import_text(store, DOC_V1, "notice.txt")
    item = next(i for i in store.items_of_document(v1.doc_id) if "5万个" in i.text)
    with store.transaction():
        item.text = "全省公共充电桩达到5.5万个"
        item.edited = True
        store.update_item(item, actor="admin:1", action="edit")
    v2 = import_text(store, DOC_V1.replace("达到5万个", "达到6万个"), "notice.txt")
    assert store.get_item(item.id).text == "全省公共充电桩达到5.5万个"
    assert len(v2.conflicts) == 1 and f"#{item.id}" in v2.conflicts[0]
    assert "冲突" in v2.summary()


# A document's items are written table by table (items, departments, deadlines, then the search
# index): a failure at any of them leaves nothing of the document behind.
@pytest.mark.parametrize("table", ["items", "item_departments", "item_deadlines"])
def test_failure_midway_leaves_knowledge_base_as_it_was(store, table):
    import_text(store, DOC_V1, "notice.txt")
    before = snapshot(store)
    rows = store.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    store.db.execute(f"CREATE TEMP TRIGGER disk_full BEFORE INSERT ON {table} WHEN"
                     f" (SELECT count(*) FROM {table}) >= {rows + 2} BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        import_text(store, DOC_V1.replace("充电", "储能"), "other.txt")
    assert snapshot(store) == before


def test_failure_while_indexing_leaves_knowledge_base_as_it_was(store, monkeypatch):
    import_text(store, DOC_V1, "notice.txt")
    before = snapshot(store)
    calls = {"n": 0}

    def failing(text):
        calls["n"] += 1
        if calls["n"] == 3:  # the items, their departments and deadlines are written by now
            raise RuntimeError("disk full")
        return sound_bigrams(text)

    monkeypatch.setattr("knowledge.store.sound_bigrams", failing)
    with pytest.raises(RuntimeError):
        import_text(store, DOC_V1.replace("充电", "储能"), "other.txt")
    assert calls["n"] == 3
    assert snapshot(store) == before


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.txt", b""),
        ("binary.txt", bytes(range(256)) * 10),
        ("image.png", b"\x89PNG\r\n\x1a\n"),
        ("nothing.html", b"<div><img src='x.png'></div>"),
    ],
)
def test_junk_files_change_nothing(store, tmp_path: Path, name, content):
    import_text(store, DOC_V1, "notice.txt")
    before = snapshot(store)
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentError):
        import_path(store, path)
    assert snapshot(store) == before


def test_oversized_file_is_refused(store, tmp_path: Path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"a" * (5 * 1024 * 1024 + 1))
    with pytest.raises(DocumentError, match="太大"):
        import_path(store, path)


def test_date_override_dates_month_deadlines(store):
    text = "推进某项工作。（国家能源局牵头，6月底前完成）"
    undated = import_text(store, text, "a.txt")
    assert store.items_of_document(undated.doc_id)[0].deadline.due is None
    # the same text under another name is the same document: dated now, the item updated in place
    dated = import_text(store, text, "b.txt", DocumentOverrides(date=date(2023, 2, 1)))
    assert dated.doc_id == undated.doc_id and dated.updated == [store.items_of_document(dated.doc_id)[0].id]
    assert store.items_of_document(dated.doc_id)[0].deadline.due == date(2023, 6, 30)


def test_deleted_item_stays_deleted_on_reimport(store):
    v1 = import_text(store, DOC_V1, "notice.txt")
    item = next(i for i in store.items_of_document(v1.doc_id) if "安全监管" in i.text)
    with store.transaction():
        item.status = "deleted"
        store.update_item(item, actor="admin:1", action="delete")
    import_text(store, DOC_V1 + "\n四、新增一项工作。（省能源局负责）", "notice.txt")
    assert store.get_item(item.id).status == "deleted"
    assert not any("安全监管" in i.text for i in store.items_of_document(v1.doc_id))


def test_seed_runs_again_only_when_the_bundle_changes(store, monkeypatch):
    from knowledge import seed as seed_module

    assert len(seed_module.ensure_seeded(store)) == 5
    assert seed_module.ensure_seeded(store) == []
    monkeypatch.setattr(seed_module, "bundle_version", lambda: "changed")
    reports = seed_module.ensure_seeded(store)
    assert [r.status for r in reports] == ["unchanged"] * 5


def _index_rows_match_items(store: KnowledgeStore) -> None:
    """Every active item's search row, departments and deadlines are its own (written in batches)."""
    from knowledge.departments import department_core
    from knowledge.normalize import normalize

    for item in store.all_items():
        row = store.db.execute("SELECT norm_text FROM item_texts WHERE item_id = ?", [item.id]).fetchone()
        assert row == (normalize(item.text),)
        departments = store.db.execute("SELECT name, core, role FROM item_departments WHERE item_id = ? ORDER BY rowid",
                                       [item.id]).fetchall()
        assert departments == [(name, department_core(name), role) for role, names in
                               (("lead", item.departments.lead), ("support", item.departments.support),
                                ("responsible", item.departments.responsible)) for name in names]
        deadlines = store.db.execute("SELECT text, due FROM item_deadlines WHERE item_id = ? ORDER BY rowid",
                                     [item.id]).fetchall()
        assert deadlines == [(d.text, d.due and d.due.isoformat()) for d in item.deadlines]


def test_batched_writes_give_each_item_its_own_id_and_index_rows(store):
    from knowledge.curation import undo_last

    first = import_text(store, DOC_V1, "notice.txt", actor="admin:1")
    second = import_text(store, DOC_V1.replace("充电", "储能"), "other.txt", actor="admin:1")
    assert first.added == [1, 2, 3, 4, 5] and second.added == [6, 7, 8, 9, 10]
    undo_last(store, actor="admin:1")  # the second import's items go
    third = import_text(store, DOC_V1.replace("充电", "氢能"), "third.txt", actor="admin:1")
    assert third.added == [6, 7, 8, 9, 10]  # as SQLite gives them: one past the largest id
    v2 = import_text(store, DOC_V1.replace("加强安全监管。", "加强安全监管。开展充电设施示范。"), "notice.txt")
    assert v2.added == [11]
    assert sorted(i.id for i in store.all_items()) == list(range(1, 12))
    _index_rows_match_items(store)
    assert store.db.execute("SELECT count(*) FROM item_texts").fetchone()[0] == 11


def test_many_files_are_extracted_in_a_worker_process_with_the_same_result(tmp_path, monkeypatch):
    """A directory of many files is read and extracted a few files ahead in another process while
    each is written: the knowledge base, the reports and the errors are those of one at a time."""
    import knowledge.importer as importer
    from knowledge.base import KnowledgeBase, SkippedFile

    folder = tmp_path / "docs"
    folder.mkdir()
    for n, fuel in enumerate(("充电", "储能", "氢能", "光伏")):
        (folder / f"{n}.txt").write_text(DOC_V1.replace("充电", fuel), encoding="utf-8")
    (folder / "4.txt").write_text("", encoding="utf-8")  # refused: empty
    (folder / "5.doc").write_bytes(b"old word")  # skipped: unsupported
    (folder / "6.txt").write_text(DOC_V1, encoding="utf-8")  # the same as 0.txt: unchanged
    results = {}
    original = importer.prepared_ahead
    for ahead_from in (1000, 2):  # one at a time; then in a worker process
        monkeypatch.setattr(importer, "AHEAD_FROM", ahead_from)
        started: list[int] = []
        monkeypatch.setattr(importer, "prepared_ahead",
                            lambda *a, _started=started, **k: _started.append(1) or original(*a, **k))
        kb = KnowledgeBase(KnowledgeStore(tmp_path / f"kb{ahead_from}.sqlite"))
        reports = [(p.name, r.summary() if isinstance(r, importer.ImportReport)
                    else r.reason if isinstance(r, SkippedFile) else type(r).__name__)
                   for p, r in kb.import_paths([folder], DocumentOverrides())]
        assert bool(started) == (ahead_from == 2)
        results[ahead_from] = (reports, snapshot(kb.store))
        kb.close()
    assert results[1000] == results[2]
    reports, (documents, items, *_) = results[2]
    kinds = [kind for _, kind in reports]
    assert kinds[4] == "DocumentError" and kinds[5].startswith("不支持 .doc")
    assert kinds[6] == "《关于推进充电设施建设的通知》没有变化，未做任何修改（5 条）。"
    assert len(documents) == 4 and len(items) == 20


def test_import_texts_gives_each_document_its_report_or_error(store):
    from knowledge.importer import ImportReport, import_texts

    documents = [(DOC_V1, "a.txt", None), ("", "empty.txt", None), (DOC_V1.replace("充电", "储能"), "b.txt", None)]
    results = list(import_texts(store, documents, actor="admin:1"))
    assert isinstance(results[1], DocumentError)
    assert [r.added for r in (results[0], results[2]) if isinstance(r, ImportReport)] == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]
    _index_rows_match_items(store)

