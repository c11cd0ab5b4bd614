"""The postings score candidates exactly as FTS5's bm25 would, through every kind of write: imports,
edits, removals, a failed document, merges — in Python and in numpy alike."""

from __future__ import annotations

import math
import sqlite3
from collections import Counter
from datetime import date

import pytest
from index_checks import assert_postings_are_the_rows, live_postings, most_segments, text_rows

import knowledge.postings as postings
import knowledge.store as store_module
from knowledge.curation import undo_last
from knowledge.importer import DocumentOverrides, import_text
from knowledge.intents import understand
from knowledge.normalize import bigrams, sound_bigrams
from knowledge.store import KnowledgeStore

TODAY = date(2026, 11, 21)
WEIGHTS = (1.0, 0.5, 0.4)
QUESTIONS = ["碳减排支持工具什么时候出台", "煤炭消费比重降到多少", "谁牵头推进充电桩建设", "非化石能源消费比重目标",
             "节能降碳改造", "新能源汽车推广", "绿色建筑占比", "氢能产业发展", "甲烷排放控制", "森林覆盖率"]


def fts_scores(store: KnowledgeStore, tokens: list[str]) -> dict[int, float]:
    """Every matching item's score as FTS5's own bm25 gives it, over an FTS5 table of the items'
    columns (as the index had them when it was FTS5's), in a database of its own."""
    oracle = sqlite3.connect(":memory:")
    oracle.execute("CREATE VIRTUAL TABLE oracle USING fts5(body, meta, sound, tokenize = 'unicode61 remove_diacritics 0')")
    oracle.executemany("INSERT INTO oracle (rowid, body, meta, sound) VALUES (?, ?, ?, ?)",
                       [(i, " ".join(bigrams(text)), " ".join(bigrams(context)), " ".join(sound_bigrams(text)))
                        for i, text, context in text_rows(store)])
    w = ", ".join(map(str, WEIGHTS))
    match = " OR ".join('"' + t + '"' for t in tokens)
    scores = dict(oracle.execute(f"SELECT rowid, -bm25(oracle, {w}) FROM oracle WHERE oracle MATCH ?", [match]))
    oracle.close()
    return scores


def question_tokens(store: KnowledgeStore) -> list[list[str]]:
    from knowledge.search import Searcher

    searcher = Searcher(store)
    store.refresh()
    out = []
    for question in QUESTIONS:
        tokens, _ = searcher._query(understand(question, TODAY, searcher.known_departments()))
        out.append(tokens)
    common = [t for t, _ in store.db.execute("SELECT term, items FROM token_counts ORDER BY items DESC LIMIT 5")]
    return [t for t in out if t] + [common]  # (and the commonest tokens: many postings, IDFs at their floor)


def assert_same_as_fts(store: KnowledgeStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.refresh()
    lists = question_tokens(store)
    assert len(lists) >= 8
    for numpy_from in (0, 10**9):  # numpy, then Python
        monkeypatch.setattr(postings, "NUMPY_FROM", numpy_from)
        for tokens in lists:
            expected = fts_scores(store, tokens)
            found = store.candidates(tokens, 10**6, WEIGHTS)
            assert {item.id for item, *_ in found} == set(expected), tokens
            for item, score, *_ in found:
                assert math.isclose(score, expected[item.id], rel_tol=1e-9), (tokens, item.id)
            scores = [s for _, s, *_ in found]
            assert scores == sorted(scores, reverse=True)
            ties = [(s, item.id) for item, s, *_ in found]
            assert ties == sorted(ties, key=lambda x: (-x[0], x[1]))  # ties by id


def test_scores_are_fts5_bm25_on_the_bundled_base(kb, monkeypatch):
    assert_same_as_fts(kb.store, monkeypatch)
    assert_postings_are_the_rows(kb.store)


def test_edits_removals_and_undo_leave_the_postings_those_of_the_rows(kb, monkeypatch):
    store = kb.store
    items = list(store.all_items())[:40]
    with store.transaction():
        for item in items[:20]:  # indexed again with other words
            item.text = item.text + "，并推进氢能示范"
        store.update_items(items[:20], actor="test", action="edit")
        store.remove_items([i.id for i in items[20:30] if i.id is not None])
    with store.transaction():
        items[30].status = "retired"
        store.update_items([items[30]], actor="test", action="retire")
    assert store.db.execute("SELECT count(*) FROM postings_stale").fetchone()[0] >= 31
    assert_postings_are_the_rows(store)
    assert_same_as_fts(store, monkeypatch)
    assert undo_last(store, actor="test").item is not None
    assert_postings_are_the_rows(store)
    assert_same_as_fts(store, monkeypatch)


def test_a_merge_leaves_one_segment_a_token_and_no_marks(kb, monkeypatch):
    store = kb.store
    items = list(store.all_items())[:10]
    for item in items:  # a transaction each: a segment each
        item.text += "，加快碳捕集利用"
        with store.transaction():
            store.update_items([item], actor="test", action="edit")
    before = live_postings(store)
    assert most_segments(store) > 1
    assert not store.merge_postings(0)  # one transaction of tokens, then out of time
    while not store.merge_postings(0):
        pass
    assert most_segments(store) == 1
    assert store.db.execute("SELECT count(*) FROM postings_stale").fetchone()[0] == 0
    assert store.db.execute("SELECT count(*) FROM postings_merge").fetchone()[0] == 0
    assert live_postings(store) == before
    assert_same_as_fts(store, monkeypatch)


def test_a_failed_document_leaves_no_postings(kb, monkeypatch):
    store = kb.store
    good = "甲市推进氢能发展方案\n一、建设加氢站。2027年底前建成加氢站5座。（市能源局牵头）\n甲市人民政府\n2026年3月1日\n"
    other = "乙县光伏发展实施意见\n一、推广屋顶光伏。2028年底前新增分布式光伏3万千瓦。（县发展改革局负责）\n乙县人民政府\n2026年4月1日\n"
    with pytest.raises(RuntimeError), store.transaction():
        import_text(store, good, "甲.txt", DocumentOverrides(region="浙江"), actor="test")
        with store.transaction():
            import_text(store, other, "乙.txt", DocumentOverrides(region="浙江"), actor="test")
            raise RuntimeError("disk full")
    assert_postings_are_the_rows(store)
    with store.transaction():
        import_text(store, good, "甲.txt", DocumentOverrides(region="浙江"), actor="test")
        try:
            with store.transaction():
                import_text(store, other, "乙.txt", DocumentOverrides(region="浙江"), actor="test")
                raise RuntimeError("disk full")
        except RuntimeError:
            pass
    assert_postings_are_the_rows(store)
    assert_same_as_fts(store, monkeypatch)


def test_counts_and_lengths_saturate_instead_of_spilling_into_the_next_field():
    row = postings.RowPostings(Counter({"碳排": 100, "排放": 1}), Counter({"碳排": 2}), Counter({"tan": 70}))
    assert row.length() == 173
    written = postings.segments([(7, row, 10**6), (3, postings.RowPostings(Counter({"碳排": 1}), Counter(), Counter()), 2)])
    assert sorted(written) == ["tan", "排放", "碳排"]
    (e3, e7) = postings.array("Q", written["碳排"])  # (by item id)
    assert e7 >> postings.ID_SHIFT == 7 and e7 >> postings.LENGTH_SHIFT & postings.MAX_LENGTH == postings.MAX_LENGTH
    assert e7 & (1 << postings.LENGTH_SHIFT) - 1 == postings.MAX_COUNT | 2 << postings.COUNT_BITS  # body and meta
    assert e3 == 3 << postings.ID_SHIFT | 2 << postings.LENGTH_SHIFT | 1
    (tan,) = postings.array("Q", written["tan"])
    assert tan & (1 << postings.LENGTH_SHIFT) - 1 == postings.MAX_COUNT << 2 * postings.COUNT_BITS


def test_a_word_fts5_would_split_is_counted_as_its_tokens():
    assert postings.token_counts(["碳排", "2.5", "pm2.5", "碳排"]) == Counter({"碳排": 2, "2": 1, "5": 2, "pm2": 1})


def test_a_new_index_version_rebuilds_the_same_index_in_one_transaction(db_path, monkeypatch):
    store = KnowledgeStore(db_path)
    before = live_postings(store), text_rows(store), store.db.execute("SELECT * FROM token_counts").fetchall()
    store.set_setting("index_version", "an older one")
    store.close()
    monkeypatch.setattr(store_module, "REBUILD_BATCH", 50)  # several segments, each saved as it is made
    again = KnowledgeStore(db_path)
    assert again.get_setting("index_version") == store_module.INDEX_VERSION
    assert again.db.execute("SELECT count(DISTINCT segment) FROM postings").fetchone()[0] > 1
    assert (live_postings(again), text_rows(again), again.db.execute("SELECT * FROM token_counts").fetchall()) == before
    assert_postings_are_the_rows(again)
    again.close()


def test_what_a_rolled_back_write_saw_is_not_remembered(kb, monkeypatch):
    """A question asked inside a write sees its marks; rolled back, the next write of the same
    generation number must not find them remembered (they would hide the item's live entries)."""
    store = kb.store
    first, second = list(store.all_items())[:2]
    tokens = question_tokens(store)[0]
    with pytest.raises(RuntimeError), store.transaction():
        first.text += "，推进氢能示范"
        store.update_items([first], actor="test", action="edit")
        store.candidates(tokens, 10, WEIGHTS)  # (inside the write: its marks, its generation)
        raise RuntimeError("rolled back")
    with store.transaction():
        second.text += "，推进氢能示范"
        store.update_items([second], actor="test", action="edit")  # (the same generation number again)
    assert_same_as_fts(store, monkeypatch)
