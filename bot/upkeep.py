"""Index upkeep in a long-running process (`policybot run`, `policybot chat`): the postings' segments
that chat uploads, edits and undo add are merged in the background, a little at a time.

Each such change adds a segment to every token it touches (`knowledge/postings.py`) and a question
reads all of a token's segments; `policybot import` merges at its end, and so does this, now and then.
A round runs on the writer thread, so a chat change waits behind it at most one round; a round gives
up at once when another process holds the write lock (a bulk import, which merges itself at its end).
Planner statistics are left to imports: ANALYZE of a large base would hold the lock for seconds."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable

from knowledge.store import KnowledgeStore, StoreWorker

log = logging.getLogger(__name__)
UPKEEP_EVERY = 300.0  # seconds between looks
ROUND_SECONDS = 0.2  # merging per round (at least one transaction of tokens)
LOOK_SECONDS = 5.0  # merging per look; the rest waits for the next
LOCK_WAIT_SECONDS = 0.25  # a round waits this long for another process's write lock, then gives up


def _merge_round(store: KnowledgeStore, seconds: float) -> bool | None:
    """One round on the writer thread: True when all is merged, None when another writer holds the lock."""
    try:
        with store.lock_wait(LOCK_WAIT_SECONDS):
            return store.merge_postings(seconds)
    except sqlite3.OperationalError as e:
        if "locked" in str(e) or "busy" in str(e):
            return None
        raise


async def tidy_index(worker: StoreWorker, store: KnowledgeStore, round_seconds: float = ROUND_SECONDS,
                     look_seconds: float = LOOK_SECONDS) -> bool | None:
    """Merge what writes left, for up to `look_seconds`: True when all is merged, False when some is
    left, None when there was nothing to do or another process was writing."""
    if not await worker.run(store.merge_pending):
        return None
    until = time.monotonic() + look_seconds
    while not (done := await worker.write(_merge_round, store, round_seconds)):
        if done is None:
            log.info("search index merge put off: another process is writing")
            return None
        if time.monotonic() >= until:
            return False
    return True


async def keep_index_tidy(worker: StoreWorker, store: KnowledgeStore,
                          wait: Callable[[], Awaitable[object]] | None = None) -> None:
    """`tidy_index` after each `wait()` (UPKEEP_EVERY seconds) until cancelled; a failure is logged
    and tried again next time."""
    wait = wait or (lambda: asyncio.sleep(UPKEEP_EVERY))
    while True:
        await wait()
        try:
            done = await tidy_index(worker, store)
        except Exception:
            log.exception("index upkeep failed; the next look tries again")
            continue
        if done is not None:
            log.info("search index %s", "merged" if done else "partly merged (the rest at the next look)")
