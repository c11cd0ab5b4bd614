"""The long-lived services every adapter shares, in one typed container made by the composition root."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import aiohttp

from handlers.state import ConversationMemory
from knowledge.base import KnowledgeBase
from knowledge.store import StoreWorker
from reminders.service import ReminderService


@dataclass(frozen=True)
class Settings:
    """What the conversation needs of the configuration (the composition root fills it in)."""

    tz: ZoneInfo
    max_import_bytes: int = 5 * 1024 * 1024
    admins: Mapping[str, frozenset[str]] = field(default_factory=dict)  # app -> sender ids
    everyone_admin: frozenset[str] = frozenset()  # apps whose every sender is an admin (the console)
    today: date | None = None  # a fixed "today" (console --today)


@dataclass
class Services:
    settings: Settings
    kb: KnowledgeBase
    worker: StoreWorker
    http: aiohttp.ClientSession
    reminders: ReminderService | None = None
    memory: ConversationMemory = field(default_factory=ConversationMemory)
    warming: asyncio.Future | None = None  # the import worker getting ready in the background
    upkeep: asyncio.Task | None = None  # the search index merged in the background (bot/upkeep.py)

    def today(self) -> date:
        return self.settings.today or datetime.now(self.settings.tz).date()

    def is_admin(self, app: str, sender_id: str) -> bool:
        return app in self.settings.everyone_admin or sender_id in self.settings.admins.get(app, frozenset())
