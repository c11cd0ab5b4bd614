"""One reminder run: load what is due, claim it in the log, send one message per destination, record.

The database is the source of truth, so a restart neither loses nor repeats a reminder:
  1. claim   every key of the run is written as `sending` in one transaction, before anything is sent;
  2. send    each destination's message (concurrently; the channels keep to the platforms' limits);
  3. record  `sent` per message as soon as its channel confirms it.
A crash between 2 and 3 leaves `sending` rows. We err on the side of sending: the next run sends
them again, with a line saying an earlier sending was not confirmed. A lost deadline reminder costs
more than a duplicate, and the duplicate says what it is. Failures that may pass (network, rate
limits after retries) release their claims, so the next run (every few minutes) tries again; a send
the app may have delivered without answering keeps its `sending` claim and goes out again marked, like
a crash's; failures for good (bot removed: 403, robot deleted) are recorded `failed` and disable that destination.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from knowledge.answer import Line
from knowledge.base import KnowledgeBase
from knowledge.store import StoreWorker
from reminders.calendar import WorkdayCalendar, warn_missing_years
from reminders.channels import SendResult
from reminders.filters import FilterError, parse_subscribe
from reminders.messages import message_lines
from reminders.models import WEBHOOK_CHANNELS, Delivery, Notice, Subscription
from reminders.planner import (
    Candidates,
    DeadlineChange,
    NewItem,
    Plan,
    ReminderSettings,
    as_of,
    collect,
    due_window,
    last_slot,
    plan,
)
from reminders.store import ReminderStore

log = logging.getLogger(__name__)
CONCURRENT_SENDS = 64


class Channel(Protocol):
    async def send(self, subscription: Subscription, lines: list[Line]) -> SendResult: ...


@dataclass
class RunReport:
    sent: int = 0
    retry_later: int = 0
    failed: int = 0
    disabled: int = 0
    migrated: int = 0
    skipped: int = 0  # destinations with no channel here (Telegram without a token)
    deliveries: list[Delivery] = field(default_factory=list)

    def summary(self) -> str:
        return (f"sent {self.sent}, retry later {self.retry_later}, failed {self.failed}, "
                f"disabled {self.disabled}, migrated {self.migrated}, no channel {self.skipped}")


class ReminderService:
    def __init__(self, kb: KnowledgeBase, worker: StoreWorker, settings: ReminderSettings,
                 calendar: WorkdayCalendar, tz: ZoneInfo, channels: Mapping[str, Channel],
                 robots: Mapping[str, Channel] | None = None) -> None:
        """`channels`: one per app, for its chats; `robots`: one per robot platform (wecom, dingtalk,
        feishu) for webhooks. Without `robots`, the robot platforms' entries of `channels` serve robots."""
        self.kb = kb
        self.worker = worker
        self.settings = settings
        self.calendar = calendar
        self.tz = tz
        if robots is None:
            robots = {name: ch for name, ch in channels.items() if name in WEBHOOK_CHANNELS}
            channels = {name: ch for name, ch in channels.items() if name not in WEBHOOK_CHANNELS}
        self.channels = dict(channels)
        self.robots = dict(robots)
        self.store = ReminderStore(kb.store.db)
        self._lock = asyncio.Lock()

    def now(self) -> datetime:
        return datetime.now(self.tz)

    async def wait_idle(self) -> None:
        """Wait for a run in progress to end: a graceful stop must not leave its claims `sending`."""
        async with self._lock:
            pass

    def channel_for(self, sub: Subscription) -> Channel | None:
        return self.robots.get(sub.channel) if sub.to_robot else self.channels.get(sub.channel)

    # ------------------------------------------------------------------ running

    async def run_due(self, now: datetime | None = None) -> RunReport:
        """Send everything due at `now` (default: the present). Runs never overlap."""
        now = (now or self.now()).astimezone(self.tz)
        async with self._lock:
            the_plan, titles = await self.worker.run(self._plan, now)
            report = RunReport()
            runnable = [d for d in the_plan.deliveries if self.channel_for(d.subscription) is not None]
            report.skipped = len(the_plan.deliveries) - len(runnable)
            await self.worker.write(self._claim, the_plan, runnable)
            today = as_of(now, self.settings)
            gate = asyncio.Semaphore(CONCURRENT_SENDS)

            async def deliver(delivery: Delivery) -> None:
                async with gate:
                    await self._deliver(delivery, message_lines(delivery, today, titles, self.calendar), report)

            await asyncio.gather(*(deliver(d) for d in runnable))
            report.deliveries = runnable
            if runnable or report.skipped:
                log.info("reminders at %s: %s", now.isoformat(timespec="minutes"), report.summary())
            return report

    async def _deliver(self, delivery: Delivery, lines: list[Line], report: RunReport) -> None:
        sub = delivery.subscription
        entries = _entries(delivery.notices)
        channel = self.channel_for(sub)
        assert channel is not None
        result = await channel.send(sub, lines)
        if result.migrated_to is not None and sub.chat_id is not None:
            await self.worker.write(self.store.migrate_chat, sub.chat_id, result.migrated_to)
            report.migrated += 1
            sub = replace(sub, chat_id=result.migrated_to)
            result = await channel.send(sub, lines)
        if result.ok:
            await self.worker.write(self.store.record, entries, "sent")
            report.sent += 1
        elif result.unconfirmed:  # left `sending`: the next run resends it with the "not confirmed" line
            log.warning("reminder to %s not confirmed, the next run resends it marked: %s", _where(sub), result.detail)
            report.retry_later += 1
        elif result.permanent:
            await self.worker.write(self._fail, sub, entries, result)
            report.failed += 1
            report.disabled += int(result.disable)
        else:
            log.warning("reminder to %s not sent, will retry: %s", _where(sub), result.detail)
            await self.worker.write(self.store.release, [key for key, *_ in entries])
            report.retry_later += 1

    def _fail(self, sub: Subscription, entries: list[tuple[str, int, int | None, str]], result: SendResult) -> None:
        log.warning("reminder to %s refused for good: %s", _where(sub), result.detail)
        with self.kb.store.transaction():
            self.store.record(entries, "failed", result.detail[:300])
            if result.disable:
                self.store.disable_destination(sub, result.detail[:300])

    # ------------------------------------------------------------------ planning (on the store's thread)

    def _plan(self, now: datetime) -> tuple[Plan, dict[str, str]]:
        candidates = self._candidates(now)
        the_plan = plan(candidates, self.store.recorded(candidates.keys()))
        doc_ids = {n.item.doc_id for d in the_plan.deliveries for n in d.notices if n.item}
        if self.calendar.missing_years:  # a year without holiday data is logged once per database
            with self.kb.store.transaction():
                warn_missing_years(self.calendar, self.kb.store)
        return the_plan, {doc_id: self.kb.store.document_title(doc_id) for doc_id in doc_ids}

    def _candidates(self, now: datetime) -> Candidates:
        subscriptions = self.store.active()
        if not subscriptions:
            return Candidates()
        day = as_of(now, self.settings)
        start, end = due_window(day, self.settings)
        items = self.kb.store.get_items(self.kb.store.ids_due_between(start, end))
        changes: list[DeadlineChange] = []
        new_items: list[NewItem] = []
        if self.settings.change_notices:
            changes, new_items = self._recent_changes(now)
        return collect(now, self.settings, self.calendar, subscriptions, items.values(), changes, new_items)

    def _recent_changes(self, now: datetime) -> tuple[list[DeadlineChange], list[NewItem]]:
        """Changes made before the latest slot and within the catch-up window; each goes out at the
        first slot after it (the log's keys keep it to once)."""
        until = last_slot(now, self.settings)
        since = until - timedelta(days=self.settings.catch_up_days)
        moved = self.store.deadline_changes(since, until)
        fresh = self.store.new_dated_items(since, until, as_of(now, self.settings))
        current = self.kb.store.get_items([m[2] for m in moved] + [i for i, _ in fresh])
        changes = [DeadlineChange(cid, at, current[item_id], before, after)
                   for cid, at, item_id, before, after, _ in moved if item_id in current]
        new_items = [NewItem(current[i], at) for i, at in fresh if i in current]
        return changes, new_items

    def _claim(self, the_plan: Plan, runnable: list[Delivery]) -> None:
        with self.kb.store.transaction():
            for state in ("superseded", "empty"):
                quiet = [n for n, s in the_plan.quiet if s == state]
                if quiet:
                    self.store.record(_entries(quiet), state)
            self.store.record([e for d in runnable for e in _entries(d.notices)], "sending")

    # ------------------------------------------------------------------ preview

    async def preview(self, now: datetime | None = None, days: int = 1) -> list[tuple[datetime, Delivery, list[Line]]]:
        """What the next `days` slots would send, from `now` on, without sending or recording anything."""
        now = (now or self.now()).astimezone(self.tz)
        return await self.worker.run(self._preview, now, days)

    def _preview(self, now: datetime, days: int) -> list[tuple[datetime, Delivery, list[Line]]]:
        out: list[tuple[datetime, Delivery, list[Line]]] = []
        pretend_sent: dict[str, str] = {}
        for offset in range(days):
            at = now if offset == 0 else last_slot(now, self.settings) + timedelta(days=offset)
            candidates = self._candidates(at)
            recorded = {**self.store.recorded(candidates.keys()), **pretend_sent}
            for delivery in plan(candidates, recorded).deliveries:
                out.append((at, delivery, self._lines(delivery, at)))
                pretend_sent.update(dict.fromkeys(delivery.keys, "sent"))
        return out

    def _lines(self, delivery: Delivery, at: datetime) -> list[Line]:
        titles = {n.item.doc_id: self.kb.store.document_title(n.item.doc_id) for n in delivery.notices if n.item}
        return message_lines(delivery, as_of(at, self.settings), titles, self.calendar)


def _entries(notices: list[Notice]) -> list[tuple[str, int, int | None, str]]:
    return [(n.key, n.subscription_id, n.item.id if n.item else None, n.kind) for n in notices]


def _where(sub: Subscription) -> str:
    return f"{sub.channel} robot #{sub.id}" if sub.to_robot else f"{sub.channel} chat {sub.chat_id}"


def sync_config_webhooks(store: ReminderStore, hooks: list[dict], known_departments: dict[str, str]) -> None:
    """Make the robots listed under [[reminders.webhooks]] subscriptions (created_by "config"), and
    stop the ones no longer listed. A hook whose filter can't be read stops the start with a message."""
    wanted = []
    for hook in hooks:
        text = f"{hook.get('filter', '')} webhook={hook['url']}" + (f" secret={hook['secret']}" if hook.get("secret") else "")
        try:
            wanted.append(parse_subscribe(text, known_departments))
        except FilterError as e:
            raise ValueError(f"[[reminders.webhooks]] {hook['url'][:60]}: {e}") from None
    kept = {store.add(chat_id=None, filter=w.filter, created_by="config", channel=w.channel,
                      webhook_url=w.webhook_url, secret=w.secret).id for w in wanted}
    store.remove([s.id for s in store.active() if s.created_by == "config" and s.id not in kept], "removed from config")
