"""Opening and closing the services every adapter shares (`handlers.services.Services`) from the config."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
from datetime import date

import aiohttp

from bot.config import APP_SECRETS, Config
from bot.upkeep import keep_index_tidy
from handlers.imports import warm_up_parser
from handlers.services import Services, Settings
from knowledge.base import KnowledgeBase
from knowledge.store import StoreWorker
from reminders.channels import RobotChannel
from reminders.models import WEBHOOK_CHANNELS
from reminders.service import Channel, ReminderService, sync_config_webhooks

SERVICES_KEY = "services"
CONSOLE = "console"


def console_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment
        return "operator"


def settings_from(config: Config, *, today: date | None = None) -> Settings:
    return Settings(
        tz=config.tz,
        max_import_bytes=config.telegram.max_import_bytes,
        admins={"telegram": frozenset(str(i) for i in config.admin_ids),
                **{app: frozenset(getattr(config, app).admins) for app in APP_SECRETS}},
        everyone_admin=frozenset({CONSOLE}) if config.console.admin else frozenset(),
        today=today,
    )


async def open_services(config: Config, *, today: date | None = None) -> Services:
    worker = StoreWorker()
    kb = await worker.run(KnowledgeBase.open, config.storage.path, seed=config.knowledge.seed_bundled)
    # Load the word lists now (about a second), so that the first person to ask does not wait for them.
    await worker.run(kb.ask, "碳达峰碳中和", date.today())
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=config.telegram.import_timeout_seconds))
    return Services(settings_from(config, today=today), kb, worker, http)


def warm_import_worker(services: Services) -> None:
    """Start the import worker process in the background (a long-running bot: the first import then
    does not wait for it)."""
    services.warming = asyncio.ensure_future(services.worker.offload(warm_up_parser))


def start_upkeep(services: Services) -> None:
    """Merge what chat changes add to the search index, in the background (a long-running process)."""
    services.upkeep = asyncio.create_task(keep_index_tidy(services.worker, services.kb.store))


async def attach_reminders(services: Services, config: Config,
                           app_channels: dict[str, Channel] | None = None) -> ReminderService:
    """The reminder service, sending through the apps' channels and to group robots."""
    robots: dict[str, Channel] = {name: RobotChannel(services.http) for name in WEBHOOK_CHANNELS}
    r = config.reminders
    services.reminders = ReminderService(services.kb, services.worker, r.settings(), r.calendar(), r.tz,
                                         dict(app_channels or {}), robots)
    if r.webhooks:
        await services.worker.write(sync_config_webhooks, services.reminders.store, r.webhooks,
                                    services.kb.searcher.known_departments())
    return services.reminders


async def close_services(services: Services) -> None:
    """Close in order: no new work, in-flight reads and writes finished, then the connections."""
    for task in (services.warming, services.upkeep):  # (a merge round already on the writer thread
        if task is not None and not task.done():      # finishes in the worker's shutdown below)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # its outcome is of no use now
                await task
    await services.http.close()
    await asyncio.to_thread(services.worker.shutdown)  # waits for work already running on its threads
    services.kb.close()
