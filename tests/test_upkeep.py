"""A long-running process merges what chat changes add to the search index, in the background: the
segments and stale entries go, the answers stay, a failure is logged and tried again, and the task
ends with the services."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

import bot.upkeep as upkeep
import knowledge.store as store_module
from bot.services import start_upkeep
from knowledge.base import KnowledgeBase
from knowledge.curation import edit_item, undo_last
from knowledge.importer import DocumentOverrides, import_text
from knowledge.store import KnowledgeStore, StoreWorker
from tests.core_harness import talking
from tests.index_checks import assert_postings_are_the_rows, city_plan, most_segments

TODAY = date(2026, 3, 10)
CITIES = ["杭州", "宁波", "温州", "嘉兴", "湖州", "绍兴"]


def stale_marks(store: KnowledgeStore) -> int:
    return store.db.execute("SELECT count(*) FROM postings_stale").fetchone()[0]


def answers(kb: KnowledgeBase) -> list[tuple[int, ...]]:
    return [tuple(h.item.id or 0 for h in kb.searcher.search(q, TODAY).hits)
            for q in ("宁波充电桩布局规划什么时候完成", "绍兴公共充电桩达到多少", "市能源局牵头的任务")]


def changed_by_chat(store: KnowledgeStore) -> None:
    """What admins do from a chat: uploads (a transaction each), an edit and an undo."""
    for n, city in enumerate(CITIES):
        import_text(store, city_plan(n, city), f"{city}.txt", DocumentOverrides(region="浙江"), actor="admin")
    target = store.db.execute("SELECT min(id) FROM items WHERE status = 'active'").fetchone()[0]
    edit_item(store, target, "完成全市充电桩布局规划和建设。（市能源局牵头，2027年6月底前完成）", actor="admin")
    edit_item(store, target + 1, "到2026年，公共充电桩达到9万个。（市能源局负责）", actor="admin")
    undo_last(store, actor="admin")


@pytest.fixture
def worker() -> Iterator[StoreWorker]:
    w = StoreWorker()
    yield w
    w.shutdown()


async def test_tidy_index_merges_every_segment_and_drops_the_stale_entries(tmp_path: Path,
                                                                           worker: StoreWorker) -> None:
    store = KnowledgeStore(tmp_path / "kb.sqlite")
    changed_by_chat(store)
    kb = KnowledgeBase(store)
    before = answers(kb)
    assert all(before) and most_segments(store) > 1 and stale_marks(store) > 0 and store.merge_pending()

    assert await upkeep.tidy_index(worker, store, round_seconds=0) is True
    assert most_segments(store) == 1 and stale_marks(store) == 0 and not store.merge_pending()
    assert_postings_are_the_rows(store)
    assert answers(kb) == before
    assert await upkeep.tidy_index(worker, store) is None  # nothing left: no write at all


async def test_a_look_merges_for_a_few_seconds_and_leaves_the_rest_for_the_next(
        tmp_path: Path, worker: StoreWorker, monkeypatch: pytest.MonkeyPatch) -> None:
    store = KnowledgeStore(tmp_path / "kb.sqlite")
    changed_by_chat(store)
    monkeypatch.setattr(store_module, "MERGE_TERMS", 1)  # a round of one token
    queued = store.db.execute("SELECT count(*) FROM postings_merge").fetchone()[0]
    assert await upkeep.tidy_index(worker, store, round_seconds=0, look_seconds=0) is False  # one round
    assert store.db.execute("SELECT count(*) FROM postings_merge").fetchone()[0] == queued - 1
    looks = 1
    while (done := await upkeep.tidy_index(worker, store, round_seconds=0, look_seconds=0)) is False:
        looks += 1
    assert done is True and 1 < looks <= queued + 1 and not store.merge_pending()
    assert stale_marks(store) == 0
    assert_postings_are_the_rows(store)


class Looks:
    """The upkeep's wait between looks, driven by the test: `look()` lets one look run and returns
    once it is over (the task is back waiting)."""

    def __init__(self) -> None:
        self._go: asyncio.Queue[None] = asyncio.Queue()
        self._waiting = asyncio.Event()

    async def wait(self) -> None:
        self._waiting.set()
        await self._go.get()

    async def look(self) -> None:
        await self._waiting.wait()
        self._waiting.clear()
        self._go.put_nowait(None)
        await self._waiting.wait()


async def test_the_background_task_tidies_after_changes_and_survives_a_failure(
        tmp_path: Path, worker: StoreWorker, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.upkeep")
    store = KnowledgeStore(tmp_path / "kb.sqlite")
    changed_by_chat(store)
    real_merge = store.merge_postings
    failures = [RuntimeError("disk I/O error")]

    def merge_failing_once(seconds: float) -> bool:
        if failures:
            raise failures.pop()
        return real_merge(seconds)

    monkeypatch.setattr(store, "merge_postings", merge_failing_once)
    looks = Looks()
    task = asyncio.create_task(upkeep.keep_index_tidy(worker, store, wait=looks.wait))
    try:
        await looks.look()
        assert "index upkeep failed" in caplog.text and store.merge_pending()
        await looks.look()  # the failure did not end it
        assert not store.merge_pending() and most_segments(store) == 1
        assert "search index merged" in caplog.text

        edit_item(store, store.db.execute("SELECT max(id) FROM items").fetchone()[0],
                  "到2026年，公共充电桩达到12万个。（市能源局负责）", actor="admin")
        assert store.merge_pending()
        await looks.look()
        assert not store.merge_pending() and most_segments(store) == 1
        assert_postings_are_the_rows(store)
    finally:
        task.cancel()


async def test_a_look_gives_way_to_another_process_writing(tmp_path: Path, worker: StoreWorker) -> None:
    path = tmp_path / "kb.sqlite"
    store = KnowledgeStore(path)
    changed_by_chat(store)
    importing = sqlite3.connect(path)  # another process's bulk import, in the middle of a transaction
    importing.execute("BEGIN IMMEDIATE")
    try:
        assert await upkeep.tidy_index(worker, store) is None  # put off at once, not after 30 s
        assert store.merge_pending()
    finally:
        importing.rollback()
        importing.close()
    assert await upkeep.tidy_index(worker, store) is True
    with store.transaction():  # the writer thread's patience is back to normal
        pass
    assert await worker.write(lambda: store.db.execute("PRAGMA busy_timeout").fetchone()[0]) == \
        store_module.BUSY_TIMEOUT_SECONDS * 1000


async def test_the_upkeep_task_ends_with_the_services(tmp_path: Path) -> None:
    async with talking(tmp_path / "kb.sqlite") as talk:
        start_upkeep(talk.services)
        task = talk.services.upkeep
        assert task is not None and not task.done()
    assert task.cancelled()
