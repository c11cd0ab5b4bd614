"""Robot messages to 钉钉 chats: reminders (the reminder service's channel) and replies whose session webhook expired.

Groups get groupMessages/send (the chat id is the group's openConversationId, "cid…"); private chats
oToMessages/batchSend to the person's staff id (chat id "u:<staff id>", so an all-digit staff id never
becomes a number in the reminder store). DingTalk allows 20 calls/s per app and API
(`[dingtalk] sends_per_second`); calls are spaced evenly, and a "too fast" answer is retried after
DingTalk's one-second window.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from bot.dingtalk.api import DingTalkApi, DingTalkError, Refused, TooFast
from bot.dingtalk.render import title_of, to_markdown
from knowledge.answer import Line
from reminders.channels import ATTEMPTS, BACKOFF, SendResult, Sleep
from reminders.models import Subscription

log = logging.getLogger(__name__)
PRIVATE_PREFIX = "u:"
MARKDOWN_KEY = "sampleMarkdown"
TOO_FAST_WAIT = 1.0  # DingTalk's API limits are per second
MARGIN = 1.04  # space calls a little wider than the limit: network jitter must not squeeze 21 into a second
GONE_STAFF = "invalidStaffId"  # our code for a staff id DingTalk listed as invalid (left the organisation)
# The organisation's monthly quota of metered API calls is used up (standard edition: 10,000 a month);
# https://www.dingtalk.com/qidian/help-detail-1061621972.html
QUOTA_CODES = {90020, "Forbidden.AccessDenied.ApiCountLimitForOrg"}
QUOTA_USED_UP = ("the organisation's monthly DingTalk API quota is used up (standard edition: 10,000 calls); "
                 "see 开发者后台 › 资源管理 › 用量明细")


def private_chat_id(staff_id: str) -> str:
    return PRIVATE_PREFIX + staff_id


def staff_of(chat_id: str) -> str | None:
    """The staff id of a private chat id, or None for a group."""
    return chat_id[len(PRIVATE_PREFIX):] if chat_id.startswith(PRIVATE_PREFIX) else None


def chat_gone(error: DingTalkError) -> bool:
    """DingTalk says this chat cannot be reached for good: robot not in the group, person gone."""
    return error.code == GONE_STAFF or "openConversationId" in str(error.code)


class Pacer:
    """Calls started at evenly spaced instants. Each caller takes the next free instant when it arrives, so a
    late wake-up does not push every later call back (as a leaky bucket that waits from the last call does)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next = 0.0

    async def wait(self) -> None:
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class DingTalkChannel:
    """One per app: the robot message APIs within the app's limits (shared by reminders and reply fallbacks)."""

    def __init__(self, api: DingTalkApi, sends_per_second: int = 20, *, sleep: Sleep = asyncio.sleep,
                 too_fast_wait: float = TOO_FAST_WAIT) -> None:
        self.api = api
        self.sleep = sleep
        self.too_fast_wait = too_fast_wait
        interval = MARGIN / sends_per_second
        self._pacers = {"group": Pacer(interval), "oto": Pacer(interval)}

    async def push(self, chat_id: str, title: str, text: str) -> None:
        """One markdown robot message to a chat; "too fast" is retried. Raises DingTalkError or a network error."""
        param = {"title": title, "text": text}
        staff = staff_of(chat_id)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                if staff is None:
                    await self._pacers["group"].wait()
                    await self.api.send_group(chat_id, MARKDOWN_KEY, param)
                    return
                await self._pacers["oto"].wait()
                answer = await self.api.send_private([staff], MARKDOWN_KEY, param)
                if staff in (answer.get("invalidStaffIdList") or []):
                    raise Refused(200, GONE_STAFF, f"DingTalk lists {staff} as invalid")
                if staff in (answer.get("flowControlledStaffIdList") or []):
                    raise TooFast(200, "flowControlled", f"DingTalk held back the message to {staff}")
                return
            except TooFast:
                if attempt == ATTEMPTS:
                    raise
                await self.sleep(self.too_fast_wait)

    async def send(self, subscription: Subscription, lines: list[Line]) -> SendResult:
        """A reminder to the subscribed chat."""
        chat_id = str(subscription.chat_id)
        text, title = to_markdown(lines), title_of(lines)
        delay, detail = BACKOFF, ""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await self.push(chat_id, title, text)
                return SendResult.sent()
            except TooFast as e:
                return SendResult(False, detail=f"too fast: {e}")
            except Refused as e:
                if e.code in QUOTA_CODES:
                    return SendResult(False, detail=f"{QUOTA_USED_UP}: {e}")
                if chat_gone(e):
                    return SendResult(False, permanent=True, disable=True, detail=f"chat gone: {e}")
                if str(e.code).startswith("invalidParameter.msg"):  # our message itself: sending again cannot help
                    return SendResult(False, permanent=True, detail=f"refused: {e}")
                # credentials, robot code, DingTalk trouble: the next run tries again
                return SendResult(False, detail=f"refused: {e}")
            except (aiohttp.ClientError, TimeoutError) as e:
                detail = f"network: {type(e).__name__}: {e}"
                if attempt < ATTEMPTS:
                    await self.sleep(delay)
                    delay *= 2
        return SendResult(False, detail=detail)
