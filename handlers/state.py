"""What conversations remember between messages, in one home (in memory: a restart forgets it).

Follow-ups, "更多" and a pending /add prompt belong to one person in one chat (in a group, two
people asking at once do not page each other's lists); list pages reached by a button belong to the
chat, since everyone there sees the buttons. Everything is bounded: the oldest is dropped first.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TypeVar

from knowledge.answer import Answer
from knowledge.dialogue import Context
from knowledge.models import Document, Item

T = TypeVar("T")
LISTS_KEPT_PER_CHAT = 8
PEOPLE_KEPT = 10_000
CHATS_KEPT = 2_000
PENDING_IMPORTS_KEPT = 20
PROMPT_SECONDS = 600  # an unanswered "new item" prompt is forgotten after this

Person = tuple[str, str, str]  # app, chat id, sender id
Chat = tuple[str, str]  # app, chat id


def keep_newest(kept: OrderedDict[str, T], value: T, limit: int) -> str:
    """Keep `value` under a new short token (for choice payloads), dropping the oldest beyond `limit`."""
    token = secrets.token_hex(3)
    while token in kept:
        token = secrets.token_hex(3)
    kept[token] = value
    while len(kept) > limit:
        kept.popitem(last=False)
    return token


def _touch(kept: OrderedDict, key, factory, limit: int):  # type: ignore[no-untyped-def]
    """The value under `key` (made if missing), marked newest; the oldest beyond `limit` go."""
    value = kept.pop(key, None)
    if value is None:
        value = factory()
    kept[key] = value
    while len(kept) > limit:
        kept.popitem(last=False)
    return value


@dataclass
class PersonState:
    context: Context = field(default_factory=Context)  # the last question and answer, for follow-ups
    last_list: str = ""  # the id of the newest list this person was given
    prompt_for_add: float = 0.0  # when an admin was asked for a new item's text (0: not asked)

    def awaiting_add(self) -> bool:
        return bool(self.prompt_for_add) and time.monotonic() - self.prompt_for_add < PROMPT_SECONDS


@dataclass
class PendingImport:
    """A parsed document waiting for its admin's Confirm or Cancel."""

    document: Document
    items: list[Item]
    admin: tuple[str, str]  # app, sender id


@dataclass
class ConversationMemory:
    people: OrderedDict[Person, PersonState] = field(default_factory=OrderedDict)
    lists: OrderedDict[Chat, OrderedDict[str, Answer]] = field(default_factory=OrderedDict)
    pending_imports: OrderedDict[str, PendingImport] = field(default_factory=OrderedDict)

    def person(self, who: Person) -> PersonState:
        return _touch(self.people, who, PersonState, PEOPLE_KEPT)

    def remember_list(self, who: Person, answer: Answer) -> str:
        chat_lists = _touch(self.lists, who[:2], OrderedDict, CHATS_KEPT)
        list_id = keep_newest(chat_lists, answer, LISTS_KEPT_PER_CHAT)
        self.person(who).last_list = list_id
        return list_id

    def chat_list(self, chat: Chat, list_id: str) -> Answer | None:
        return self.lists.get(chat, OrderedDict()).get(list_id)

    def last_list(self, who: Person) -> tuple[str, Answer] | None:
        list_id = self.person(who).last_list
        answer = self.chat_list(who[:2], list_id) if list_id else None
        return (list_id, answer) if answer is not None else None

    def park_import(self, pending: PendingImport) -> str:
        return keep_newest(self.pending_imports, pending, PENDING_IMPORTS_KEPT)
