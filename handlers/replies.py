"""Answers from the knowledge base as neutral replies: their lines and their choices."""

from __future__ import annotations

from datetime import date

from handlers.callbacks import item_payload, page_payload
from handlers.messages import Choice, Reply
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

MORE_HINT = "还有 "  # the list line that points to "更多": choices page the list instead


def answer_reply(answer: Answer, list_id: str = "", prefix: list[Line] | None = None) -> Reply:
    lines = [line for line in answer_lines(answer) if not (list_id and line.text.startswith(MORE_HINT))]
    return Reply([*(prefix or []), *lines], answer_choices(answer, list_id))


def answer_choices(answer: Answer, list_id: str) -> list[list[Choice]]:
    rows: list[list[Choice]] = []
    if answer.mode == "list" and answer.hits:
        start = answer.page * LIST_PAGE
        rows.append([Choice(str(start + i + 1), item_payload(h.item.id or 0), f"第 {start + i + 1} 条详情（#{h.item.id}）")
                     for i, h in enumerate(page_hits(answer))])
        nav = []
        if answer.page > 0:
            nav.append(Choice("‹ 上一页", page_payload(list_id, answer.page - 1), "上一页"))
        if start + LIST_PAGE < len(answer.hits):
            nav.append(Choice("下一页 ›", page_payload(list_id, answer.page + 1), "下一页"))
        if nav and list_id:
            rows.append(nav)
    elif answer.mode == "item" and answer.hits:
        related = related_hits(answer)
        if related:
            rows.append([Choice(f"相关 #{h.item.id}", item_payload(h.item.id or 0), f"相关条目 #{h.item.id} 详情")
                         for h in related])
    elif answer.mode == "not_found":
        rows += [[Choice(clip(h.item.text, 30), item_payload(h.item.id or 0), f"#{h.item.id} {clip(h.item.text, 30)}")]
                 for h in suggestion_hits(answer)]
    return rows


def item_reply(item: Item, doc: Document | None, today: date) -> Reply:
    return Reply([*item_detail_lines(item, doc, today), Line(f"编号：#{item.id}")])
