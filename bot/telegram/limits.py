"""Telegram's flood limits, kept per chat: about 30 messages a second overall and 20 a minute in a
group. Messages go out evenly spaced, first come first served; a group over its 20 a minute waits on
its own rolling window, and a "too many requests" (429) for one group holds up only that group — a
busy group never delays the answers in other chats."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)
Clock = Callable[[], float]
Sleep = Callable[[float], Coroutine[Any, Any, None]]
Result = bool | dict[str, Any] | list[dict[str, Any]]
SENDS = ("send", "edit", "copy", "forward")  # the endpoints Telegram counts against a chat's limits


def _seconds(retry_after: object) -> float:
    return float(retry_after.total_seconds()) if hasattr(retry_after, "total_seconds") else float(retry_after)  # type: ignore[arg-type]


class ChatRateLimiter(BaseRateLimiter[None]):
    def __init__(self, per_second: float = 28, group_per_minute: int = 20, max_retries: int = 3,
                 clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self.interval = 1 / per_second
        self.group_per_minute = group_per_minute
        self.max_retries = max_retries
        self.clock = clock
        self.sleep = sleep
        self._next = 0.0  # the earliest time the next message may go (overall)
        self._paused_until = 0.0  # a 429 outside any group pauses everything until then
        self._groups: dict[object, deque[float]] = {}  # a group's send times within the last minute
        self._group_paused: dict[object, float] = {}

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, Result]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: None) -> Result:
        chat = data.get("chat_id")
        counted = chat is not None and endpoint.startswith(SENDS)
        group = chat if counted and str(chat).startswith("-") else None
        for attempt in range(self.max_retries + 1):
            if counted:
                await self._wait_turn(group)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as e:
                if attempt == self.max_retries:
                    raise
                until = self.clock() + _seconds(e.retry_after) + 0.1
                if group is not None:
                    self._group_paused[group] = until
                else:
                    self._paused_until = max(self._paused_until, until)
                log.info("telegram: too many requests to %s, retrying in %.1f s", group or "the bot", until - self.clock())
                if not counted:
                    await self.sleep(until - self.clock())
        raise AssertionError("unreachable")

    async def _wait_turn(self, group: object) -> None:
        if group is not None:
            await self._wait_for_group(group)
        now = self.clock()
        slot = max(now, self._next, self._paused_until)
        self._next = slot + self.interval
        if slot > now:
            await self.sleep(slot - now)

    async def _wait_for_group(self, group: object) -> None:
        """Wait until the group has had fewer than its limit of messages in the last minute."""
        while True:
            now = self.clock()
            sent = self._groups.setdefault(group, deque())
            while sent and now - sent[0] >= 60:
                sent.popleft()
            ready = max(now, self._group_paused.get(group, 0.0))
            if len(sent) >= self.group_per_minute:
                ready = max(ready, sent[0] + 60)
            if ready <= now:
                sent.append(now)
                self._forget_quiet_groups(now)
                return
            await self.sleep(ready - now)

    def _forget_quiet_groups(self, now: float) -> None:
        if len(self._groups) > 10_000:  # bounded: groups quiet for a minute carry no state
            for group in [g for g, sent in self._groups.items() if not sent or now - sent[-1] >= 60]:
                self._groups.pop(group, None)
                self._group_paused.pop(group, None)
