"""The 钉钉 adapter: robot messages from the Stream connection become neutral incoming messages, and the
conversation's replies go back as markdown through the message's session webhook, or through the robot
message API when the webhook has expired or is busy.

Chats: a group is its openConversationId ("cid…"), a private chat "u:<staff id>" (what oToMessages needs).
People are their staff ids (`[dingtalk] admins`). DingTalk's `isAdmin` field does not say whether the sender
manages the group, so only bot admins subscribe groups (`check_manager` is None). Choices are numbered
markdown links (see bot/dingtalk/render.py). Files cannot be sent or received by the robot here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.adapters import AdapterStopped
from bot.config import Config
from bot.dingtalk.api import DingTalkApi, DingTalkError, Refused, SessionExpired, TooFast
from bot.dingtalk.channel import QUOTA_CODES, QUOTA_USED_UP, DingTalkChannel, private_chat_id
from bot.dingtalk.client import BOT_TOPIC, Backoff, CredentialsRejected, StreamClient, StreamEvent
from bot.dingtalk.render import choice_payload, reply_lines, title_of, to_markdown, webhook_markdown
from bot.text_choices import NumberedChoices, numbered_lines
from handlers.callbacks import parse_callback
from handlers.core import Conversation
from handlers.messages import GROUP, PRIVATE, Incoming, Reply
from handlers.services import Services

log = logging.getLogger(__name__)
APP = "dingtalk"
MAX_TEXT = 5000  # characters; DingTalk's own input box stops long before this
MEDIA_TYPES = {"picture", "file", "audio", "video"}
WEBHOOK_MARGIN_MS = 10_000  # a webhook that expires within this is treated as expired
REJECTED = ("钉钉拒绝了应用凭证：请检查 [dingtalk] client_id 和 client_secret"
            "（或环境变量 POLICYBOT_DINGTALK_CLIENT_ID / POLICYBOT_DINGTALK_CLIENT_SECRET）")
REJECTED_CODES = {"invalidClientIdOrSecret", "authFailed", "InvalidAuthentication"}


@dataclass(frozen=True)
class Route:
    """Where replies to one message go."""

    chat_id: str
    webhook: str
    webhook_expires_ms: int
    group: bool


def read_message(data: dict[str, Any], now_ms: int) -> tuple[Incoming, Route] | None:
    """A robot message's neutral form and reply route, or None (logged) for one this bot cannot use."""
    kind, conversation = data.get("conversationType"), data.get("conversationId")
    staff = data.get("senderStaffId") or data.get("senderId")
    msgtype = data.get("msgtype")
    if kind not in ("1", "2") or not isinstance(conversation, str) or not conversation or not isinstance(staff, str) \
            or not staff:
        log.warning("dingtalk: ignored a robot message without a usable conversation or sender: %.300r", data)
        return None
    if msgtype == "text":
        content = data.get("text", {}).get("content") if isinstance(data.get("text"), dict) else None
    elif msgtype == "richText":
        parts = (data.get("content") or {}).get("richText") if isinstance(data.get("content"), dict) else None
        content = "".join(p.get("text", "") for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)) \
            if isinstance(parts, list) else None
    elif msgtype in MEDIA_TYPES:
        content = ""
    else:
        log.warning("dingtalk: ignored a robot message of type %.40r", msgtype)
        return None
    if not isinstance(content, str):
        log.warning("dingtalk: ignored a %s message without readable content: %.300r", msgtype, data)
        return None
    if len(content) > MAX_TEXT:
        log.warning("dingtalk: ignored an oversized message (%d characters) from %s", len(content), staff)
        return None
    group = kind == "2"
    text = content.strip()
    payload = choice_payload(text)
    if payload is not None and parse_callback(payload) is None:
        log.warning("dingtalk: a choice with data this bot never made from %s: %.80r", staff, payload)
    chat_id = conversation if group else private_chat_id(staff)
    webhook, expires = data.get("sessionWebhook"), data.get("sessionWebhookExpiredTime")
    route = Route(chat_id, webhook if isinstance(webhook, str) else "",
                  expires if isinstance(expires, int) else now_ms + 60_000, group)
    incoming = Incoming(app=APP, chat_id=chat_id, chat_kind=GROUP if group else PRIVATE, sender_id=staff,
                        text="" if payload else text, addressed=not group or data.get("isInAtList", True) is True,
                        choice=payload, has_media=msgtype in MEDIA_TYPES)
    return incoming, route


class DingTalkAdapter:
    """Stream mode on our own client (bot/dingtalk/client.py); no public address needed."""

    app = APP

    def __init__(self, config: Config, services: Services, *, backoff: Backoff | None = None) -> None:
        settings = config.dingtalk
        client_id, secret = config.credential(APP, "client_id"), config.credential(APP, "client_secret")
        self.api = DingTalkApi(client_id, secret, services.http, robot_code=settings.robot_code,
                               endpoint=settings.endpoint)
        self._channel = DingTalkChannel(self.api, settings.sends_per_second)
        self.stream = StreamClient(client_id, secret, self._on_event, endpoint=settings.endpoint, backoff=backoff or Backoff(),
                                   topics=(BOT_TOPIC,))
        self.shown = NumberedChoices()
        self._conversation: Conversation | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, conversation: Conversation) -> None:
        """Check the credentials once (a rejected one stops this app), then connect in the background."""
        self._conversation = conversation
        try:
            await self.api.access_token()
        except Refused as e:
            if e.code in REJECTED_CODES or e.status in (401, 403):
                raise AdapterStopped(REJECTED, 2) from None
            log.warning("dingtalk: the token API answered %s; connecting anyway", e)
        except (aiohttp.ClientError, TimeoutError) as e:
            log.warning("dingtalk: cannot reach %s yet (%s: %s); retrying in the background",
                        self.api.endpoint, type(e).__name__, e)
        self._task = asyncio.create_task(self.stream.run(), name="dingtalk-stream")
        self._task.add_done_callback(self._ended)

    async def stop(self) -> None:
        await self.stream.stop()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, CredentialsRejected, TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), 10)
            if not self._task.done():
                self._task.cancel()

    def channel(self) -> DingTalkChannel:
        return self._channel

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and isinstance(task.exception(), CredentialsRejected):
            log.error("%s", REJECTED)

    # ------------------------------------------------------------------ incoming

    async def _on_event(self, event: StreamEvent) -> None:
        if event.topic != BOT_TOPIC or self._conversation is None:
            log.warning("dingtalk: ignored a push on topic %r", event.topic)
            return
        parsed = read_message(event.data, int(time.time() * 1000))
        if parsed is None:
            return
        incoming, route = parsed
        if incoming.choice is None and (chosen := self.shown.payload(incoming.person, incoming.text)) is not None:
            incoming = Incoming(app=APP, chat_id=incoming.chat_id, chat_kind=incoming.chat_kind,
                                sender_id=incoming.sender_id, addressed=True, choice=chosen)

        async def send(replies: list[Reply]) -> None:
            _, choices = numbered_lines(replies)
            self.shown.remember(incoming.person, choices)
            for n, reply in enumerate(replies):
                last = n == len(replies) - 1  # the numbered choices of all replies go after the last one
                body = reply_lines(reply)
                if not body and not (last and choices):
                    continue
                await self._reply(route, title_of(body), to_markdown(body, choices if last else None,
                                                                      group=route.group))

        await self._conversation.handle(incoming, send)

    async def _reply(self, route: Route, title: str, text: str) -> None:
        """Through the session webhook while it lives; else (or when it is busy) through the robot API."""
        if route.webhook and route.webhook_expires_ms - WEBHOOK_MARGIN_MS > time.time() * 1000:
            try:
                await self.api.reply(route.webhook, webhook_markdown(title, text))
                return
            except (SessionExpired, TooFast) as e:
                log.info("dingtalk: session webhook of %s unusable (%s); using the robot API", route.chat_id, e)
            except (DingTalkError, aiohttp.ClientError, TimeoutError) as e:
                log.warning("dingtalk: reply to %s failed: %s", route.chat_id, e)
                return
        try:
            await self._channel.push(route.chat_id, title, text)
        except DingTalkError as e:
            quota = e.code in QUOTA_CODES
            log.log(logging.ERROR if quota else logging.WARNING, "dingtalk: robot message to %s failed: %s%s",
                    route.chat_id, e, f" ({QUOTA_USED_UP})" if quota else "")
        except (aiohttp.ClientError, TimeoutError) as e:
            log.warning("dingtalk: robot message to %s failed: %s", route.chat_id, e)
