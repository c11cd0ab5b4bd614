"""Pushes to 企业微信 chats over the long connection (aibot_send_msg): reminders, and answers to card clicks.

Limits: WeCom does not document any for aibot_send_msg. We keep to `[wecom] sends_per_second` for
the bot (default 10) and `sends_per_minute_per_chat` per chat (default 20, as its group robots), each
a sliding window with a small margin, and retry its "too fast" code 45009 after the window: first
the one-second window, then the minute. An unanswered send (timeout, or the connection lost before
the answer) may have arrived: it is not resent in this run but reported `unconfirmed`, so the
reminder service keeps its claim and the next run resends it with the "not confirmed" line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.wecom.client import (
    ERR_SYSTEM_BUSY,
    WeComClient,
    WeComConnectionLost,
    WeComNotConnected,
    WeComRequestError,
    WeComTimeout,
)
from bot.wecom.render import PUSH_MAX_BYTES, lines_to_markdown
from knowledge.answer import Line
from reminders.channels import ATTEMPTS, BACKOFF, SendResult
from reminders.models import Subscription

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

MARGIN = 0.05  # seconds added to each window: WeCom counts when a send arrives, we when it leaves
MINUTE = 60.0
CHATS_KEPT = 10_000  # per-chat windows kept (the oldest idle ones are forgotten)
# ASSUMED: WeCom's global codes for a chat that does not exist / the bot is not in (群聊会话 86001,
# 86003); the long connection's own answer is not documented. They disable the chat's subscriptions.
GONE_CODES = frozenset({86001, 86003})
RETRY_CODES = frozenset({ERR_SYSTEM_BUSY})


class SlidingWindow:
    """At most `count` sends in any `period` seconds (+ margin); waiters go in turn. `acquire` returns
    the send's stamp: `stamp[0] = clock()` moves it to when the send really left (after other waits)."""

    def __init__(self, count: int, period: float, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self.count, self.period = count, period + MARGIN
        self.clock, self.sleep = clock, sleep
        self._stamps: deque[list[float]] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> list[float]:
        async with self._lock:
            while True:
                now = self.clock()
                while self._stamps and now - self._stamps[0][0] >= self.period:
                    self._stamps.popleft()
                if len(self._stamps) < self.count:
                    stamp = [now]
                    self._stamps.append(stamp)
                    return stamp
                await self.sleep(max(self._stamps[0][0] + self.period - now, 0.001))

    @property
    def idle(self) -> bool:
        return not self._stamps or self.clock() - max(s[0] for s in self._stamps) >= self.period


class WeComChannel:
    """The reminder service's channel for 企业微信 chats; `push` also answers card clicks."""

    def __init__(self, client: WeComClient, sends_per_second: int, sends_per_minute_per_chat: int, *,
                 clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep, chat_key: Callable[[str], str] = str) -> None:
        self.client = client
        self.per_minute_per_chat = sends_per_minute_per_chat
        self.clock, self.sleep = clock, sleep
        self.chat_key = chat_key  # the stored chat id -> WeCom's chatid / userid
        self._bot = SlidingWindow(sends_per_second, 1.0, clock=clock, sleep=sleep)
        self._chats: OrderedDict[str, SlidingWindow] = OrderedDict()

    def _window(self, chat_id: str) -> SlidingWindow:
        window = self._chats.pop(chat_id, None) or SlidingWindow(self.per_minute_per_chat, MINUTE,
                                                                 clock=self.clock, sleep=self.sleep)
        self._chats[chat_id] = window
        while len(self._chats) > CHATS_KEPT:
            oldest = next(iter(self._chats))
            if not self._chats[oldest].idle:
                break
            del self._chats[oldest]
        return window

    async def push(self, chat_id: str, msgtype: str, content: Mapping[str, Any]) -> None:
        """One aibot_send_msg within the limits; 45009 and "busy" retried after the window. Raises the
        client's errors: WeComRequestError (refused), WeComTimeout / WeComConnectionLost (may have arrived)."""
        waits = [1.0 + MARGIN, MINUTE + MARGIN]
        for attempt in range(1, ATTEMPTS + 1):
            stamp = await self._window(chat_id).acquire()
            await self._bot.acquire()
            stamp[0] = self.clock()  # the chat's window counts from when the send leaves
            try:
                if msgtype == "markdown":
                    await self.client.send_markdown(chat_id, str(content["content"]))
                else:
                    await self.client.send_template_card(chat_id, content)
                return
            except WeComRequestError as e:
                if attempt == ATTEMPTS or not (e.too_fast or e.errcode in RETRY_CODES):
                    raise
                wait = waits[min(attempt - 1, len(waits) - 1)]
                log.info("企业微信: %s to %s: errcode %d, retry in %.0f s", msgtype, chat_id, e.errcode, wait)
                await self.sleep(wait)

    async def send(self, subscription: Subscription, lines: list[Line]) -> SendResult:
        assert subscription.chat_id is not None
        chat_id = self.chat_key(str(subscription.chat_id))
        text = lines_to_markdown(lines, PUSH_MAX_BYTES)
        delay, detail = BACKOFF, ""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await self.push(chat_id, "markdown", {"content": text})
                return SendResult.sent()
            except (WeComTimeout, WeComConnectionLost) as e:
                return SendResult(False, unconfirmed=True, detail=f"no answer, may have arrived: {e}")
            except WeComRequestError as e:
                detail = f"errcode {e.errcode}: {e.errmsg}"
                if e.too_fast or e.errcode in RETRY_CODES:
                    return SendResult(False, detail=detail)  # push() already waited out the windows
                return SendResult(False, permanent=True, disable=e.errcode in GONE_CODES, detail=detail)
            except WeComNotConnected as e:  # nothing went out: safe to try again
                detail = f"not connected: {e}"
                if attempt < ATTEMPTS:
                    await self.sleep(delay)
                    delay *= 2
        return SendResult(False, detail=detail)
