"""The conversation, once for every app: an incoming message in, replies out, in a documented order.

  1. a pressed choice (button): its payload is checked, then routed; forged data gets a polite pop-up
  2. in a group, a message not addressed to the bot is ignored
  3. an admin's answer to a "new item" prompt
  4. a command of the command table (admin commands check the sender themselves); an unknown one
     gets a pointer to /help
  5. a file or picture without a command: what the bot can do with it (a caption is a question)
  6. "更多", then any other text: a question

Messages of one chat are handled one at a time, in the order they came; chats run side by side.
Any error is logged with its traceback and the person gets one polite line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from handlers import admin, ask, browse, imports, reports, subscriptions, texts
from handlers.callbacks import parse_callback
from handlers.commands import COMMANDS
from handlers.messages import Incoming, Reply, say
from handlers.services import Services
from handlers.turn import Turn
from knowledge.answer import Line

log = logging.getLogger(__name__)
Handler = Callable[[Turn], Awaitable[list[Reply]]]
Send = Callable[[list[Reply]], Awaitable[None]]

COMMAND_HANDLERS: dict[str, Handler] = {
    "start": browse.on_start,
    "help": browse.on_help,
    "ask": ask.on_ask_command,
    "deadlines": browse.on_deadlines,
    "dept": browse.on_dept,
    "search": browse.on_search,
    "subscribe": subscriptions.on_subscribe,
    "subscriptions": subscriptions.on_subscriptions,
    "unsubscribe": subscriptions.on_unsubscribe,
    "ics": subscriptions.on_ics,
    "add": admin.on_add,
    "edit": admin.on_edit,
    "delete": admin.on_delete,
    "undo": admin.on_undo,
    "history": admin.on_history,
    "done": admin.on_done,
    "postpone": admin.on_postpone,
    "import": imports.on_import,
    "export": reports.on_export,
    "stats": reports.on_stats,
}
assert set(COMMAND_HANDLERS) == {c.name for c in COMMANDS}, "every command of the table has one handler"

CHOICE_HANDLERS = {
    "item": ask.on_item_choice,
    "page": ask.on_page_choice,
    "import": imports.on_import_choice,
    "make_item": reports.on_make_item_choice,
    "unsubscribe": subscriptions.on_unsubscribe_choice,
    "subscriptions": subscriptions.on_subscriptions_choice,
}


def split_command(text: str) -> tuple[str, str] | None:
    """'/ask@policy_bot 问题' -> ('ask', '问题'); None when the text is not a command."""
    text = text.strip()
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, rest = text[1:].partition(" ")
    if "\n" in head:
        head, _, more = head.partition("\n")
        rest = more + " " + rest
    name = head.split("@", 1)[0].lower()
    return (name, rest.strip()) if name.isascii() and name.replace("_", "").isalnum() else None


class ChatLocks:
    """One lock per chat, kept only while someone holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    async def run(self, key: tuple[str, str], work: Callable[[], Awaitable[None]]) -> None:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                await work()
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class Conversation:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._locks = ChatLocks()

    async def handle(self, incoming: Incoming, send: Send) -> None:
        """Handle one message and send its replies with `send`, after this chat's earlier messages."""

        async def work() -> None:
            try:
                replies = await self.replies(incoming)
            except Exception:
                log.exception("error while handling a message from %s:%s", incoming.app, incoming.chat_id)
                replies = [Turn(self.services, incoming).refusal(texts.ERROR)]
            if replies:
                await send(replies)

        await self._locks.run((incoming.app, incoming.chat_id), work)

    async def replies(self, incoming: Incoming) -> list[Reply]:
        """The replies to one message (no lock, no error handling: `handle` adds those)."""
        turn = Turn(self.services, incoming)
        if incoming.choice is not None:
            callback = parse_callback(incoming.choice)
            if callback is None:
                return [turn.refusal(texts.INVALID_BUTTON)]
            return await CHOICE_HANDLERS[callback.kind](turn, callback)
        if incoming.in_group and not incoming.addressed:
            return []
        text = incoming.text.strip()
        command = split_command(text)
        if command is None and turn.state.awaiting_add() and (text or incoming.file is None):
            return await admin.on_prompted_add(turn, text)
        if command is not None:
            name, turn.args = command
            handler = COMMAND_HANDLERS.get(name)
            return await handler(turn) if handler else [say(texts.UNKNOWN_COMMAND.format(name=name[:30]))]
        if incoming.file is not None:
            return [say(texts.FILE_WITHOUT_COMMAND)]
        if incoming.has_media:
            if not text:
                return [say(texts.MEDIA_ONLY)]
            replies = await ask.on_question(turn, text)
            replies[0].lines.insert(0, Line(texts.MEDIA_CAPTION_NOTE))
            return replies
        if not text:
            return [say(texts.ASK_USAGE)] if incoming.in_group else []
        if text.lower() in ask.MORE_WORDS:
            return await ask.on_more(turn)
        return await ask.on_question(turn, text)
