"""The composition root of `policybot run`: the shared services, the conversation, every configured
app's adapter and the reminder scheduler, all on one event loop. One app failing to start or dropping
its connection never stops the others or the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from bot.adapters import APPS, Adapter, AdapterStopped
from bot.config import Config
from bot.services import attach_reminders, close_services, open_services, start_upkeep, warm_import_worker
from handlers.core import Conversation
from handlers.services import Services
from reminders.schedule import start_scheduler
from reminders.service import Channel

log = logging.getLogger(__name__)
STOP_GRACE = 30.0  # seconds a stop waits for a reminder run in progress
NO_APP = ("没有配置任何聊天应用：请设置 POLICYBOT_TELEGRAM_TOKEN（或 [telegram] token），或 [dingtalk] client_id/client_secret、"
          "[feishu] app_id/app_secret、[wecom] bot_id/secret 之一；不需要应用时可用 policybot chat")


class NothingToRun(Exception):
    """No app is configured, or none could start: the message (one line) says why."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def configured_adapters(config: Config, services: Services) -> list[Adapter]:
    """The adapters of the apps the config turns on; an app's module (and SDK) is imported only then."""
    adapters: list[Adapter] = []
    if config.app_on("telegram"):
        from bot.telegram.adapter import TelegramAdapter

        adapters.append(TelegramAdapter(config, services))
    if config.app_on("dingtalk"):
        from bot.dingtalk.adapter import DingTalkAdapter  # type: ignore[import-not-found]

        adapters.append(DingTalkAdapter(config, services))
    if config.app_on("feishu"):
        from bot.feishu.adapter import FeishuAdapter  # type: ignore[import-not-found]

        adapters.append(FeishuAdapter(config, services))
    if config.app_on("wecom"):
        from bot.wecom.adapter import WeComAdapter  # type: ignore[import-not-found]

        adapters.append(WeComAdapter(config, services))
    return adapters


async def serve(config: Config, stop: asyncio.Event | None = None) -> None:
    """Run every configured app until `stop` is set (or SIGINT/SIGTERM)."""
    if not any(config.app_on(app) for app in APPS):
        raise NothingToRun(NO_APP)
    stop = stop or _stop_on_signals()
    services = await open_services(config)
    running: list[Adapter] = []
    scheduler = None
    reminders = None
    try:
        adapters = configured_adapters(config, services)
        channels: dict[str, Channel] = {a.app: ch for a in adapters if (ch := a.channel()) is not None}
        reminders = await attach_reminders(services, config, channels)
        conversation = Conversation(services)
        failures: list[AdapterStopped] = []
        for adapter in adapters:
            try:
                await adapter.start(conversation)
                running.append(adapter)
            except AdapterStopped as e:
                failures.append(e)
                await adapter.stop()
        if not running:
            raise NothingToRun(str(failures[0]), max(e.exit_code for e in failures))
        for failure in failures:  # the others run on: one line each for what did not start
            log.error("%s", failure)
        warm_import_worker(services)
        start_upkeep(services)
        if config.reminders.enabled:
            scheduler = start_scheduler(reminders, reminders.settings.send_at, config.reminders.retry_minutes)
        log.info("PolicyBot running on %s", "、".join(a.app for a in running))
        await stop.wait()
    finally:
        if scheduler is not None:
            scheduler.pause()  # shutdown() cancels a running job: let a reminder run record what it sent first
            if reminders is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(reminders.wait_idle(), STOP_GRACE)
            scheduler.shutdown(wait=False)
        for adapter in running:
            try:
                await adapter.stop()
            except Exception:  # stopping one app must not keep the others from stopping
                log.exception("%s: error while stopping", adapter.app)
        await close_services(services)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on this platform or thread
            loop.add_signal_handler(sig, stop.set)
    return stop
