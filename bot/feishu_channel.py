"""Reminders to 飞书 chats: cards sent with im.v1.message.create to the subscription's chat id.

Feishu allows 50 messages/s per app and 5/s per chat ([feishu] sends_per_second and
sends_per_second_per_chat): one limiter for the app and one per chat space the sends evenly, so that
a strict one-second window never sees a burst. "Too fast" answers that still come are waited out by
FeishuApi (after the window it is told); each message carries a uuid, so a send retried after a lost
answer is delivered once.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict

from aiolimiter import AsyncLimiter

from bot.feishu_api import FeishuApi, FeishuApiError
from bot.feishu_client import FeishuCredentialError
from bot.feishu_render import card
from knowledge.answer import Line
from reminders.channels import ATTEMPTS, BACKOFF, SendResult, Sleep
from reminders.models import Subscription

# The bot left the chat (230002) or the person is outside the app's availability (230013): for good.
GONE_CODES = frozenset({230002, 230013})
# The message itself is refused (invalid parameter 230001, content too long 230025): sending it again cannot help.
REFUSED_CODES = frozenset({230001, 230025})
CHATS_KEPT = 10_000


def reminder_uuid(subscription: Subscription, lines: list[Line]) -> str:
    """The same reminder to the same subscription is the same message (Feishu keeps a uuid for 1 h)."""
    text = "\n".join(line.text for line in lines)
    return hashlib.sha256(f"{subscription.id}\n{subscription.chat_id}\n{text}".encode()).hexdigest()[:40]


class FeishuChannel:
    def __init__(self, api: FeishuApi, sends_per_second: int, sends_per_second_per_chat: int,
                 sleep: Sleep = asyncio.sleep) -> None:
        self.api = api
        self.sleep = sleep
        self._app = AsyncLimiter(1, 1 / sends_per_second)  # max_rate 1: evenly spaced, no bursts
        self._per_chat = 1 / sends_per_second_per_chat
        self._chats: OrderedDict[str, AsyncLimiter] = OrderedDict()

    def _chat_limiter(self, chat_id: str) -> AsyncLimiter:
        limiter = self._chats.pop(chat_id, None) or AsyncLimiter(1, self._per_chat)
        self._chats[chat_id] = limiter
        while len(self._chats) > CHATS_KEPT:
            self._chats.popitem(last=False)
        return limiter

    async def send(self, subscription: Subscription, lines: list[Line]) -> SendResult:
        chat_id = str(subscription.chat_id)
        content, uuid = card(lines), reminder_uuid(subscription, lines)
        delay, detail = BACKOFF, ""
        for attempt in range(1, ATTEMPTS + 1):
            async with self._chat_limiter(chat_id), self._app:
                try:
                    await self.api.send(chat_id, "interactive", content, uuid=uuid)
                    return SendResult.sent()
                except FeishuCredentialError as e:
                    return SendResult(False, detail=str(e))
                except FeishuApiError as e:
                    detail = str(e)
                    if e.code in GONE_CODES:
                        return SendResult(False, permanent=True, disable=True, detail=detail)
                    if e.code in REFUSED_CODES:
                        return SendResult(False, permanent=True, detail=detail)
                    if e.code is not None:  # too fast after FeishuApi's own waits, or Feishu busy: a later run
                        return SendResult(False, detail=detail)
            if attempt < ATTEMPTS:  # the network: try again a little later
                await self.sleep(delay)
                delay *= 2
        return SendResult(False, detail=detail)
