"""Index upkeep in a long-running process (`policybot run`, `policybot chat`).

Every change written from a chat — an upload, an edit, a removal, an undo — adds a segment of postings
to each token it touches (`knowledge/postings.py`), and a question reads every segment of its tokens.
`policybot import` merges them at its end; here they are merged in the background: now and then, if a
write has left any, a short merge at a time on the writer thread (a change waiting behind it waits at
most one round) for a few seconds a look, then, once all is merged, the query planner's statistics are
refreshed."""

from __future__ import annotations

import asyncio
import logging
import time

from knowledge.store import KnowledgeStore, StoreWorker

log = logging.getLogger(__name__)
UPKEEP_EVERY = 300.0  # seconds between looks for unmerged segments
ROUND_SECONDS = 0.2  # merging per turn on the writer thread (at least one transaction of tokens)
# Merging per look: the rest waits for the next. (A bulk import in another process keeps adding
# segments that it merges itself at its end: a look must not chase it for the whole import.)
LOOK_SECONDS = 5.0


async def tidy_index(worker: StoreWorker, store: KnowledgeStore, round_seconds: float = ROUND_SECONDS,
                     look_seconds: float = LOOK_SECONDS) -> bool | None:
    """Merge what writes have left, round by round for up to `look_seconds`, then — once nothing is
    left — refresh the planner's statistics. None when there was nothing to do, else whether it is
    all merged."""
    if not await worker.run(store.merge_pending):
        return None
    until = time.monotonic() + look_seconds
    while not await worker.write(store.merge_postings, round_seconds):
        if time.monotonic() >= until:
            return False
    await worker.write(store.optimize, 0)  # (its own merge finds nothing left)
    return True


async def keep_index_tidy(worker: StoreWorker, store: KnowledgeStore, every: float = UPKEEP_EVERY,
                          round_seconds: float = ROUND_SECONDS, look_seconds: float = LOOK_SECONDS) -> None:
    """`tidy_index` every `every` seconds until cancelled; a failure is logged and tried again next time."""
    while True:
        await asyncio.sleep(every)
        try:
            done = await tidy_index(worker, store, round_seconds, look_seconds)
        except Exception:
            log.exception("index upkeep failed; the next round tries again")
            continue
        if done is not None:
            log.info("search index %s", "merged" if done else "partly merged (the rest at the next look)")
