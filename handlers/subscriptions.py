"""Deadline subscriptions from the chat: /subscribe /subscriptions /unsubscribe /ics, the unsubscribe and
page choices, and keeping subscriptions right when a group moves or removes the bot.

In groups only those who manage the group and bot admins change subscriptions; in a private chat the
person subscribes for themselves. Pushing to a WeCom / DingTalk / Feishu robot is for bot admins. An app
the reminders cannot reach (the console) previews what a subscription would remind about instead.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from handlers import texts
from handlers.callbacks import Callback, subscriptions_payload, unsubscribe_payload
from handlers.messages import Choice, Incoming, OutFile, Reply, say
from handlers.services import Services
from handlers.turn import Turn
from knowledge.answer import Line
from reminders import ics
from reminders.filters import FilterError, parse_subscribe
from reminders.models import TELEGRAM, Subscription, SubscriptionFilter
from reminders.service import ReminderService
from reminders.store import MAX_PER_CHAT, SubscriptionLimit

log = logging.getLogger(__name__)
PREVIEW_DAYS = 30
PAGE = 10  # subscriptions listed per page


def store_chat_id(incoming: Incoming) -> int | str:
    """The chat as the reminder store keys it (Telegram's are numbers)."""
    chat = incoming.chat_id
    return int(chat) if chat.lstrip("-").isdigit() else chat


def pushes_to(turn: Turn) -> ReminderService | None:
    """The reminder service if it can push to this chat's app."""
    reminders = turn.services.reminders
    return reminders if reminders is not None and turn.incoming.app in reminders.channels else None


async def may_manage(turn: Turn) -> bool:
    """Private chats: yes. Groups: bot admins, and whoever the app says manages the group."""
    if not turn.incoming.in_group or turn.is_admin:
        return True
    check = turn.incoming.check_manager
    return bool(check and await check())


async def managing(turn: Turn) -> list[Reply] | None:
    """None if this person may change this chat's subscriptions; else the refusal to send."""
    return None if await may_manage(turn) else [turn.refusal(texts.GROUP_ADMINS_ONLY)]


async def chat_subscriptions(turn: Turn) -> list[Subscription]:
    reminders = pushes_to(turn)
    if reminders is None:
        return []
    return await turn.services.worker.run(reminders.store.for_chat, store_chat_id(turn.incoming), turn.incoming.app)


async def on_subscribe(turn: Turn) -> list[Reply]:
    if refused := await managing(turn):
        return refused
    svc = turn.services
    known = await svc.worker.run(svc.kb.searcher.known_departments)
    try:
        request = parse_subscribe(turn.args, known)
    except FilterError as e:
        return [say(f"{texts.NOT_SUBSCRIBED}{e}\n{texts.SUBSCRIBE_USAGE}")]
    robot = request.channel != TELEGRAM
    if robot and not turn.is_admin:
        return [say(texts.WEBHOOK_ADMINS_ONLY)]
    upcoming = await svc.worker.run(upcoming_lines, svc, request.filter)
    reminders = svc.reminders if robot else pushes_to(turn)
    if reminders is None:  # nothing can push here: say what it would remind about
        return [Reply([Line(texts.SUBSCRIBE_PREVIEW_ONLY.format(filter=request.filter.describe()), strong=True),
                       *_upcoming_lines(upcoming)])]
    store = reminders.store
    try:
        sub = await svc.worker.write(
            store.add, chat_id=store_chat_id(turn.incoming), filter=request.filter,
            channel=request.channel if robot else turn.incoming.app, webhook_url=request.webhook_url,
            secret=request.secret, created_by=f"user:{turn.incoming.sender_id}")
    except SubscriptionLimit:
        return [say(texts.TOO_MANY_SUBSCRIPTIONS.format(n=MAX_PER_CHAT))]
    settings = reminders.settings
    lines = [Line(texts.SUBSCRIBED.format(sub=sub.describe()), strong=True),
             Line(texts.SUBSCRIBE_POLICY.format(leads="/".join(map(str, settings.lead_days)),
                                                at=settings.send_at.strftime("%H:%M")))]
    return [Reply([*lines, *_upcoming_lines(upcoming)])]


def _upcoming_lines(upcoming: list[str]) -> list[Line]:
    return [Line(texts.SUBSCRIBE_UPCOMING.format(days=PREVIEW_DAYS, n=len(upcoming))),
            *(Line(f"· {text}") for text in upcoming[:5])]


def upcoming_lines(svc: Services, flt: SubscriptionFilter) -> list[str]:
    """The filter's items due in the next PREVIEW_DAYS, soonest first."""
    today = svc.today()
    items = [h.item for h in svc.kb.upcoming(today, PREVIEW_DAYS).hits if flt.matches(h.item)]
    return [f"#{i.id} {i.text[:40]}（{min(d.due for d in i.deadlines if d.due and d.due >= today)}）" for i in items]


async def on_subscriptions(turn: Turn) -> list[Reply]:
    page = int(turn.args) - 1 if turn.args.isdigit() and 0 < int(turn.args) < 100 else 0
    return subscriptions_page(turn, await chat_subscriptions(turn), page)


async def on_subscriptions_choice(turn: Turn, callback: Callback) -> list[Reply]:
    replies = subscriptions_page(turn, await chat_subscriptions(turn), callback.page)
    replies[0].replace = True
    return replies


def subscriptions_page(turn: Turn, subs: list[Subscription], page: int, title: str = "") -> list[Reply]:
    """One page of the chat's subscriptions with an unsubscribe choice each, and page choices."""
    if not subs:
        return [say(texts.NO_SUBSCRIPTIONS if pushes_to(turn) else texts.NO_PUSHES_HERE)]
    page = min(page, (len(subs) - 1) // PAGE)
    shown = subs[page * PAGE:(page + 1) * PAGE]
    heading = title or texts.SUBSCRIPTIONS_TITLE
    if len(subs) > PAGE:
        heading += texts.SUBSCRIPTIONS_PAGE.format(n=len(subs), first=page * PAGE + 1, last=page * PAGE + len(shown))
    rows = [[Choice(texts.UNSUBSCRIBE_BUTTON.format(id=s.id), unsubscribe_payload(s.id or 0),
                    texts.UNSUBSCRIBE_BUTTON.format(id=s.id))] for s in shown]
    nav = []
    if page > 0:
        nav.append(Choice("‹ 上一页", subscriptions_payload(page - 1), "上一页"))
    if (page + 1) * PAGE < len(subs):
        nav.append(Choice("下一页 ›", subscriptions_payload(page + 1), "下一页"))
    if nav:
        rows.append(nav)
    return [Reply([Line(heading, strong=True), *(Line(s.describe()) for s in shown)], rows)]


async def on_unsubscribe(turn: Turn) -> list[Reply]:
    if refused := await managing(turn):
        return refused
    subs = await chat_subscriptions(turn)
    rest = turn.args.lstrip("#")
    if rest in ("全部", "all"):
        chosen = subs
    elif rest.isdigit():
        chosen = [s for s in subs if s.id == int(rest)]
        if not chosen:
            return [say(texts.NO_SUCH_SUBSCRIPTION.format(id=rest[:9]))]
    elif not rest and len(subs) == 1:
        chosen = subs
    elif not subs:
        return [say(texts.NO_SUBSCRIPTIONS if pushes_to(turn) else texts.NO_PUSHES_HERE)]
    else:
        return subscriptions_page(turn, subs, 0, texts.UNSUBSCRIBE_USAGE)
    return await _remove(turn, chosen)


async def on_unsubscribe_choice(turn: Turn, callback: Callback) -> list[Reply]:
    if refused := await managing(turn):
        return refused
    chosen = [s for s in await chat_subscriptions(turn) if s.id == callback.item_id]
    if not chosen:  # another chat's subscription, or gone already
        return [turn.refusal(texts.NO_SUCH_SUBSCRIPTION.format(id=callback.item_id))]
    return await _remove(turn, chosen)


async def _remove(turn: Turn, chosen: list[Subscription]) -> list[Reply]:
    reminders = pushes_to(turn)
    assert reminders is not None
    await turn.services.worker.write(reminders.store.remove, [s.id for s in chosen], "unsubscribed")
    return [say(texts.UNSUBSCRIBED.format(subs="、".join(f"#{s.id}" for s in chosen)))]


async def on_ics(turn: Turn) -> list[Reply]:
    subs = [s for s in await chat_subscriptions(turn) if s.channel == turn.incoming.app]
    if not subs:
        return [say(texts.ICS_EMPTY)]
    text, count = await turn.services.worker.run(chat_calendar, turn.services, subs)
    if not count:
        return [say(texts.ICS_EMPTY)]
    return [Reply(file=OutFile("policybot-deadlines.ics", text.encode("utf-8"), texts.ICS_CAPTION.format(n=count)))]


def chat_calendar(svc: Services, subs: list[Subscription]) -> tuple[str, int]:
    """The subscriptions' deadlines from today on, as iCalendar text and their count."""
    today: date = svc.today()
    store = svc.kb.store
    items = store.get_items(store.ids_due_between(today, today + timedelta(days=3660))).values()
    entries = sorted(
        ((i, d.due, store.document_title(i.doc_id)) for i in items
         if i.status == "active" and i.progress != "done" and any(s.filter.matches(i) for s in subs)
         for d in i.deadlines if d.due and d.due >= today),
        key=lambda e: (e[1], e[0].id or 0),
    )
    return ics.calendar(entries, "PolicyBot 政策截止日期"), len(entries)


# ---------------------------------------------------------------------- the chat itself changes


async def chat_moved(svc: Services, old_chat_id: int | str, new_chat_id: int | str) -> None:
    """A group got a new id (Telegram: upgraded to a supergroup): its subscriptions follow it."""
    if svc.reminders is None:
        return
    moved = await svc.worker.write(svc.reminders.store.migrate_chat, old_chat_id, new_chat_id)
    if moved:
        log.info("chat %s moved to %s: %d subscription(s) moved", old_chat_id, new_chat_id, moved)


async def bot_removed(svc: Services, app: str, chat_id: int | str) -> None:
    """The bot was removed from a chat: stop its subscriptions there (kept in the database, inactive)."""
    if svc.reminders is None:
        return
    store = svc.reminders.store
    subs = [s.id for s in await svc.worker.run(store.for_chat, chat_id, app) if not s.to_robot]
    if subs:
        await svc.worker.write(store.remove, subs, "bot removed from chat")
