"""What one run sends: pure functions of the time, the settings, subscriptions, items, recent changes
and the reminder log. No I/O here; `reminders/service.py` loads the inputs and sends the result.

A run at `now` covers every slot up to now: the daily slot is `send_at` on each day, and the day
whose slot has passed most recently is `as_of`. Lead reminders and overdue notices follow
`reminders/policy.py`; a weekly digest lists the next `digest_days`; change notices (a deadline moved,
a new item matches) go out at the first slot after the change. Everything one destination gets in a
run is one Delivery — one message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from knowledge.models import Item
from reminders.calendar import WorkdayCalendar
from reminders.models import Delivery, Notice, Subscription
from reminders.policy import due_reminders, reminders_for

HOLIDAY_SLACK = 12  # longest run of non-workdays (春节, 国庆) plus a margin, in days


@dataclass(frozen=True)
class ReminderSettings:
    send_at: time = time(9, 0)
    lead_days: tuple[int, ...] = (30, 7, 1, 0)
    overdue_notice: bool = True
    digest_weekday: int | None = 0  # Monday; None: no digest
    digest_days: int = 30
    change_notices: bool = True
    catch_up_days: int = 7  # reminders missed for longer than this are not sent late


@dataclass(frozen=True)
class DeadlineChange:
    """A change-log entry that moved an item's deadline (or marked it done)."""

    change_id: int
    at: datetime
    item: Item  # as it is after the change
    previous_due: date | None
    due: date | None


@dataclass(frozen=True)
class NewItem:
    item: Item
    created_at: datetime


@dataclass
class Plan:
    deliveries: list[Delivery] = field(default_factory=list)
    quiet: list[tuple[Notice, str]] = field(default_factory=list)  # recorded, not sent: superseded, empty


def as_of(now: datetime, settings: ReminderSettings) -> date:
    """The day of the latest slot that has come."""
    return now.date() if now.timetz().replace(tzinfo=None) >= settings.send_at else now.date() - timedelta(days=1)


def last_slot(now: datetime, settings: ReminderSettings) -> datetime:
    return datetime.combine(as_of(now, settings), settings.send_at, tzinfo=now.tzinfo)


def due_window(day: date, settings: ReminderSettings) -> tuple[date, date]:
    """Deadlines whose reminders, digest entries or overdue notices may be due on `day`."""
    ahead = max((*settings.lead_days, settings.digest_days if settings.digest_weekday is not None else 0, 0))
    return day - timedelta(days=settings.catch_up_days + HOLIDAY_SLACK), day + timedelta(days=ahead + HOLIDAY_SLACK)


def digest_day(day: date, weekday: int, calendar: WorkdayCalendar) -> date:
    """The digest day of `day`'s week: the configured weekday, or the first workday after it that week."""
    chosen = day - timedelta(days=day.weekday()) + timedelta(days=weekday)
    for offset in range(7 - weekday):
        if calendar.is_workday(chosen + timedelta(days=offset)):
            return chosen + timedelta(days=offset)
    return chosen


@dataclass
class Candidates:
    """Every notice whose time has come, per subscription, before the log is consulted."""

    per_subscription: list[tuple[Subscription, list[Notice], list[tuple[Notice, str]]]] = field(default_factory=list)

    def keys(self) -> set[str]:
        """The keys to look up in the log."""
        return {n.key for _, notices, quiet in self.per_subscription for n in (*notices, *(q for q, _ in quiet))}


def collect(now: datetime, settings: ReminderSettings, calendar: WorkdayCalendar,
            subscriptions: Iterable[Subscription], items: Iterable[Item], changes: Iterable[DeadlineChange] = (),
            new_items: Iterable[NewItem] = ()) -> Candidates:
    active = [i for i in items if i.status == "active"]
    changes, new_items = list(changes), list(new_items)
    out = Candidates()
    for sub in subscriptions:
        mine = [i for i in active if sub.filter.matches(i)]
        out.per_subscription.append((sub, *_for_subscription(sub, mine, now, settings, calendar, changes, new_items)))
    return out


def plan(candidates: Candidates, recorded: Mapping[str, str]) -> Plan:
    """The deliveries of this run. `recorded` is the log (key -> state) for the candidates' keys: final
    states are never sent again; a `sending` left by a crash is sent again, marked as resent."""
    out = Plan()
    deliveries: dict[str, Delivery] = {}
    for sub, notices, quiet in candidates.per_subscription:
        for notice in notices:
            state = recorded.get(notice.key)
            if state is None or state == "sending":
                notice = _resent(notice) if state == "sending" else notice
                deliveries.setdefault(sub.destination, Delivery(sub)).notices.append(notice)
        out.quiet += [(n, s) for n, s in quiet if n.key not in recorded]
    out.deliveries = list(deliveries.values())
    return out


def _for_subscription(sub: Subscription, items: list[Item], now: datetime, settings: ReminderSettings,
                      calendar: WorkdayCalendar, changes: list[DeadlineChange],
                      new_items: list[NewItem]) -> tuple[list[Notice], list[tuple[Notice, str]]]:
    today, tz = as_of(now, settings), now.tzinfo
    notices: list[Notice] = []
    quiet: list[tuple[Notice, str]] = []
    started = sub.created_at.astimezone(tz).date()
    floor = max(started, today - timedelta(days=settings.catch_up_days))
    reminders = [r for i in items for r in reminders_for(i, sub.id, settings.lead_days, calendar,
                                                         settings.overdue_notice)]
    to_send, superseded = due_reminders(reminders, today, sent=set(), since=floor)
    for r in sorted(to_send, key=lambda r: (r.due, r.item.id or 0)):
        notices.append(Notice(r.key, "overdue" if r.lead_days < 0 else "lead", sub.id, r.item, r.due, r.lead_days))
    quiet += [(Notice(r.key, "lead", sub.id, r.item, r.due, r.lead_days), "superseded") for r in superseded]
    if settings.digest_weekday is not None:
        quiet_digest = _digest(sub, items, today, settings, calendar, floor)
        if quiet_digest is not None:
            notice, empty = quiet_digest
            (quiet.append((notice, "empty")) if empty else notices.append(notice))
    if settings.change_notices:
        notices += _change_notices(sub, changes, new_items)
    return notices, quiet


def _digest(sub: Subscription, items: list[Item], today: date, settings: ReminderSettings,
            calendar: WorkdayCalendar, floor: date) -> tuple[Notice, bool] | None:
    assert settings.digest_weekday is not None
    day = digest_day(today, settings.digest_weekday, calendar)
    if not floor <= day <= today:
        return None
    end = today + timedelta(days=settings.digest_days)
    upcoming = sorted(
        ((d.due, i) for i in items if i.progress != "done" for d in i.deadlines if d.due and today <= d.due <= end),
        key=lambda pair: (pair[0], pair[1].id or 0),
    )
    seen: set[int | None] = set()
    chosen = tuple(i for _, i in upcoming if not (i.id in seen or seen.add(i.id)))  # type: ignore[func-returns-value]
    week = day - timedelta(days=day.weekday())
    return Notice(f"d:{sub.id}:{week.isoformat()}", "digest", sub.id, lead_days=settings.digest_days,
                  items=chosen), not chosen


def _change_notices(sub: Subscription, changes: list[DeadlineChange], new_items: list[NewItem]) -> list[Notice]:
    out = []
    for c in changes:
        if c.at >= sub.created_at and sub.filter.matches(c.item):
            out.append(Notice(f"m:{c.change_id}:{sub.id}", "moved", sub.id, c.item, c.due, previous_due=c.previous_due))
    for n in new_items:
        due = next((d.due for d in n.item.deadlines if d.due), None)
        if n.created_at >= sub.created_at and sub.filter.matches(n.item):
            out.append(Notice(f"n:{n.item.id}:{sub.id}", "new", sub.id, n.item, due))
    return out


def _resent(notice: Notice) -> Notice:
    return Notice(notice.key, notice.kind, notice.subscription_id, notice.item, notice.due, notice.lead_days,
                  notice.previous_due, notice.items, resent=True)
