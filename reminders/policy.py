"""Which reminders are due: pure functions of items, subscriptions, lead days, a calendar and a date.

A reminder is (item, subscription, lead, due date). It is sent on the workday on or before
due − lead days, so a reminder falling on a weekend, a holiday or 国庆 goes out on the previous workday.
Its key is unique, so the sent log can make sure it goes out exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from knowledge.models import Item
from reminders.calendar import WorkdayCalendar

OVERDUE = -1  # the "lead" of an overdue notice, sent on the first workday after the due date


@dataclass(frozen=True)
class Reminder:
    item: Item
    subscription_id: int
    lead_days: int
    due: date
    send_on: date

    @property
    def key(self) -> str:
        return f"{self.item.id}:{self.subscription_id}:{self.lead_days}:{self.due.isoformat()}"


def send_day(due: date, lead_days: int, calendar: WorkdayCalendar) -> date:
    if lead_days == OVERDUE:
        day = due + timedelta(days=1)
        while not calendar.is_workday(day):
            day += timedelta(days=1)
        return day
    return calendar.workday_on_or_before(due - timedelta(days=lead_days))


def reminders_for(item: Item, subscription_id: int, lead_days: Iterable[int], calendar: WorkdayCalendar,
                  overdue_notice: bool = True) -> list[Reminder]:
    """Every reminder an item's deadlines call for, for one subscription (done items call for none)."""
    if item.progress == "done" or item.status != "active":
        return []
    out = []
    for deadline in item.deadlines:
        if deadline.due is None:
            continue
        leads = [*lead_days, *( [OVERDUE] if overdue_notice else [])]
        for lead in leads:
            out.append(Reminder(item, subscription_id, lead, deadline.due, send_day(deadline.due, lead, calendar)))
    return out


def due_reminders(candidates: Iterable[Reminder], today: date, sent: set[str],
                  since: date | None = None) -> tuple[list[Reminder], list[Reminder]]:
    """(to send today, superseded). Of the unsent reminders whose day has come — today's, or ones
    missed while the bot was down — only the latest for each item, subscription and due date goes
    out; the earlier ones are superseded (recorded as sent, never sent late). Nothing from before
    `since` (the subscription's start) is sent: a new subscriber gets no flood of old notices."""
    latest: dict[tuple, Reminder] = {}
    superseded: list[Reminder] = []
    ready = (r for r in candidates if r.send_on <= today and r.key not in sent and (since is None or r.send_on >= since))
    for r in sorted(ready, key=lambda r: r.send_on):
        group = (r.item.id, r.subscription_id, r.due)
        if group in latest:
            superseded.append(latest[group])
        latest[group] = r
    return list(latest.values()), superseded
