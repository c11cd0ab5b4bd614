"""Checks of the search index shared by tests: the live postings, that they are the items' rows, how many
segments a token has; and a small plan document to index."""

from __future__ import annotations

from array import array

import knowledge.postings as postings
from knowledge.store import KnowledgeStore, search_postings


def live_postings(store: KnowledgeStore) -> dict[str, dict[int, int]]:
    """Each token's live entries (item id → entry) as the index holds them."""
    stale = dict(store.db.execute("SELECT item_id, segment FROM postings_stale").fetchall())
    out: dict[str, dict[int, int]] = {}
    for term, segment, blob in store.db.execute("SELECT term, segment, entries FROM postings"):
        for e in array("Q", blob):
            if stale.get(e >> postings.ID_SHIFT, -1) < segment:
                assert e >> postings.ID_SHIFT not in out.setdefault(term, {}), "an item twice under one token"
                out[term][e >> postings.ID_SHIFT] = e
    return {t: entries for t, entries in out.items() if entries}


def text_rows(store: KnowledgeStore) -> list[tuple]:
    return store.db.execute("SELECT item_id, norm_text, norm_context FROM item_texts ORDER BY item_id").fetchall()


def assert_postings_are_the_rows(store: KnowledgeStore) -> None:
    """The live postings are exactly what the items' texts give; the token counts and the index's
    length follow; every active item, and only those, has its texts."""
    expected: dict[str, dict[int, int]] = {}
    total = 0
    for item_id, text, context in text_rows(store):
        row, length = search_postings(text, context)
        total += length
        for term in row.tokens():
            counts = [min(column.get(term, 0), postings.MAX_COUNT) for column in row]
            expected.setdefault(term, {})[item_id] = (
                item_id << postings.ID_SHIFT | min(length, postings.MAX_LENGTH) << postings.LENGTH_SHIFT
                | counts[0] | counts[1] << postings.COUNT_BITS | counts[2] << 2 * postings.COUNT_BITS)
    assert live_postings(store) == expected
    assert dict(store.db.execute("SELECT term, items FROM token_counts").fetchall()) == \
        {t: len(entries) for t, entries in expected.items()}
    assert store.db.execute("SELECT index_tokens FROM knowledge_counts").fetchone()[0] == total
    active = [r[0] for r in store.db.execute("SELECT id FROM items WHERE status = 'active' ORDER BY id")]
    assert [r[0] for r in text_rows(store)] == active


def city_plan(n: int, city: str) -> str:
    """A city's small plan: a task with a lead and a deadline, and a target."""
    return (f"{city}市推进充电设施建设工作方案\n浙{city}发〔2026〕{n}号\n"
            f"一、加快{city}充电桩布局。完成{city}全市充电桩布局规划。（市能源局牵头，市发展改革委配合，2027年6月底前完成）\n"
            f"二、到2026年，{city}公共充电桩达到{n + 1}万个。（市能源局负责）\n"
            f"{city}市人民政府\n2026年3月1日\n")


def most_segments(store: KnowledgeStore) -> int:
    """The most segments any token has."""
    return store.db.execute("SELECT max(n) FROM (SELECT count(*) n FROM postings GROUP BY term)").fetchone()[0]
