"""The 飞书 adapter: events from the long connection (bot/feishu/client.py) become neutral incoming
messages for the conversation; replies go back as interactive cards through the reply API.

- im.message.receive_v1, private (p2p) and group: the @_user_N keys of `mentions` are taken out of the
  text; a group message is for the bot when it mentions someone (Feishu delivers a group message to an
  app only when it @-mentions the bot, unless the app holds the all-group-messages scope) or is a command.
- choices: buttons whose value carries the payload; a click comes back as card.action.trigger over the
  same connection. Its ack carries a toast (a refusal's pop-up when the answer is ready within the
  bound, else "已收到"), and the answer itself follows as a message, so a slow answer never misses
  Feishu's 3 s. Where a card with buttons is refused, the choices go as numbered lines instead, and the
  person's next bare number picks one.
- Feishu does not say here who manages a group: only bot admins ([feishu] admins, open_ids) subscribe groups.
- files cannot be sent from here: a reply says which file it was.
Events Feishu delivers twice (event_id) are handled once; bad events are logged and ignored.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from bot.adapters import AdapterStopped
from bot.config import Config
from bot.feishu.api import APP_TOO_FAST, CHAT_TOO_FAST, FeishuApi, FeishuApiError
from bot.feishu.channel import FeishuChannel
from bot.feishu.client import FeishuCredentialError, FeishuLongConnection
from bot.feishu.render import RECEIVED, clicked, numbered_card, reply_card, toast
from bot.text_choices import NumberedChoices
from handlers.core import Conversation
from handlers.messages import GROUP, PRIVATE, Incoming, Reply
from handlers.services import Services

log = logging.getLogger(__name__)
APP = "feishu"
MESSAGE_EVENT = "im.message.receive_v1"
MAX_TEXT = 4000          # characters of a question; longer messages are ignored
CARD_WAIT = 2.0          # seconds a click waits for its pop-up before acking with RECEIVED (the client's bound is 2.5)
KEPT = 10_000            # event ids and chat kinds remembered
START_CHECK = 5.0        # seconds the credential check at start may take before the other apps start anyway
REJECTED = ("飞书拒绝了应用凭证（{detail}）：请检查 [feishu] app_id 和 app_secret"
            "（或环境变量 POLICYBOT_FEISHU_APP_ID / POLICYBOT_FEISHU_APP_SECRET）")
Send = Callable[[list[Reply]], Awaitable[None]]


class Bounded(OrderedDict):
    """A dict that forgets its oldest keys beyond `size`."""

    def __init__(self, size: int = KEPT) -> None:
        super().__init__()
        self.size = size

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


# ---------------------------------------------------------------------- Feishu -> neutral


def message_text(message_type: str, content: Any) -> str | None:
    """The text of a text or post (rich text) message; None for other kinds (pictures, files, …)."""
    if message_type == "text":
        if not isinstance(content, dict) or not isinstance(content.get("text"), str):
            raise ValueError("text message without text")
        return content["text"]
    if message_type != "post":
        return None
    if not isinstance(content, dict):
        raise ValueError("post content is not an object")
    if "content" not in content:  # {"zh_cn": {"title", "content"}, …}
        content = next((v for v in content.values() if isinstance(v, dict) and "content" in v), {})
    paragraphs = content.get("content")
    if not isinstance(paragraphs, list):
        raise ValueError("post without paragraphs")
    out = [content["title"]] if isinstance(content.get("title"), str) and content["title"] else []
    for paragraph in paragraphs:
        pieces = []
        for element in paragraph if isinstance(paragraph, list) else []:
            if isinstance(element, dict) and element.get("tag") in ("text", "a") and isinstance(element.get("text"), str):
                pieces.append(element["text"])
            elif isinstance(element, dict) and element.get("tag") == "at" and isinstance(element.get("user_id"), str):
                pieces.append(element["user_id"])  # the @_user_N key, taken out with the mentions
        out.append("".join(pieces))
    return "\n".join(out)


def without_mentions(text: str, mentions: Any) -> tuple[str, bool]:
    """The text without the mentions' @_user_N keys (longest first: @_user_1 is in @_user_12), and whether any was there."""
    keys = sorted((m["key"] for m in mentions or [] if isinstance(m, dict) and isinstance(m.get("key"), str)
                   and m["key"]), key=len, reverse=True)
    found = False
    for key in keys:
        found = found or key in text
        text = text.replace(key, " ")
    return re.sub(r"[ \t\u00a0]+", " ", text).strip(), found


def parse_message(event: Any) -> tuple[Incoming, str] | None:
    """The neutral message and the Feishu message id of an im.message.receive_v1 event's `event`;
    None for what is not for the bot (a message from another app or bot). ValueError when malformed."""
    if not isinstance(event, dict):
        raise ValueError("event is not an object")
    sender, message = event.get("sender"), event.get("message")
    if not isinstance(sender, dict) or not isinstance(message, dict):
        raise ValueError("no sender or message")
    if sender.get("sender_type", "user") != "user":
        return None
    sender_ids = sender.get("sender_id")
    open_id = _text(sender_ids.get("open_id") if isinstance(sender_ids, dict) else None)
    message_id, chat_id = _text(message.get("message_id")), _text(message.get("chat_id"))
    if not (open_id and message_id and chat_id):
        raise ValueError("no open_id, message_id or chat_id")
    kind = {"p2p": PRIVATE, "group": GROUP}.get(_text(message.get("chat_type")))
    if kind is None:
        raise ValueError(f"unknown chat_type {message.get('chat_type')!r}")
    message_type = message.get("message_type")
    raw = message.get("content")
    if not isinstance(message_type, str) or not isinstance(raw, str):
        raise ValueError("no message_type or content")
    try:
        content = json.loads(raw)
    except ValueError:
        raise ValueError("content is not JSON") from None
    text = message_text(message_type, content)
    if text is not None and len(text) > MAX_TEXT:
        raise ValueError(f"message of {len(text)} characters")
    text, mentioned = without_mentions(text or "", message.get("mentions"))
    addressed = kind == PRIVATE or mentioned or text.startswith("/")
    return Incoming(app=APP, chat_id=chat_id, chat_kind=kind, sender_id=open_id, text=text, addressed=addressed,
                    has_media=message_type not in ("text", "post")), message_id


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def send_uuid(*parts: str) -> str:
    """A message's uuid (≤ 50 characters): the same parts, the same message, delivered once within an hour."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40]


# ---------------------------------------------------------------------- the adapter


class FeishuAdapter:
    app = APP

    def __init__(self, config: Config, services: Services, *, card_wait: float = CARD_WAIT,
                 initial_backoff: float = 1.0) -> None:
        settings = config.feishu
        self.app_id, self._secret = config.credential(APP, "app_id"), config.credential(APP, "app_secret")
        self.api = FeishuApi(self.app_id, self._secret, domain=settings.domain)
        self.connection = FeishuLongConnection(self.app_id, self._secret, self.on_event, on_card=self.on_card,
                                               domain=settings.domain, card_timeout=card_wait + 0.5,
                                               initial_backoff=initial_backoff)
        self._channel = FeishuChannel(self.api, settings.sends_per_second, settings.sends_per_second_per_chat)
        self.services = services
        self.card_wait = card_wait
        self.conversation: Conversation | None = None
        self.numbered = NumberedChoices()
        self._seen_events: Bounded = Bounded()
        self._private_chats: Bounded = Bounded()
        self._tasks: set[asyncio.Task] = set()
        self._runner: asyncio.Task | None = None

    async def start(self, conversation: Conversation) -> None:
        self.conversation = conversation
        try:
            await asyncio.wait_for(self.api.check_credentials(), START_CHECK)
        except FeishuCredentialError as e:
            raise AdapterStopped(REJECTED.format(detail=_code_of(e)), 2) from None
        except (FeishuApiError, TimeoutError) as e:  # the network: the connection keeps trying in the background
            log.warning("feishu: cannot reach %s yet (%s); will keep trying", self.api.domain, e or "no answer")
        self._runner = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            await self.connection.run()
        except FeishuCredentialError as e:
            log.error("%s", REJECTED.format(detail=_code_of(e)))

    async def stop(self) -> None:
        await self.connection.stop()
        if self._runner is not None:
            await self._runner
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5.0)
            for task in list(self._tasks):
                task.cancel()
        await self.api.close()

    def channel(self) -> FeishuChannel:
        return self._channel

    # ------------------------------------------------------------------ events

    def _first_time(self, header: dict) -> bool:
        event_id = header.get("event_id")
        if not isinstance(event_id, str) or not event_id:
            return True
        if event_id in self._seen_events:
            log.info("feishu: event %s delivered again; handled once", event_id)
            return False
        self._seen_events[event_id] = True
        return True

    async def on_event(self, event: dict) -> None:
        """An event from the connection (already acked). No await before the conversation takes it: a
        chat's messages reach it in the order they came."""
        header = event.get("header")
        event_type = header.get("event_type") if isinstance(header, dict) else None
        if event_type != MESSAGE_EVENT:
            log.warning("feishu: ignored an event of type %r", event_type)
            return
        assert isinstance(header, dict) and self.conversation is not None
        if not self._first_time(header):
            return
        try:
            parsed = parse_message(event.get("event"))
        except ValueError as e:
            log.warning("feishu: ignored a malformed message event: %s", e)
            return
        if parsed is None:
            return
        incoming, message_id = parsed
        if incoming.chat_kind == PRIVATE:
            self._private_chats[incoming.chat_id] = True
        chosen = self.numbered.payload(incoming.person, incoming.text) if incoming.text.isdigit() else None
        if chosen is not None:
            incoming = replace(incoming, text="", choice=chosen)
        await self.conversation.handle(incoming, self._replier(incoming, message_id))

    def _replier(self, incoming: Incoming, message_id: str) -> Send:
        """Replies to a message: each one a reply to it (a refusal's pop-up is a message here)."""
        sent = 0

        async def send(replies: list[Reply]) -> None:
            nonlocal sent
            for reply in replies:
                sent += 1
                await self._deliver(incoming, reply, send_uuid(self.app_id, message_id, str(sent)), reply_to=message_id)

        return send

    async def _deliver(self, incoming: Incoming, reply: Reply, uuid: str, *, reply_to: str | None = None) -> None:
        """One reply as a card (buttons, or numbered lines where Feishu refuses the buttons)."""
        if not (reply.lines or reply.file or reply.choices):
            return
        private = incoming.chat_id if incoming.chat_kind == PRIVATE else ""
        content = reply_card(reply, secret=self._secret, private_chat=private)
        try:
            try:
                await self._post(incoming.chat_id, content, uuid, reply_to)
            except FeishuApiError as e:
                if not reply.choices or e.code is None or e.code in (CHAT_TOO_FAST, APP_TOO_FAST):
                    raise
                log.warning("feishu: a card with buttons was refused (%s); sending numbered choices", e)
                content, choices = numbered_card(reply)
                await self._post(incoming.chat_id, content, uuid + "n", reply_to)
                self.numbered.remember(incoming.person, choices)
        except (FeishuApiError, FeishuCredentialError) as e:
            log.warning("feishu: could not answer in %s: %s", incoming.chat_id, e)

    async def _post(self, chat_id: str, content: dict, uuid: str, reply_to: str | None) -> None:
        if reply_to is not None:
            await self.api.reply(reply_to, "interactive", content, uuid=uuid)
        else:
            await self.api.send(chat_id, "interactive", content, uuid=uuid)

    # ------------------------------------------------------------------ card clicks

    async def on_card(self, event: dict) -> dict | None:
        """A button click: the ack's toast within `card_wait`; the answer goes to the chat as a message."""
        header = event.get("header")
        if not isinstance(header, dict) or not self._first_time(header):
            return None
        assert self.conversation is not None
        incoming = self._click(event.get("event"))
        if incoming is None:
            return None
        popup: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        event_id = str(header.get("event_id") or id(event))
        sent = 0

        async def send(replies: list[Reply]) -> None:
            nonlocal sent
            for reply in replies:
                if reply.alert and not popup.done():
                    popup.set_result(reply.text)
                    continue
                sent += 1
                await self._deliver(incoming, reply, send_uuid(self.app_id, event_id, str(sent)))

        async def handle() -> None:
            try:
                await self.conversation.handle(incoming, send)  # type: ignore[union-attr]
            finally:
                if not popup.done():
                    popup.set_result(None)

        task = asyncio.create_task(handle())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            text = await asyncio.wait_for(asyncio.shield(popup), self.card_wait)
        except TimeoutError:
            if not popup.done():
                popup.cancel()  # a pop-up that comes later is sent as a message
            text = popup.result() if not popup.cancelled() else None
        return toast(text, "warning") if text else toast(RECEIVED)

    def _click(self, body: Any) -> Incoming | None:
        """The neutral choice of a card.action.trigger event's `event`; None (logged) when it is not one of ours."""
        try:
            operator, action, context = body["operator"], body["action"], body["context"]
            open_id, chat_id = operator["open_id"], context["open_chat_id"]
            if not (isinstance(open_id, str) and open_id and isinstance(chat_id, str) and chat_id):
                raise TypeError
            found = clicked(action.get("value"), chat_id, self._secret)
        except (KeyError, TypeError, AttributeError):
            log.warning("feishu: ignored a card click without operator, chat or action")
            return None
        if found is None:
            log.warning("feishu: ignored a card click whose value is not one of our buttons")
            return None
        payload, private = found
        private = private or chat_id in self._private_chats
        return Incoming(app=APP, chat_id=chat_id, chat_kind=PRIVATE if private else GROUP, sender_id=open_id,
                        addressed=True, choice=payload)


def _code_of(error: Exception) -> str:
    match = re.search(r"code (\d+)", str(error))
    return f"错误码 {match[1]}" if match else str(error)[:80]
