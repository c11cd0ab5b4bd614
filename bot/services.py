"""Long-lived services the Telegram handlers share, kept in one typed container in bot_data."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

import aiohttp
from telegram import Bot

from bot.config import Config
from knowledge.answer import Answer
from knowledge.base import KnowledgeBase
from knowledge.intents import follow_up
from knowledge.models import Document, Item
from knowledge.store import StoreWorker
from reminders.channels import RobotChannel, TelegramChannel
from reminders.models import TELEGRAM, WEBHOOK_CHANNELS
from reminders.service import Channel, ReminderService, sync_config_webhooks

T = TypeVar("T")
SERVICES_KEY = "services"
LISTS_KEPT_PER_CHAT = 8
PENDING_IMPORTS_KEPT = 20


def keep_newest(kept: OrderedDict[str, T], value: T, limit: int) -> str:
    """Keep `value` under a new short token (for button data), dropping the oldest beyond `limit`."""
    token = secrets.token_hex(3)
    kept[token] = value
    while len(kept) > limit:
        kept.popitem(last=False)
    return token


@dataclass
class ChatState:
    """What a chat's follow-ups and list buttons refer to (kept in memory: stale after a restart)."""

    previous_question: str = ""
    lists: OrderedDict[str, Answer] = field(default_factory=OrderedDict)

    def remember_list(self, answer: Answer) -> str:
        return keep_newest(self.lists, answer, LISTS_KEPT_PER_CHAT)


@dataclass
class PendingImport:
    """A parsed document waiting for its admin's Confirm or Cancel."""

    document: Document
    items: list[Item]
    admin_id: int


@dataclass
class Services:
    config: Config
    kb: KnowledgeBase
    worker: StoreWorker
    http: aiohttp.ClientSession
    chats: dict[int, ChatState] = field(default_factory=dict)
    pending_imports: OrderedDict[str, PendingImport] = field(default_factory=OrderedDict)
    reminders: ReminderService | None = None

    @classmethod
    async def open(cls, config: Config) -> Services:
        worker = StoreWorker()
        kb = await worker.run(KnowledgeBase.open, config.storage.path, seed=config.knowledge.seed_bundled)
        timeout = aiohttp.ClientTimeout(total=config.telegram.import_timeout_seconds)
        return cls(config, kb, worker, aiohttp.ClientSession(timeout=timeout))

    async def attach_reminders(self, bot: Bot | None) -> ReminderService:
        """The reminder service, sending through `bot` (None: robots only) and this session's aiohttp."""
        channels: dict[str, Channel] = {name: RobotChannel(self.http) for name in WEBHOOK_CHANNELS}
        if bot is not None:
            channels[TELEGRAM] = TelegramChannel(bot)
        r = self.config.reminders
        self.reminders = ReminderService(self.kb, self.worker, r.settings(), r.calendar(), r.tz, channels)
        if r.webhooks:
            await self.worker.run(sync_config_webhooks, self.reminders.store, r.webhooks,
                                  self.kb.searcher.known_departments())
        return self.reminders

    async def close(self) -> None:
        await self.http.close()
        await self.worker.run(self.kb.close)
        self.worker.shutdown()

    def park_import(self, pending: PendingImport) -> str:
        return keep_newest(self.pending_imports, pending, PENDING_IMPORTS_KEPT)

    def today(self) -> date:
        return datetime.now(self.config.tz).date()

    def chat(self, chat_id: int) -> ChatState:
        return self.chats.setdefault(chat_id, ChatState())

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.config.admin_ids

    async def ask(self, chat_id: int, question: str, chat_type: str = "private") -> tuple[Answer, str | None]:
        """Answer a question in a chat's context: a short follow-up (那内蒙古呢？) is re-asked in full.
        Questions are logged so that /stats can show what went unanswered."""
        state = self.chat(chat_id)
        rewritten = follow_up(state.previous_question, question)
        answer = await self.worker.run(self.kb.ask, rewritten or question, self.today())
        state.previous_question = rewritten or question
        if answer.mode not in ("greeting", "help"):
            top = answer.hits[0].item.id if answer.hits else None
            await self.worker.run(self.kb.store.log_question, rewritten or question, chat_type, answer.confident, top)
        return answer, rewritten
