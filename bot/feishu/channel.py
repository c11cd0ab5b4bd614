"""Reminders to 飞书 chats: cards sent with im.v1.message.create to the subscription's chat id.

Feishu allows 50 messages/s per app and 5/s per chat ([feishu] sends_per_second and
sends_per_second_per_chat): one pace for the app and one per chat space the sends evenly on a fixed
grid (5 % under the limit), so that a strict one-second window never sees a burst and a sender that
wakes late does not cost the others its lost time. "Too fast" answers that still come are waited out by
FeishuApi (after the window it is told); each message carries a uuid, so a send retried after a lost
answer is delivered once.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable

from bot.feishu.api import FeishuApi, FeishuApiError
from bot.feishu.client import FeishuCredentialError
from bot.feishu.render import card
from knowledge.answer import Line
from reminders.channels import ATTEMPTS, BACKOFF, SendResult, Sleep
from reminders.models import Subscription

# The bot left the chat (230002) or the person is outside the app's availability (230013): for good.
GONE_CODES = frozenset({230002, 230013})
# The message itself is refused (invalid parameter 230001, content too long 230025): sending it again cannot help.
REFUSED_CODES = frozenset({230001, 230025})
CHATS_KEPT = 10_000
HEADROOM = 0.95  # pace at 95 % of a limit: a few late sends never make a second hold one too many


class Pace:
    """Send times `1 / per_second` apart on a grid that does not slip: at most `per_second` in any second."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self.interval = 1 / (per_second * HEADROOM)
        self._next = 0.0
        self._clock, self._sleep = clock, sleep

    async def wait(self) -> None:
        now = self._clock()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await self._sleep(slot - now)


def reminder_uuid(subscription: Subscription, lines: list[Line]) -> str:
    """The same reminder to the same subscription is the same message (Feishu keeps a uuid for 1 h)."""
    text = "\n".join(line.text for line in lines)
    return hashlib.sha256(f"{subscription.id}\n{subscription.chat_id}\n{text}".encode()).hexdigest()[:40]


class FeishuChannel:
    def __init__(self, api: FeishuApi, sends_per_second: int, sends_per_second_per_chat: int,
                 sleep: Sleep = asyncio.sleep) -> None:
        self.api = api
        self.sleep = sleep
        self._app = Pace(sends_per_second)
        self._per_chat = sends_per_second_per_chat
        self._chats: OrderedDict[str, Pace] = OrderedDict()

    def _chat_pace(self, chat_id: str) -> Pace:
        pace = self._chats.pop(chat_id, None) or Pace(self._per_chat)
        self._chats[chat_id] = pace
        while len(self._chats) > CHATS_KEPT:
            self._chats.popitem(last=False)
        return pace

    async def send(self, subscription: Subscription, lines: list[Line]) -> SendResult:
        chat_id = str(subscription.chat_id)
        content, uuid = card(lines), reminder_uuid(subscription, lines)
        delay, detail = BACKOFF, ""
        for attempt in range(1, ATTEMPTS + 1):
            await self._chat_pace(chat_id).wait()
            await self._app.wait()
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
