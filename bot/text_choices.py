"""Choices on apps (or chats) without buttons: numbered lines the person answers with a number.

The adapter renders a reply's choices as "[1] …" lines, remembers them for that person in that chat,
and turns a later bare number into the choice's payload (which the conversation checks like any
pressed button)."""

from __future__ import annotations

from collections import OrderedDict

from handlers.messages import Choice, Reply

PEOPLE_KEPT = 10_000


def numbered_lines(replies: list[Reply]) -> tuple[list[str], list[Choice]]:
    """The "[n] …" lines of the replies' choices, numbered from 1 across the replies, and the choices."""
    lines: list[str] = []
    choices: list[Choice] = []
    for reply in replies:
        for row in reply.choices:
            for choice in row:
                choices.append(choice)
                lines.append(f"[{len(choices)}] {choice.describe or choice.label}")
    return lines, choices


class NumberedChoices:
    """The last numbered choices shown to each person (bounded: the oldest are forgotten first)."""

    def __init__(self) -> None:
        self._shown: OrderedDict[object, list[Choice]] = OrderedDict()

    def remember(self, who: object, choices: list[Choice]) -> None:
        if not choices:
            return
        self._shown.pop(who, None)
        self._shown[who] = choices
        while len(self._shown) > PEOPLE_KEPT:
            self._shown.popitem(last=False)

    def payload(self, who: object, text: str) -> str | None:
        """The payload of choice number `text` last shown to this person, or None."""
        text = text.strip()
        choices = self._shown.get(who, [])
        if text.isdigit() and 0 < int(text) <= len(choices):
            return choices[int(text) - 1].payload
        return None
