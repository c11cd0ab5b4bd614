"""What every app adapter offers the composition root."""

from __future__ import annotations

from typing import Protocol

from handlers.core import Conversation
from reminders.service import Channel

APPS = ("telegram", "dingtalk", "feishu", "wecom")


class AdapterStopped(Exception):
    """An app cannot run (a rejected credential, …): the message is the one line for the operator."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Adapter(Protocol):
    app: str

    async def start(self, conversation: Conversation) -> None:
        """Connect and begin handing messages to the conversation; return once running. Raises
        AdapterStopped when the app cannot run at all; a connection that drops later reconnects by itself."""

    async def stop(self) -> None:
        """Disconnect; safe to call after a failed start."""

    def channel(self) -> Channel | None:
        """Where reminders to this app's chats go (None: it cannot push)."""
