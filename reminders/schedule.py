"""When runs happen: APScheduler on the bot's event loop. The database decides what is due; the
scheduler only wakes the service up — at `send_at` every day, once right after start (reminders
missed while the bot was down go out then), and every `retry_minutes` for sends that failed for now.
Any run sends only what is due and not yet in the log, so extra runs are harmless."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from reminders.service import ReminderService

log = logging.getLogger(__name__)
START_DELAY = timedelta(seconds=5)  # let the bot finish starting before the catch-up run


async def run_safely(service: ReminderService) -> None:
    try:
        await service.run_due()
    except Exception:
        log.exception("reminder run failed; the next run tries again")


def start_scheduler(service: ReminderService, send_at: time, retry_minutes: int) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=service.tz)
    common = {"args": [service], "coalesce": True, "max_instances": 1, "misfire_grace_time": None}
    scheduler.add_job(run_safely, CronTrigger(hour=send_at.hour, minute=send_at.minute, timezone=service.tz),
                      id="daily-slot", **common)
    scheduler.add_job(run_safely, IntervalTrigger(minutes=retry_minutes, timezone=service.tz), id="catch-up",
                      next_run_time=datetime.now(service.tz) + START_DELAY, **common)
    scheduler.start()
    return scheduler
