"""What a question looks up is kept beside the index by every write (migration 011): each token's item
count, the number of active items, and the region of each department and deadline row. After any mix
of writes they equal what counting the index and the items afresh gives."""

from __future__ import annotations

from datetime import date

import pytest
from index_checks import assert_postings_are_the_rows

from knowledge.curation import CurationError, add_items, delete_item, edit_item, mark_done, postpone, undo_last
from knowledge.importer import import_text
from knowledge.seed import seed
from knowledge.store import KnowledgeStore

PLAN = """关于推进充电设施建设的通知
浙发改能源〔2026〕12号
一、加快推进充电桩布局。完成全省充电桩布局规划。（省能源局牵头，省发展改革委等按职责分工负责，2027年6月底前完成）
二、到2026年，全省公共充电桩达到5万个，PM2.5浓度下降3.5%。（省能源局负责）
三、加强安全监管。（省市场监管局负责，年内持续推进）
浙江省人民政府
2026年3月1日
"""
PLAN_V2 = PLAN.replace("5万个", "6万个").replace("三、加强安全监管。（省市场监管局负责，年内持续推进）\n", "")


def assert_lookups_exact(store: KnowledgeStore) -> None:
    db = store.db
    assert_postings_are_the_rows(store)  # (and the token counts those of the postings)
    active = db.execute("SELECT count(*) FROM items WHERE status = 'active'").fetchone()[0]
    assert store.count_items() == active
    for table in ("item_departments", "item_deadlines"):
        wrong = db.execute(f"SELECT count(*) FROM {table} t JOIN items i ON i.id = t.item_id"
                           " WHERE t.region IS NOT coalesce(i.region, '国家')").fetchone()[0]
        assert wrong == 0, table


@pytest.fixture
def store(tmp_path) -> KnowledgeStore:
    s = KnowledgeStore(tmp_path / "kb.sqlite")
    yield s
    s.close()


def test_counts_follow_an_import_and_its_undo(store):
    seed(store)
    assert_lookups_exact(store)
    doc_id = import_text(store, PLAN, "plan.txt", actor="admin:1").doc_id
    assert_lookups_exact(store)
    undo_last(store, actor="admin:1")  # its items removed
    assert not store.items_of_document(doc_id, ("active", "deleted"))
    assert_lookups_exact(store)


def test_counts_follow_a_reimport_and_its_undo(store):
    seed(store)
    import_text(store, PLAN, "plan.txt", actor="admin:1")
    import_text(store, PLAN_V2, "plan-v2.txt", actor="admin:1")  # the same document, updated in place
    assert_lookups_exact(store)
    undo_last(store, actor="admin:1")
    assert_lookups_exact(store)


def test_counts_follow_item_edits(store):
    seed(store)
    (added,) = add_items(store, "2027年底前建成加氢站30座（省能源局负责）", actor="admin:1", region="浙江省")
    assert_lookups_exact(store)
    assert added.id is not None
    edit_item(store, added.id, "2028年底前建成加氢站40座（省发展改革委负责）", actor="admin:1")
    postpone(store, added.id, "2029年6月底前", actor="admin:1", today=date(2026, 11, 30))
    mark_done(store, added.id, actor="admin:1")
    assert_lookups_exact(store)
    delete_item(store, added.id, actor="admin:1")
    assert_lookups_exact(store)
    undo_last(store, actor="admin:1")
    assert_lookups_exact(store)


def test_a_failed_write_changes_no_count(store):
    seed(store)
    before = store.db.execute("SELECT term, items FROM token_counts ORDER BY term").fetchall()
    with pytest.raises(RuntimeError), store.transaction():
        import_text(store, PLAN, "plan.txt", actor="admin:1")
        raise RuntimeError("disk full")
    assert store.db.execute("SELECT term, items FROM token_counts ORDER BY term").fetchall() == before
    # a savepoint rolled back inside a write that goes on: its tokens are not counted either
    with store.transaction():
        with pytest.raises(CurationError), store.transaction():
            import_text(store, PLAN, "plan.txt", actor="admin:1")
            raise CurationError("changed my mind")
        add_items(store, "2027年底前建成加氢站30座（省能源局负责）", actor="admin:1", region="浙江省")
    assert_lookups_exact(store)


def test_a_province_list_is_found_by_its_own_region(store):
    import_text(store, PLAN, "plan.txt", actor="admin:1")
    plan = store.db.execute(
        "EXPLAIN QUERY PLAN SELECT item_id FROM item_departments WHERE name IN ('省能源局') AND region IN ('浙江省')"
    ).fetchall()
    assert any("region" in str(row[-1]) for row in plan)
    leading = sorted(i.id for i in store.all_items() if "省能源局" in i.departments.all())
    ids, more = store.filter_items(exact_departments={"省能源局"}, regions=("浙江省",))
    assert sorted(ids) == leading and len(leading) >= 2 and not more
    assert store.filter_items(exact_departments={"省能源局"}, regions=("江苏省",)) == ([], False)
    due_2027 = sorted(i.id for i in store.all_items() if any(d.due and d.due.year == 2027 for d in i.deadlines))
    ids, _ = store.filter_items(due_from=date(2027, 1, 1), due_to=date(2027, 12, 31), regions=("浙江省",),
                                soonest_first=True)
    assert sorted(ids) == due_2027 and due_2027
    assert store.filter_items(due_from=date(2027, 1, 1), due_to=date(2027, 12, 31), regions=("江苏省",),
                              soonest_first=True) == ([], False)


QUESTION_KINDS = (
    "碳减排支持工具什么时候出台？谁牵头？", "生态环境部牵头的任务有哪些", "内蒙古自治区生态环境厅负责哪些任务",
    "12月底前要完成哪些任务", "今年要完成哪些任务", "内蒙古下半年要完成哪些任务", "即将到期的任务",
    "国发〔2021〕23号文是哪天发的", "有哪些文件", "非化石能源占比目标是多少", "全年持续推进的工作有哪些",
)


def test_no_question_makes_sqlite_build_an_index(tmp_path):
    """Every query a question runs is served by an index the schema has: SQLite never builds an
    automatic index per call (what made filtered lists slow on a large base)."""
    from knowledge.base import KnowledgeBase

    kb = KnowledgeBase.open(str(tmp_path / "kb.sqlite"))
    statements: set[str] = set()
    kb.store._database().conn.set_trace_callback(
        lambda sql: statements.add(sql) if sql.lstrip().upper().startswith(("SELECT", "WITH")) else None)
    for question in QUESTION_KINDS:
        kb.ask(question, date(2021, 6, 10))
    kb.store._database().conn.set_trace_callback(None)
    assert len(statements) > 10
    plans = {sql: " | ".join(row[-1] for row in kb.store.db.execute("EXPLAIN QUERY PLAN " + sql).fetchall())
             for sql in statements if not sql.startswith("--")}
    automatic = {sql[:80]: plan for sql, plan in plans.items() if "AUTOMATIC" in plan}
    assert not automatic
    kb.close()


def test_a_deadline_phrase_is_looked_up_among_the_texts_that_have_it(store, monkeypatch):
    """A list by a deadline's phrase finds the distinct texts that have it and looks them up on the
    index, with the region; a phrase no deadline has finds nothing without reading any row; a phrase in
    more distinct texts than are looked up is tested on every row, with the same result."""
    import knowledge.store as store_module

    seed(store)
    import_text(store, PLAN, "plan.txt", actor="admin:1")
    ongoing = sorted(i.id for i in store.all_items() if any("年内持续推进" in d.text for d in i.deadlines))
    in_zhejiang = sorted(i.id for i in store.all_items()
                         if i.region == "浙江省" and any("持续推进" in d.text for d in i.deadlines))
    assert ongoing and in_zhejiang and store.deadline_texts_with("年内持续推进") == ["年内持续推进"]
    assert sorted(store.filter_items(deadline_phrase="年内持续推进")[0]) == ongoing
    assert sorted(store.filter_items(deadline_phrase="持续推进", regions=("浙江省",))[0]) == in_zhejiang
    plan = " | ".join(r[-1] for r in store.db.execute(
        "EXPLAIN QUERY PLAN SELECT item_id FROM item_deadlines WHERE text IN ('年内持续推进') AND region IN ('浙江省')"))
    assert "idx_item_deadlines_text_region" in plan
    assert store.deadline_texts_with("7月底前") == []
    assert store.filter_items(deadline_phrase="7月底前") == ([], False)
    assert store.filter_items(deadline_phrase="7月底前", due_from=date(2021, 1, 1), due_to=date(2030, 1, 1),
                              soonest_first=True) == ([], False)
    monkeypatch.setattr(store_module, "PHRASE_TEXTS_LOOKED_UP", 0)
    store._deadline_texts = (-1, [], {})
    assert store.deadline_texts_with("年内持续推进") is None
    assert sorted(store.filter_items(deadline_phrase="年内持续推进")[0]) == ongoing
    assert sorted(store.filter_items(deadline_phrase="持续推进", regions=("浙江省",))[0]) == in_zhejiang


def test_the_deadline_texts_follow_writes(store):
    seed(store)
    assert store.deadline_texts_with("2027年6月底前") == []
    import_text(store, PLAN, "plan.txt", actor="admin:1")
    store.refresh()
    assert any("2027年6月底前" in t for t in store.deadline_texts_with("2027年6月底前"))
