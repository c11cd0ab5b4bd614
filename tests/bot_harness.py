"""Run the real Telegram adapter against the fake Bot API, as `policybot run` would."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fake_telegram import FakeTelegram
from telegram.ext import Application

from bot.config import parse_config
from bot.services import attach_reminders, close_services, open_services
from bot.telegram.adapter import TelegramAdapter
from handlers.core import Conversation

ADMIN_ID = 7001


@contextlib.asynccontextmanager
async def running_bot(fake: FakeTelegram, db_path: Path, **telegram: object) -> AsyncIterator[Application]:
    config = parse_config({
        "storage": {"path": str(db_path)},
        "telegram": {"token": fake.token, "base_url": fake.base_url, "base_file_url": fake.base_file_url,
                     "admins": [ADMIN_ID], **telegram},
        "reminders": {"enabled": False},  # tests run reminders with an injected clock
    })
    services = await open_services(config)
    adapter = TelegramAdapter(config, services, poll_timeout=1)
    await attach_reminders(services, config, {adapter.app: adapter.channel()})
    try:
        await adapter.start(Conversation(services))
        yield adapter.application
    finally:
        await adapter.stop()
        await close_services(services)
