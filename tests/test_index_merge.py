"""An import ends by merging the postings' segments (a token's are read one by one),
within a time budget, going on where it stopped next time — and the answers stay the same."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from index_checks import city_plan, most_segments

import knowledge.store as store_module
from knowledge.base import KnowledgeBase, merge_seconds
from knowledge.importer import DocumentOverrides, import_text
from knowledge.store import KnowledgeStore

TODAY = date(2026, 3, 10)
CITIES = ["杭州", "宁波", "温州", "嘉兴", "湖州", "绍兴", "金华", "衢州", "舟山", "台州", "丽水", "义乌"]


def answers(kb: KnowledgeBase) -> list[tuple[int, ...]]:
    return [tuple(h.item.id for h in kb.searcher.search(q, TODAY).hits)
            for q in ("宁波充电桩布局规划什么时候完成", "丽水公共充电桩达到多少", "市能源局牵头的任务")]


def import_one_by_one(store: KnowledgeStore) -> None:
    for n, city in enumerate(CITIES):  # a transaction each: a segment each
        import_text(store, city_plan(n, city), f"{city}.txt", DocumentOverrides(region="浙江"), actor="test")


def test_merging_leaves_one_segment_and_the_same_answers(tmp_path: Path) -> None:
    store = KnowledgeStore(tmp_path / "kb.sqlite")
    import_one_by_one(store)
    kb = KnowledgeBase(store)
    before = answers(kb)
    assert most_segments(store) > 1 and all(before)
    assert store.optimize(merge_seconds=60)
    assert most_segments(store) == 1
    assert answers(kb) == before
    assert store.merge_postings(0)  # nothing left: done at once


def test_a_merge_out_of_time_goes_on_next_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = KnowledgeStore(tmp_path / "kb.sqlite")
    import_one_by_one(store)
    monkeypatch.setattr(store_module, "MERGE_TERMS", 1)  # a step too small to merge everything
    assert not store.merge_postings(0)  # one step, then out of time
    steps = 1
    while not store.merge_postings(0):
        steps += 1
        assert steps < 10_000
    assert most_segments(store) == 1


def test_import_paths_merges_the_index(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for n, city in enumerate(CITIES):
        (folder / f"{city}.txt").write_text(city_plan(n, city), encoding="utf-8")
    kb = KnowledgeBase(KnowledgeStore(tmp_path / "kb.sqlite"))
    reports = list(kb.import_paths([folder], DocumentOverrides(region="浙江")))
    assert len(reports) == len(CITIES) and not [r for _, r in reports if isinstance(r, Exception)]
    assert most_segments(kb.store) == 1


def test_the_merge_budget_grows_with_the_import() -> None:
    assert merge_seconds(0.1) == 1.0
    assert merge_seconds(100) == pytest.approx(20.0)


def test_dropping_the_last_stale_marks_starts_a_new_generation(tmp_path: Path) -> None:
    """A reader caches the marks by generation: emptied marks must not meet postings read before."""
    store = KnowledgeStore(tmp_path / "kb.sqlite")
    import_one_by_one(store)
    import_text(store, city_plan(99, CITIES[0]), f"{CITIES[0]}.txt", DocumentOverrides(region="浙江"), actor="test")

    def generation() -> int:
        return store.db.execute("SELECT n FROM knowledge_generation").fetchone()[0]

    assert store.db.execute("SELECT count(*) FROM postings_stale").fetchone()[0] > 0  # the document re-indexed
    before = generation()
    assert store.merge_postings(60)
    assert generation() == before + 1
    assert store.merge_postings(60) and generation() == before + 1  # no marks left: no new generation
