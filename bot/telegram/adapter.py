"""The Telegram adapter: updates from python-telegram-bot become neutral incoming messages for the
conversation, and its replies go back as HTML messages, inline keyboards, edits, pop-ups and files.

What is registered, in order:
  group 0  group migration and the bot's own membership (removed from a chat) — subscriptions follow
  group 1  choices (callback queries)
  group 2  every other message: text, commands, captions, documents, photos
The error handler is added last. Privacy mode: in groups only addressed messages reach the core.
"""

from __future__ import annotations

import logging

from telegram import BotCommand, Chat, ChatMember, ChatMemberUpdated, ForceReply, Message, MessageEntity, Update, User
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.adapters import AdapterStopped
from bot.config import Config
from bot.services import SERVICES_KEY
from bot.telegram.channel import TelegramChannel
from bot.telegram.html import alert_text, lines_to_html, reply_markup
from bot.telegram.limits import ChatRateLimiter
from bot.telegram.request import AiohttpRequest, get_updates_request
from handlers import subscriptions, texts
from handlers.commands import public_commands
from handlers.core import Conversation
from handlers.messages import GROUP, PRIVATE, Incoming, IncomingFile, Reply
from handlers.services import Services

log = logging.getLogger(__name__)
APP = "telegram"
CONVERSATION_KEY = "conversation"
ADMIN_STATUSES = (ChatMember.OWNER, ChatMember.ADMINISTRATOR)
GONE_STATUSES = (ChatMember.LEFT, ChatMember.BANNED)
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
# Telegram allows about 30 messages/s overall and 20 a minute per group. One message per 1/28 s spaces
# them out evenly (no bursts for a strict window to refuse) with a little room for network jitter.
MESSAGES_PER_SECOND = 28
GROUP_MESSAGES_PER_MINUTE = 20
REJECTED_TOKEN = "Telegram 拒绝了这个 token：请检查 POLICYBOT_TELEGRAM_TOKEN 或 [telegram] token（向 @BotFather 获取）"


def rate_limiter() -> ChatRateLimiter:
    return ChatRateLimiter(per_second=MESSAGES_PER_SECOND, group_per_minute=GROUP_MESSAGES_PER_MINUTE, max_retries=3)


def build_application(config: Config, *, request: BaseRequest | None = None) -> Application:
    """The PTB Application with its handlers. Updates of different chats are handled side by side;
    the conversation keeps each chat's order."""
    builder = (ApplicationBuilder().token(config.telegram_token).rate_limiter(rate_limiter())
               .concurrent_updates(True))
    if config.telegram.base_url:
        builder = builder.base_url(config.telegram.base_url)
    if config.telegram.base_file_url:
        builder = builder.base_file_url(config.telegram.base_file_url)
    # aiohttp for the Bot API (bot/telegram/request.py): the same requests as PTB's httpx, less CPU each
    builder = builder.request(request or AiohttpRequest()).get_updates_request(get_updates_request())
    app = builder.build()
    register(app)
    return app


class TelegramAdapter:
    """Long polling (no public address needed); the commands menu is set at start."""

    app = APP

    def __init__(self, config: Config, services: Services, *, poll_timeout: int = 10) -> None:
        self.application = build_application(config)
        self.application.bot_data[SERVICES_KEY] = services
        self.poll_timeout = poll_timeout

    async def start(self, conversation: Conversation) -> None:
        self.application.bot_data[CONVERSATION_KEY] = conversation
        try:
            await self.application.initialize()  # asks Telegram who we are: a bad token fails here
        except InvalidToken:
            raise AdapterStopped(REJECTED_TOKEN, 2) from None
        except NetworkError as e:
            raise AdapterStopped(f"无法连接 Telegram Bot API：{e}", 1) from None
        await self.application.start()
        assert self.application.updater is not None
        await self.application.updater.start_polling(poll_interval=0.0, timeout=self.poll_timeout,
                                                     allowed_updates=ALLOWED_UPDATES)
        await self.application.bot.set_my_commands([BotCommand(c.name, c.description) for c in public_commands()])
        log.info("telegram: @%s ready", self.application.bot.username)

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    def channel(self) -> TelegramChannel:
        return TelegramChannel(self.application.bot)


def register(app: Application) -> None:
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate), group=0)
    app.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER), group=0)
    app.add_handler(CallbackQueryHandler(on_choice), group=1)
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL, on_message), group=2)
    app.add_error_handler(on_error)


def _services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data[SERVICES_KEY]


def _conversation(context: ContextTypes.DEFAULT_TYPE) -> Conversation:
    return context.application.bot_data[CONVERSATION_KEY]


# ---------------------------------------------------------------------- Telegram -> neutral


def incoming_message(message: Message, username: str, bot_id: int, context: ContextTypes.DEFAULT_TYPE) -> Incoming | None:
    """The neutral message, or None for one that is not for this bot (a command for another bot)."""
    chat = message.chat
    text = message.text or message.caption or ""
    mention = f"@{username}"
    command = text.startswith("/")
    if command:
        head = text.split(maxsplit=1)[0]
        if "@" in head and head.split("@", 1)[1].lower() != username.lower():
            return None
    found = (message.parse_entities if message.text else message.parse_caption_entities)([MessageEntity.MENTION])
    mentioned = any(name.lower() == mention.lower() for name in found.values())
    replied = bool(message.reply_to_message and message.reply_to_message.from_user
                   and message.reply_to_message.from_user.id == bot_id)
    if mentioned:
        text = text.replace(mention, "").strip()
    user = message.from_user
    sender = str(user.id) if user else f"chat:{message.sender_chat.id if message.sender_chat else 0}"
    file = None
    if message.document is not None:
        document = message.document

        async def fetch() -> bytes:
            return bytes(await (await document.get_file()).download_as_bytearray())

        file = IncomingFile(document.file_name or "document.txt", document.file_size, fetch)
    media = bool(message.photo or message.sticker or message.voice or message.video or message.audio
                 or message.animation or message.video_note)
    return Incoming(
        app=APP, chat_id=str(chat.id), chat_kind=PRIVATE if chat.type == Chat.PRIVATE else GROUP,
        sender_id=sender, text=text, addressed=chat.type == Chat.PRIVATE or command or mentioned or replied,
        file=file, has_media=media, check_manager=lambda: _manages(context, message.chat.id, message.from_user,
                                                                   message.sender_chat),
    )


async def _manages(context: ContextTypes.DEFAULT_TYPE, chat_id: int, user: User | None,
                   sender_chat: Chat | None = None) -> bool:
    """Group administrators (also when posting anonymously as the group) manage the group."""
    if sender_chat is not None and sender_chat.id == chat_id:
        return True
    if user is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat_id, user.id)
    except TelegramError as e:
        log.warning("getChatMember failed in %s: %s", chat_id, e)
        return False
    return member.status in ADMIN_STATUSES


# ---------------------------------------------------------------------- handlers


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    incoming = incoming_message(message, context.bot.username, context.bot.id, context)
    if incoming is None:
        return

    async def send(replies: list[Reply]) -> None:
        for reply in replies:
            if reply.file is not None:
                await message.reply_document(document=reply.file.data, filename=reply.file.name,
                                             caption=reply.file.caption or None)
            if reply.lines:
                await message.reply_text(lines_to_html(reply.lines), parse_mode=ParseMode.HTML,
                                         reply_markup=reply_markup(reply), disable_web_page_preview=True)

    await _conversation(context).handle(incoming, send)


async def on_choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    message = query.message if isinstance(query.message, Message) else None
    chat = message.chat if message else None
    incoming = Incoming(
        app=APP, chat_id=str(chat.id) if chat else f"user:{query.from_user.id}",
        chat_kind=PRIVATE if chat is None or chat.type == Chat.PRIVATE else GROUP,
        sender_id=str(query.from_user.id), addressed=True, choice=query.data or "",
        check_manager=(lambda: _manages(context, chat.id, query.from_user)) if chat else None,
    )

    async def send(replies: list[Reply]) -> None:
        alert = next((r for r in replies if r.alert), None)
        await query.answer(alert_text(alert) if alert else None, show_alert=alert is not None)
        if message is None:  # a button on an inline message: there is no chat to write to
            return
        for reply in replies:
            if reply.alert:
                continue
            if reply.file is not None:
                await context.bot.send_document(message.chat.id, reply.file.data, filename=reply.file.name,
                                                caption=reply.file.caption or None)
            if not reply.lines:
                continue
            text, markup = lines_to_html(reply.lines), reply_markup(reply)
            if reply.replace and not isinstance(markup, ForceReply):  # an edit carries buttons only
                await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup,
                                              disable_web_page_preview=True)
            else:
                await context.bot.send_message(message.chat.id, text, parse_mode=ParseMode.HTML,
                                               reply_markup=markup, disable_web_page_preview=True)

    await _conversation(context).handle(incoming, send)


async def on_migrate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group upgraded to a supergroup: its subscriptions follow it to the new chat id."""
    message = update.effective_message
    if message is not None and message.migrate_to_chat_id:
        await subscriptions.chat_moved(_services(context), message.chat_id, message.migrate_to_chat_id)


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is not None and change.new_chat_member.status in GONE_STATUSES:
        await subscriptions.bot_removed(_services(context), APP, change.chat.id)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one error handler: the traceback goes to the log, the person gets one polite line."""
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat:
        try:
            await context.bot.send_message(update.effective_chat.id, texts.ERROR)
        except Exception:  # the chat may be unreachable; the log already has the story
            log.warning("could not tell chat %s about the error", update.effective_chat.id)
