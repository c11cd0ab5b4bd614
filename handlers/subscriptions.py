"""Deadline subscriptions from the chat: /subscribe /subscriptions /unsubscribe /ics, the unsubscribe
buttons, and keeping subscriptions right when a group migrates or removes the bot.

In groups only group administrators and bot admins may change subscriptions; in a private chat the
user subscribes for themselves. Pushing to a WeCom / DingTalk / Feishu robot is for bot admins.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import ChatMember, ChatMemberUpdated, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from handlers import texts
from handlers.admin import command_rest, reply_lines
from handlers.ask import services
from handlers.render import Callback
from knowledge.answer import Line
from reminders import ics
from reminders.filters import FilterError, parse_subscribe
from reminders.models import TELEGRAM, SubscriptionFilter
from reminders.service import ReminderService

log = logging.getLogger(__name__)
ADMIN_STATUSES = (ChatMember.OWNER, ChatMember.ADMINISTRATOR)
GONE_STATUSES = (ChatMember.LEFT, ChatMember.BANNED)
PREVIEW_DAYS = 30


async def may_manage(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Private chats: yes. Groups: group administrators (also when posting anonymously) and bot admins."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if chat is None or chat.type == ChatType.PRIVATE:
        return True
    if services(context).is_admin(user.id if user else None):
        return True
    if message is not None and message.sender_chat is not None and message.sender_chat.id == chat.id:
        return True  # an anonymous group administrator
    if user is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as e:
        log.warning("getChatMember failed in %s: %s", chat.id, e)
        return False
    return member.status in ADMIN_STATUSES


async def managing(update: Update, context: ContextTypes.DEFAULT_TYPE) -> ReminderService | None:
    """The reminder service if this user may change this chat's subscriptions; else a refusal and None."""
    if update.effective_message is None or update.effective_chat is None:
        return None
    if not await may_manage(update, context):
        await update.effective_message.reply_text(texts.GROUP_ADMINS_ONLY)
        return None
    return services(context).reminders


async def on_subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    reminders = await managing(update, context)
    if reminders is None or message is None or chat is None:
        return
    svc = services(context)
    rest = command_rest(message)
    known = await svc.worker.run(svc.kb.searcher.known_departments)
    try:
        request = parse_subscribe(rest[0] if rest else "", known)
    except FilterError as e:
        await message.reply_text(f"{texts.NOT_SUBSCRIBED}{e}\n{texts.SUBSCRIBE_USAGE}")
        return
    if request.channel != TELEGRAM and not svc.is_admin(user.id if user else None):
        await message.reply_text(texts.WEBHOOK_ADMINS_ONLY)
        return
    store = reminders.store
    sub = await svc.worker.run(lambda: store.add(chat_id=chat.id, filter=request.filter, channel=request.channel,
                                                 webhook_url=request.webhook_url, secret=request.secret,
                                                 created_by=f"user:{user.id if user else '?'}"))
    upcoming = await svc.worker.run(_upcoming, svc, sub.filter)
    settings = reminders.settings
    lines = [Line(texts.SUBSCRIBED.format(sub=sub.describe()), strong=True),
             Line(texts.SUBSCRIBE_POLICY.format(leads="/".join(map(str, settings.lead_days)),
                                                at=settings.send_at.strftime("%H:%M")))]
    lines.append(Line(texts.SUBSCRIBE_UPCOMING.format(days=PREVIEW_DAYS, n=len(upcoming))))
    lines += [Line(f"· {text}") for text in upcoming[:5]]
    await reply_lines(message, lines)


def _upcoming(svc, flt: SubscriptionFilter) -> list[str]:  # type: ignore[no-untyped-def]
    """The subscription's items due in the next PREVIEW_DAYS, soonest first."""
    today = svc.today()
    items = [h.item for h in svc.kb.upcoming(today, PREVIEW_DAYS).hits if flt.matches(h.item)]
    return [f"#{i.id} {i.text[:40]}（{min(d.due for d in i.deadlines if d.due and d.due >= today)}）" for i in items]


async def on_subscriptions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    svc = services(context)
    assert svc.reminders is not None
    subs = await svc.worker.run(svc.reminders.store.for_chat, chat.id)
    if not subs:
        await message.reply_text(texts.NO_SUBSCRIPTIONS)
        return
    lines = [Line(texts.SUBSCRIPTIONS_TITLE, strong=True), *(Line(s.describe()) for s in subs)]
    buttons = [[InlineKeyboardButton(texts.UNSUBSCRIBE_BUTTON.format(id=s.id), callback_data=f"us:{s.id}")]
               for s in subs[:10]]
    await reply_lines(message, lines, InlineKeyboardMarkup(buttons))


async def on_unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat = update.effective_message, update.effective_chat
    reminders = await managing(update, context)
    if reminders is None or message is None or chat is None:
        return
    svc = services(context)
    store = reminders.store
    subs = await svc.worker.run(store.for_chat, chat.id)
    rest = (command_rest(message) or [""])[0].strip().lstrip("#")
    if rest in ("全部", "all"):
        chosen = subs
    elif rest.isdigit():
        chosen = [s for s in subs if s.id == int(rest)]
        if not chosen:
            await message.reply_text(texts.NO_SUCH_SUBSCRIPTION.format(id=rest[:9]))
            return
    elif not rest and len(subs) == 1:
        chosen = subs
    elif not subs:
        await message.reply_text(texts.NO_SUBSCRIPTIONS)
        return
    else:
        await message.reply_text(texts.UNSUBSCRIBE_USAGE + "\n" + "\n".join(s.describe() for s in subs))
        return
    await svc.worker.run(store.remove, [s.id for s in chosen], "unsubscribed")
    await message.reply_text(texts.UNSUBSCRIBED.format(subs="、".join(f"#{s.id}" for s in chosen)))


async def on_unsubscribe_button(update: Update, context: ContextTypes.DEFAULT_TYPE, callback: Callback) -> None:
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    if not await may_manage(update, context):
        await query.answer(texts.GROUP_ADMINS_ONLY, show_alert=True)
        return
    svc = services(context)
    assert svc.reminders is not None
    store = svc.reminders.store
    subs = await svc.worker.run(store.for_chat, chat.id)
    if not any(s.id == callback.item_id for s in subs):  # another chat's subscription, or gone already
        await query.answer(texts.NO_SUCH_SUBSCRIPTION.format(id=callback.item_id), show_alert=True)
        return
    await svc.worker.run(store.remove, [callback.item_id], "unsubscribed")
    await query.answer(texts.UNSUBSCRIBED.format(subs=f"#{callback.item_id}"))
    if query.message is not None:
        await query.message.reply_text(texts.UNSUBSCRIBED.format(subs=f"#{callback.item_id}"))


async def on_ics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    svc = services(context)
    assert svc.reminders is not None
    text, count = await svc.worker.run(_chat_calendar, svc, chat.id)
    if not count:
        await message.reply_text(texts.ICS_EMPTY)
        return
    await message.reply_document(document=text.encode("utf-8"), filename="policybot-deadlines.ics",
                                 caption=texts.ICS_CAPTION.format(n=count))


def _chat_calendar(svc, chat_id: int) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """The chat's subscribed deadlines from today on (Telegram subscriptions of this chat)."""
    subs = [s for s in svc.reminders.store.for_chat(chat_id) if s.channel == TELEGRAM]
    if not subs:
        return "", 0
    today, store = svc.today(), svc.kb.store
    items = store.get_items(store.ids_due_between(today, today + timedelta(days=3660))).values()
    entries = sorted(
        ((i, d.due, store.document_title(i.doc_id)) for i in items
         if i.status == "active" and i.progress != "done" and any(s.filter.matches(i) for s in subs)
         for d in i.deadlines if d.due and d.due >= today),
        key=lambda e: (e[1], e[0].id or 0),
    )
    return ics.calendar(entries, "PolicyBot 政策截止日期"), len(entries)


# ---------------------------------------------------------------------- the chat itself changes


async def on_migrate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group upgraded to a supergroup: its subscriptions follow it to the new chat id."""
    message = update.effective_message
    if message is None or not message.migrate_to_chat_id:
        return
    svc = services(context)
    assert svc.reminders is not None
    moved = await svc.worker.run(svc.reminders.store.migrate_chat, message.chat_id, message.migrate_to_chat_id)
    if moved:
        log.info("chat %s migrated to %s: %d subscription(s) moved", message.chat_id, message.migrate_to_chat_id, moved)


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was removed from a chat: stop its subscriptions (kept in the database, inactive)."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None or change.new_chat_member.status not in GONE_STATUSES:
        return
    svc = services(context)
    assert svc.reminders is not None
    store = svc.reminders.store
    subs = await svc.worker.run(store.for_chat, change.chat.id)
    if subs:
        await svc.worker.run(store.remove, [s.id for s in subs if s.channel == TELEGRAM], "bot removed from chat")

