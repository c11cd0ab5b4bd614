"""The 企业微信 adapter: the 智能机器人 long connection (bot/wecom/client.py) in, neutral messages to the
conversation, its replies back as markdown and template cards.

- A message (single chat, or a group message that @-mentions the robot: WeCom delivers only those)
  is answered under its req_id with one markdown reply, and at most one button card (WeCom takes one
  card per reply); choices that do not fit a card are numbered lines, and a later bare number from
  the same person picks one.
- A card click (template_card_event) carries the button's key, our payload. A key the conversation
  cannot parse is forged or stale: logged and ignored. Its replies are pushed to the chat
  (aibot_send_msg, within the send limits): a click's req_id only takes a card update.
- enter_chat gets the /start text as the welcome message. Other events are logged and ignored.
- WeCom does not say who manages a group, so only bot admins subscribe groups (check_manager None).
"""

from __future__ import annotations

import logging
import secrets
import time

from bot.adapters import AdapterStopped
from bot.config import Config
from bot.text_choices import NumberedChoices
from bot.wecom.channel import WeComChannel
from bot.wecom.client import (
    WeComClient,
    WeComCredentialError,
    WeComError,
    WeComNotConnected,
    WeComReplaced,
    WeComRequestError,
)
from bot.wecom.protocol import WeComMessage
from bot.wecom.render import PUSH_MAX_BYTES, REPLY_MAX_BYTES, Rendered, plain_text, render
from handlers.callbacks import parse_callback
from handlers.core import Conversation
from handlers.messages import GROUP, PRIVATE, Incoming, Reply
from handlers.services import Services

log = logging.getLogger(__name__)
APP = "wecom"
START_WAIT = 5.0  # seconds start() waits for the first connection before letting it retry in the background
MAX_TEXT = 4000  # characters of a message handed to the conversation
TEXT_TYPES = ("text", "mixed", "voice")  # voice: WeCom gives its transcription as text
WELCOME_MAX_BYTES = 2048
ERR_INVALID_REQ_ID = 846605  # the req_id no longer takes a reply (answered too late): push instead


def neutral_chat(wecom_id: str) -> str:
    """WeCom's chatid / userid as our chat id. An all-digit userid ("0012") gets a "#" (never in a WeCom
    id) so that the subscription store does not read it as a number and lose its leading zeros."""
    return "#" + wecom_id if wecom_id.lstrip("-").isdigit() else wecom_id


def wecom_chat(chat_id: str) -> str:
    return chat_id[1:] if chat_id.startswith("#") else chat_id


def new_task_id() -> str:
    """A card's task_id: unique, letters, digits and _ only."""
    return f"pb_{int(time.time() * 1000)}_{secrets.token_hex(6)}"


class WeComAdapter:
    app = APP

    def __init__(self, config: Config, services: Services, *, client: WeComClient | None = None,
                 start_wait: float = START_WAIT) -> None:
        self.services = services
        self.start_wait = start_wait
        self.client = client or WeComClient(config.credential(APP, "bot_id"), config.credential(APP, "secret"),
                                            self.on_callback, ws_url=config.wecom.ws_url)
        self._channel = WeComChannel(self.client, config.wecom.sends_per_second,
                                     config.wecom.sends_per_minute_per_chat, chat_key=wecom_chat)
        self.shown = NumberedChoices()
        self.conversation: Conversation | None = None

    async def start(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self.client.start()
        try:
            await self.client.wait_connected(timeout=self.start_wait)
        except WeComCredentialError as e:
            raise AdapterStopped(str(e), 2) from None
        except WeComReplaced as e:
            raise AdapterStopped(f"企业微信：{e}", 1) from None
        except WeComNotConnected:
            log.warning("企业微信: not connected yet (%s); retrying in the background", self.client.state)

    async def stop(self) -> None:
        await self.client.stop()

    def channel(self) -> WeComChannel:
        return self._channel

    # ------------------------------------------------------------------ WeCom -> neutral

    async def on_callback(self, message: WeComMessage) -> None:
        if self.conversation is None:
            return
        if message.msgtype == "event":
            await self._on_event(message)
            return
        chat_id = neutral_chat(message.chat_id)
        text = message.text[:MAX_TEXT] if message.msgtype in TEXT_TYPES else message.text
        chosen = self.shown.payload((chat_id, message.user_id), text)
        incoming = Incoming(
            app=APP, chat_id=chat_id, chat_kind=GROUP if message.is_group else PRIVATE,
            sender_id=message.user_id, text="" if chosen else text, addressed=True, choice=chosen,
            has_media=message.msgtype not in TEXT_TYPES,
        )

        async def send(replies: list[Reply]) -> None:
            await self._reply(message, incoming, replies)

        await self.conversation.handle(incoming, send)

    async def _on_event(self, message: WeComMessage) -> None:
        assert self.conversation is not None
        if message.event_type == "template_card_event":
            await self._on_click(message)
        elif message.event_type == "enter_chat":
            incoming = Incoming(app=APP, chat_id=neutral_chat(message.chat_id), chat_kind=PRIVATE,
                                sender_id=message.user_id, text="/start", addressed=True)

            async def welcome(replies: list[Reply]) -> None:
                try:
                    await self.client.reply_welcome(message.req_id, plain_text(replies, WELCOME_MAX_BYTES))
                except WeComError as e:
                    log.warning("企业微信: welcome to %s not sent: %s", message.user_id, e)

            await self.conversation.handle(incoming, welcome)
        else:
            log.info("企业微信: ignored event %.40r from %s", message.event_type, message.user_id)

    async def _on_click(self, message: WeComMessage) -> None:
        assert self.conversation is not None
        payload = message.event_key
        if parse_callback(payload) is None:
            log.warning("企业微信: ignored a card click with unknown data %.80r from %s in %s",
                        payload, message.user_id, message.chat_id)
            return
        incoming = Incoming(app=APP, chat_id=neutral_chat(message.chat_id),
                            chat_kind=GROUP if message.is_group else PRIVATE, sender_id=message.user_id,
                            addressed=True, choice=payload)

        async def send(replies: list[Reply]) -> None:
            await self._push(message.chat_id, incoming, replies)

        await self.conversation.handle(incoming, send)

    # ------------------------------------------------------------------ neutral -> WeCom

    def _render(self, incoming: Incoming, replies: list[Reply], max_bytes: int) -> Rendered:
        rendered = render(replies, max_bytes=max_bytes)
        self.shown.remember((incoming.chat_id, incoming.sender_id), rendered.numbered)
        return rendered

    async def _reply(self, message: WeComMessage, incoming: Incoming, replies: list[Reply]) -> None:
        """One reply under the message's req_id (markdown, with the card if any)."""
        rendered = self._render(incoming, replies, REPLY_MAX_BYTES)
        card = rendered.card(new_task_id())
        try:
            if card and rendered.markdown:
                await self.client.reply_markdown_with_card(message.req_id, rendered.markdown, card)
            elif card:
                await self.client.reply_template_card(message.req_id, card)
            elif rendered.markdown:
                await self.client.reply_markdown(message.req_id, rendered.markdown)
        except WeComRequestError as e:
            if e.errcode != ERR_INVALID_REQ_ID:
                log.warning("企业微信: reply to %s in %s refused: %s", message.user_id, message.chat_id, e)
                return
            log.info("企业微信: the message's req_id expired; pushing the answer instead")
            await self._push(message.chat_id, incoming, replies)
        except WeComError as e:
            log.warning("企业微信: reply to %s in %s not sent: %s", message.user_id, message.chat_id, e)

    async def _push(self, chat_id: str, incoming: Incoming, replies: list[Reply]) -> None:
        """Replies pushed to the chat (aibot_send_msg): markdown, then the card, within the send limits.
        A pop-up (a refusal to a pressed button) becomes a message: WeCom has no pop-ups for a bot."""
        rendered = self._render(incoming, replies, PUSH_MAX_BYTES)
        card = rendered.card(new_task_id())
        try:
            if rendered.markdown:
                await self._channel.push(chat_id, "markdown", {"content": rendered.markdown})
            if card:
                await self._channel.push(chat_id, "template_card", card)
        except WeComError as e:
            log.warning("企业微信: answer to %s in %s not sent: %s", incoming.sender_id, chat_id, e)
