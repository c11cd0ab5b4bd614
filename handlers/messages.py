"""The neutral conversation's messages: what comes in from any app and what goes back out.

Adapters (`bot/`) turn an app's message into an `Incoming` and render each `Reply` in the app's own
format (Telegram HTML and inline keyboards, console text with numbered choices, …). Nothing here knows
an app's types.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from knowledge.answer import Line

PRIVATE = "private"
GROUP = "group"


@dataclass(frozen=True)
class IncomingFile:
    """A file sent with a message; `fetch` downloads it (adapters know how), only when needed."""

    name: str
    size: int | None
    fetch: Callable[[], Awaitable[bytes]]


@dataclass(frozen=True)
class Incoming:
    """One message, or one pressed choice, from a person in a chat of some app."""

    app: str  # "telegram", "console", …
    chat_id: str
    chat_kind: str  # PRIVATE | GROUP
    sender_id: str
    text: str = ""  # the text or a file's caption, commands included ("/ask …")
    addressed: bool = False  # in a group: an @mention of the bot, a reply to it, or a command for it
    file: IncomingFile | None = None
    choice: str | None = None  # the payload of a pressed choice (button); forged data is possible
    has_media: bool = False  # a photo, sticker, voice… (what the bot cannot read)
    # Whether the sender manages the group (may change its subscriptions). Asked lazily: on Telegram it
    # costs an API call. None: the app cannot tell, so only bot admins manage groups.
    check_manager: Callable[[], Awaitable[bool]] | None = None

    @property
    def in_group(self) -> bool:
        return self.chat_kind == GROUP

    @property
    def person(self) -> tuple[str, str, str]:
        """Whose conversation this is: follow-ups and list pages belong to one person in one chat."""
        return self.app, self.chat_id, self.sender_id


@dataclass(frozen=True)
class Choice:
    """A button: `label` on apps with buttons, `describe` where choices are numbered lines."""

    label: str
    payload: str  # ≤ 64 bytes (Telegram's callback data limit); see handlers/callbacks.py
    describe: str = ""


@dataclass(frozen=True)
class OutFile:
    name: str
    data: bytes
    caption: str = ""


@dataclass
class Reply:
    """One message back. Lines with `strong` are emphasised where the app allows."""

    lines: list[Line] = field(default_factory=list)
    choices: list[list[Choice]] = field(default_factory=list)  # rows of buttons
    file: OutFile | None = None
    replace: bool = False  # replaces the message whose choice was pressed, where the app can edit
    alert: bool = False  # answers a pressed choice with a pop-up instead of a message, where the app can
    expects_reply: bool = False  # the person should answer this message (a prompt)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def say(*texts: str, strong: bool = False) -> Reply:
    """A plain reply of one or more lines."""
    return Reply([Line(t, strong=strong) for text in texts for t in text.split("\n")])
