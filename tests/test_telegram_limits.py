"""Telegram's limits per chat, on a virtual clock: a busy group waits on its own window and its own
429s, while other chats' messages go out evenly spaced."""

from __future__ import annotations

import asyncio
import heapq
import itertools

from telegram.error import RetryAfter

from bot.telegram.limits import ChatRateLimiter

GROUP, OTHER_GROUP, PRIVATE = -100, -200, 7


class VirtualTime:
    """A clock that jumps to the next sleeper's wake-up whenever every task is waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future]] = []
        self._count = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._count), future))
        await future

    async def drive(self, work: asyncio.Future) -> None:
        while not work.done():
            for _ in range(20):  # let every runnable task run until it waits
                await asyncio.sleep(0)
            if self._sleepers:
                wake, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, wake)
                future.set_result(None)


async def run(limiter: ChatRateLimiter, sends: list[int], failures: dict[int, int] | None = None) -> list[tuple[int, float]]:
    """Send to each chat in order (concurrently, as the bot does); when each went out."""
    sent: list[tuple[int, float]] = []
    failures = dict(failures or {})

    async def send(chat: int) -> None:
        async def call() -> bool:
            if failures.get(chat):
                failures[chat] -= 1
                raise RetryAfter(30)
            sent.append((chat, limiter.clock()))
            return True

        await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat, "text": "x"}, None)

    tasks = []
    for chat in sends:
        tasks.append(asyncio.create_task(send(chat)))
        await asyncio.sleep(0)
    work = asyncio.gather(*tasks)
    await limiter.clock.__self__.drive(work)  # type: ignore[attr-defined]
    await work
    return sent


async def test_a_group_past_twenty_a_minute_waits_alone():
    time = VirtualTime()
    limiter = ChatRateLimiter(per_second=28, group_per_minute=20, clock=time.clock, sleep=time.sleep)
    sent = await run(limiter, [GROUP] * 25 + [PRIVATE, OTHER_GROUP])
    group_times = [t for chat, t in sent if chat == GROUP]
    assert len(group_times) == 25
    assert max(group_times[:20]) < 1.0 and min(group_times[20:]) >= 60  # the rolling minute
    assert all(t < 2.0 for chat, t in sent if chat != GROUP)  # the others did not wait for it
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(sent) if b < 60]
    assert min(gaps) >= 1 / 28 - 1e-9  # evenly spaced, never a burst


async def test_a_429_for_one_group_holds_up_only_that_group():
    time = VirtualTime()
    limiter = ChatRateLimiter(per_second=28, group_per_minute=20, clock=time.clock, sleep=time.sleep)
    sent = await run(limiter, [GROUP, PRIVATE, OTHER_GROUP], failures={GROUP: 1})
    when = dict(sent)
    assert when[GROUP] >= 30  # waited out its retry_after
    assert when[PRIVATE] < 1 and when[OTHER_GROUP] < 1


async def test_a_429_outside_groups_pauses_everything_and_gives_up_after_the_retries():
    time = VirtualTime()
    limiter = ChatRateLimiter(per_second=28, max_retries=1, clock=time.clock, sleep=time.sleep)
    sent = await run(limiter, [PRIVATE, PRIVATE + 1], failures={PRIVATE: 1})
    assert all(t >= 30 for _, t in sent)
    try:
        await run(limiter, [PRIVATE], failures={PRIVATE: 2})
    except RetryAfter:
        pass
    else:
        raise AssertionError("past its retries the 429 is raised")
