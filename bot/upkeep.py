"""Index upkeep in a long-running process (`policybot run`, `policybot chat`).

Every change written from a chat — an upload, an edit, a removal, an undo — adds a segment of postings
to each token it touches (`knowledge/postings.py`), and a question reads every segment of its tokens.
`policybot import` merges them at its end; here they are merged in the background: now and then, if a
write has left any, a short merge at a time on the writer thread (a change waiting behind it waits at
most one round), then the query planner's statistics are refreshed."""

from __future__ import annotations

import asyncio
import logging

from knowledge.store import KnowledgeStore, StoreWorker

log = logging.getLogger(__name__)
UPKEEP_EVERY = 300.0  # seconds between looks for unmerged segments
ROUND_SECONDS = 0.2  # merging per turn on the writer thread (at least one transaction of tokens)


async def tidy_index(worker: StoreWorker, store: KnowledgeStore, round_seconds: float = ROUND_SECONDS) -> bool:
    """Merge what writes have left, round by round, then refresh the planner's statistics.
    False when there was nothing to do."""
    if not await worker.run(store.merge_pending):
        return False
    while not await worker.write(store.merge_postings, round_seconds):
        pass
    await worker.write(store.optimize, 0)  # (its own merge finds nothing left)
    return True


async def keep_index_tidy(worker: StoreWorker, store: KnowledgeStore, every: float = UPKEEP_EVERY,
                          round_seconds: float = ROUND_SECONDS) -> None:
    """`tidy_index` every `every` seconds until cancelled; a failure is logged and tried again next time."""
    while True:
        await asyncio.sleep(every)
        try:
            if await tidy_index(worker, store, round_seconds):
                log.info("search index merged")
        except Exception:
            log.exception("index upkeep failed; the next round tries again")
