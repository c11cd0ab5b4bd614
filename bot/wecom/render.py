"""Neutral replies as 企业微信 messages: markdown (strong lines bold) cut at a line to fit the message,
choices as one button_interaction template card where they fit one, else numbered lines
(bot/text_choices.py), and a line for each file the bot cannot send here. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from handlers.messages import Choice, Reply
from knowledge.answer import Line

REPLY_MAX_BYTES = 20480  # aibot_respond_msg stream.content (被动回复消息, path/101031)
PUSH_MAX_BYTES = 4096  # aibot_send_msg markdown.content: as WeCom's other markdown messages (not stated for it)
CARD_MAX_BUTTONS = 6  # button_interaction: button_list "列表长度不超过6"
BUTTON_MAX_CHARS = 10  # button text "建议不超过10个字"; longer labels become numbered lines
CARD_TITLE_MAX_CHARS = 26  # main_title.title "建议不超过26个字"
CARD_TITLE = "请选择"
FILE_NOT_SENT = "（文件“{name}”无法通过企业微信机器人发送{caption}。可在服务器上用 policybot export 导出知识库。）"
CUT = "…（内容过长，已截断）"


@dataclass
class Rendered:
    """One WeCom message for a batch of replies: markdown, maybe a card, and the numbered choices shown."""

    markdown: str = ""
    card_choices: list[Choice] = field(default_factory=list)  # the card's buttons (empty: no card)
    card_title: str = CARD_TITLE
    numbered: list[Choice] = field(default_factory=list)  # choices shown as "[n] …" lines, n from 1

    def card(self, task_id: str) -> dict[str, Any] | None:
        """The button_interaction card; a click comes back as template_card_event with the button's key."""
        if not self.card_choices:
            return None
        return {
            "card_type": "button_interaction",
            "main_title": {"title": self.card_title},
            "task_id": task_id,
            "button_list": [{"text": c.label, "style": 1, "key": c.payload} for c in self.card_choices],
        }


def fits_card(choices: list[list[Choice]]) -> bool:
    flat = [c for row in choices for c in row]
    return 0 < len(flat) <= CARD_MAX_BUTTONS and all(0 < len(c.label) <= BUTTON_MAX_CHARS for c in flat)


def render(replies: list[Reply], *, max_bytes: int, card: bool = True) -> Rendered:
    """The batch as one message. At most one card (WeCom takes one per reply): the first reply whose
    choices fit one gets it; every other choice becomes a numbered line after the text."""
    out = Rendered()
    body: list[Line] = []
    for reply in replies:
        if body and reply.lines:
            body.append(Line(""))
        body.extend(reply.lines)
        if reply.file is not None:
            caption = f"：{reply.file.caption}" if reply.file.caption else ""
            body.append(Line(FILE_NOT_SENT.format(name=reply.file.name, caption=caption)))
        if not reply.choices:
            continue
        if card and not out.card_choices and fits_card(reply.choices):
            out.card_choices = [c for row in reply.choices for c in row]
            title = next((x.text.strip() for x in reply.lines if x.text.strip()), CARD_TITLE)
            out.card_title = clip_chars(title, CARD_TITLE_MAX_CHARS)
        else:
            out.numbered.extend(c for row in reply.choices for c in row)
    tail = [Line(f"[{n}] {c.describe or c.label}") for n, c in enumerate(out.numbered, 1)]
    out.markdown = lines_to_markdown(body, max_bytes, tail)
    return out


def lines_to_markdown(lines: list[Line], max_bytes: int, tail: list[Line] | None = None) -> str:
    """WeCom markdown of the lines (strong → **bold**), cut at a line so that it and the tail fit max_bytes."""
    tail_text = [_markdown(x) for x in tail or []]
    budget = max_bytes - sum(len(t.encode()) + 1 for t in tail_text) - len(CUT.encode())
    out: list[str] = []
    size = 0
    for line in lines:
        piece = _markdown(line)
        size += len(piece.encode()) + 1
        if size > budget:
            out.append(CUT)
            break
        out.append(piece)
    text = "\n".join(out + tail_text)
    data = text.encode()
    return text if len(data) <= max_bytes else data[:max_bytes].decode(errors="ignore")


def _markdown(line: Line) -> str:
    text = line.text
    return f"**{text}**" if line.strong and text.strip() else text


def clip_chars(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain_text(replies: list[Reply], max_bytes: int) -> str:
    """The replies as plain text (a welcome message takes text only), cut at a line."""
    lines = [Line(x.text) for reply in replies for x in reply.lines]
    return lines_to_markdown(lines, max_bytes)
