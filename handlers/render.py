"""Answers as Telegram HTML (every piece of text escaped) with their inline buttons; ≤ 4096 chars.

Callback data (≤ 64 bytes, checked on the way back by `parse_callback`):
  it:<item id>              show one item in full
  pg:<list id>:<page>       another page of a list answer
  im:<token>:y|n            confirm or cancel a previewed import (admins)
  mk:<question id>          turn an unanswered question into an item (admins)
  us:<subscription id>      unsubscribe (group administrators)
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from knowledge.answer import (
    LIST_PAGE,
    Answer,
    Line,
    answer_lines,
    clip,
    item_detail_lines,
    page_hits,
    related_hits,
    suggestion_hits,
)
from knowledge.models import Document, Item

MAX_MESSAGE = 4096
_CALLBACK = re.compile(
    r"^(?:it:(?P<item>\d{1,9})|pg:(?P<list>[0-9a-f]{6}):(?P<page>\d{1,4})"
    r"|im:(?P<token>[0-9a-f]{6}):(?P<choice>[yn])|mk:(?P<question>\d{1,9})|us:(?P<sub>\d{1,9}))$"
)


@dataclass(frozen=True)
class Callback:
    kind: str  # item | page | import | make_item | unsubscribe
    item_id: int = 0
    list_id: str = ""
    page: int = 0
    token: str = ""
    confirm: bool = False
    question_id: int = 0


def parse_callback(data: str | None) -> Callback | None:
    """The button's meaning, or None for data this bot never made (forged or from an old version)."""
    m = _CALLBACK.match(data or "")
    if not m:
        return None
    if m["item"]:
        return Callback("item", item_id=int(m["item"]))
    if m["token"]:
        return Callback("import", token=m["token"], confirm=m["choice"] == "y")
    if m["sub"]:
        return Callback("unsubscribe", item_id=int(m["sub"]))
    if m["question"]:
        return Callback("make_item", question_id=int(m["question"]))
    return Callback("page", list_id=m["list"], page=int(m["page"]))


def lines_to_html(lines: list[Line], prefix: str = "") -> str:
    """Escaped HTML of the lines, cut at a line boundary so that it fits one message."""
    out: list[str] = [html.escape(prefix)] if prefix else []
    size = len(prefix)
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


def answer_message(answer: Answer, list_id: str = "", prefix: str = "") -> tuple[str, InlineKeyboardMarkup | None]:
    lines = [line for line in answer_lines(answer) if not line.text.startswith("还有 ")]
    return lines_to_html(lines, prefix), answer_keyboard(answer, list_id)


def answer_keyboard(answer: Answer, list_id: str) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    if answer.mode == "list" and answer.hits:
        start = answer.page * LIST_PAGE
        rows.append([InlineKeyboardButton(str(start + i + 1), callback_data=f"it:{h.item.id}")
                     for i, h in enumerate(page_hits(answer))])
        nav = []
        if answer.page > 0:
            nav.append(InlineKeyboardButton("‹ 上一页", callback_data=f"pg:{list_id}:{answer.page - 1}"))
        if start + LIST_PAGE < len(answer.hits):
            nav.append(InlineKeyboardButton("下一页 ›", callback_data=f"pg:{list_id}:{answer.page + 1}"))
        if nav and list_id:
            rows.append(nav)
    elif answer.mode == "item" and answer.hits:
        related = related_hits(answer)
        if related:
            rows.append([InlineKeyboardButton(f"相关 #{h.item.id}", callback_data=f"it:{h.item.id}")
                         for h in related])
    elif answer.mode == "not_found":
        rows += [[InlineKeyboardButton(clip(h.item.text, 30), callback_data=f"it:{h.item.id}")]
                 for h in suggestion_hits(answer)]
    return InlineKeyboardMarkup(rows) if rows else None


def item_message(item: Item, doc: Document | None, answer_today) -> str:  # type: ignore[no-untyped-def]
    return lines_to_html([*item_detail_lines(item, doc, answer_today), Line(f"编号：#{item.id}")])
