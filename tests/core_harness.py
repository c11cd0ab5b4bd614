"""Drive the neutral conversation directly, as a fake adapter would: messages in, replies out."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

from bot.config import parse_config
from bot.services import attach_reminders, close_services, open_services
from handlers.core import Conversation
from handlers.messages import GROUP, PRIVATE, Incoming, IncomingFile, Reply
from handlers.services import Services
from reminders.service import SendResult

APP = "fake"
ADMIN = "7001"


class RecordingChannel:
    """The fake app's reminder channel: accepts everything and remembers it."""

    def __init__(self) -> None:
        self.sent: list[tuple[object, list]] = []

    async def send(self, subscription, lines) -> SendResult:
        self.sent.append((subscription, lines))
        return SendResult.sent()


@dataclass
class Talk:
    conversation: Conversation
    services: Services

    async def __call__(self, text: str = "", *, chat: str = "100", sender: str = "100", group: bool = False,
                       addressed: bool = True, choice: str | None = None, file: IncomingFile | None = None,
                       media: bool = False, manager: bool | None = None) -> list[Reply]:
        async def manages() -> bool:
            return bool(manager)

        incoming = Incoming(app=APP, chat_id=chat, chat_kind=GROUP if group else PRIVATE, sender_id=sender,
                            text=text, addressed=addressed, choice=choice, file=file, has_media=media,
                            check_manager=manages if manager is not None else None)
        got: list[Reply] = []

        async def send(replies: list[Reply]) -> None:
            got.extend(replies)

        await self.conversation.handle(incoming, send)
        return got

    async def text(self, *args, **kwargs) -> str:
        return "\n".join(r.text for r in await self(*args, **kwargs))


@contextlib.asynccontextmanager
async def talking(db_path: Path) -> AsyncIterator[Talk]:
    config = parse_config({"storage": {"path": str(db_path)}, "reminders": {"enabled": False}})
    services = await open_services(config)
    services.settings = replace(services.settings, admins={APP: frozenset({ADMIN})})
    await attach_reminders(services, config, {APP: RecordingChannel()})
    try:
        yield Talk(Conversation(services), services)
    finally:
        await close_services(services)
