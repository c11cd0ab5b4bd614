"""Run the real PTB Application against the fake Bot API, as `policybot run` would."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fake_telegram import FakeTelegram
from telegram.ext import Application

from bot.app import build_application
from bot.config import parse_config

ADMIN_ID = 7001


@contextlib.asynccontextmanager
async def running_bot(fake: FakeTelegram, db_path: Path, **telegram: object) -> AsyncIterator[Application]:
    config = parse_config({
        "storage": {"path": str(db_path)},
        "telegram": {"token": fake.token, "base_url": fake.base_url, "base_file_url": fake.base_file_url,
                     "admins": [ADMIN_ID], **telegram},
        "reminders": {"enabled": False},  # tests run reminders with an injected clock
    })
    app = build_application(config)
    await app.initialize()
    await app.post_init(app)
    await app.start()
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.post_shutdown(app)
        await app.shutdown()
