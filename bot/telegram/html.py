"""Neutral replies as Telegram messages: HTML with every piece of text escaped (≤ 4096 characters) and
inline keyboards; a prompt asks for a reply (ForceReply)."""

from __future__ import annotations

import html

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup

from handlers.messages import Reply
from knowledge.answer import Line

MAX_MESSAGE = 4096
MAX_ALERT = 200  # answerCallbackQuery's text limit


def lines_to_html(lines: list[Line]) -> str:
    """Escaped HTML of the lines, cut at a line boundary so that it fits one message."""
    out: list[str] = []
    size = 0
    for line in lines:
        piece = html.escape(line.text)
        if line.strong:
            piece = f"<b>{piece}</b>"
        if size + len(line.text) + 1 > MAX_MESSAGE - 10:
            out.append("…")
            break
        out.append(piece)
        size += len(line.text) + 1
    return "\n".join(out)


def reply_markup(reply: Reply) -> InlineKeyboardMarkup | ForceReply | None:
    if reply.choices:
        return InlineKeyboardMarkup([[InlineKeyboardButton(c.label, callback_data=c.payload) for c in row]
                                     for row in reply.choices])
    if reply.expects_reply:
        return ForceReply(selective=True)
    return None


def alert_text(reply: Reply) -> str:
    text = reply.text
    return text if len(text) <= MAX_ALERT else text[: MAX_ALERT - 1] + "…"
