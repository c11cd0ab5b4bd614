"""Neutral replies as 飞书 messages: an interactive card whose markdown carries the lines (strong → bold)
and whose buttons carry the choices' payloads; numbered lines where buttons cannot be shown.

A button's `value` is {"choice": payload} — plus, in a private chat, {"p2p": tag}, an HMAC of the chat
and payload under the app secret, so that a click can be known to come from a private chat without
trusting what the click says (a forged value can claim anything; the core checks the payload).
"""

from __future__ import annotations

import hashlib
import hmac
import json

from bot.text_choices import numbered_lines
from handlers.messages import Choice, OutFile, Reply
from knowledge.answer import Line

# 卡片及富文本消息请求体最大不能超过 30 KB (open.feishu.cn 发送消息). The markdown gets what is left after
# the buttons, with room for the JSON around them.
MAX_CARD_BYTES = 30 * 1024
CARD_MARGIN = 1024
MAX_TOAST = 100
MAX_LABEL = 40
MAX_PAYLOAD_BYTES = 64
# Card markdown shows HTML entities as their characters; these are the ones its syntax would eat.
ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "*": "&#42;", "~": "&#126;", "`": "&#96;", "[": "&#91;",
           "]": "&#93;"}
RECEIVED = "已收到，正在处理…"
FILE_NOT_SENT = "文件“{name}”{caption}无法在飞书中发送；请在 Telegram 或 policybot 命令行中获取。"


def escape(text: str) -> str:
    """Plain text as card markdown that shows it as written."""
    return "".join(ESCAPES.get(ch, ch) for ch in text)


def _json_size(text: str) -> int:
    return len(json.dumps(text, ensure_ascii=False).encode()) - 2


def lines_to_markdown(lines: list[Line], budget: int = MAX_CARD_BYTES - CARD_MARGIN) -> str:
    """The lines as card markdown, cut at a line so that the JSON-encoded text stays within `budget` bytes."""
    out: list[str] = []
    size = 0
    for line in lines:
        piece = escape(line.text)
        if line.strong and line.text.strip():
            piece = f"**{piece}**"
        cost = _json_size(piece) + 2
        if size + cost > budget - 8:
            out.append("…")
            break
        out.append(piece)
        size += cost
    return "\n".join(out)


def p2p_tag(secret: str, chat_id: str, payload: str) -> str:
    return hmac.new(secret.encode(), f"{chat_id}\n{payload}".encode(), hashlib.sha256).hexdigest()[:24]


def button_value(payload: str, *, secret: str = "", private_chat: str = "") -> dict:
    value = {"choice": payload}
    if private_chat:
        value["p2p"] = p2p_tag(secret, private_chat, payload)
    return value


def clicked(value: object, chat_id: str, secret: str) -> tuple[str, bool] | None:
    """(payload, from a private chat) of a button's value; None when it is not one of our buttons' shape."""
    if not isinstance(value, dict) or not isinstance(value.get("choice"), str):
        return None
    payload = value["choice"]
    if not payload or len(payload.encode()) > MAX_PAYLOAD_BYTES:
        return None
    tag = value.get("p2p")
    private = isinstance(tag, str) and hmac.compare_digest(tag, p2p_tag(secret, chat_id, payload))
    return payload, private


def _label(choice: Choice) -> str:
    label = choice.label or choice.describe
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def buttons(rows: list[list[Choice]], *, secret: str = "", private_chat: str = "") -> list[dict]:
    """One action element per row of choices."""
    return [{"tag": "action", "actions": [
        {"tag": "button", "text": {"tag": "plain_text", "content": _label(c)}, "type": "default",
         "value": button_value(c.payload, secret=secret, private_chat=private_chat)} for c in row]}
        for row in rows if row]


def card(lines: list[Line], actions: list[dict] | None = None) -> dict:
    """An interactive card (message card JSON 1.0): the lines as markdown, then the buttons."""
    actions = actions or []
    room = MAX_CARD_BYTES - CARD_MARGIN - len(json.dumps(actions, ensure_ascii=False).encode())
    elements: list[dict] = [{"tag": "markdown", "content": lines_to_markdown(lines, room) or " "}]
    return {"config": {"wide_screen_mode": True}, "elements": elements + actions}


def file_line(file: OutFile) -> Line:
    caption = f"（{file.caption}）" if file.caption else ""
    return Line(FILE_NOT_SENT.format(name=file.name, caption=caption))


def reply_lines(reply: Reply) -> list[Line]:
    """What a reply says, a file it cannot send included."""
    return [*reply.lines, *([file_line(reply.file)] if reply.file is not None else [])]


def reply_card(reply: Reply, *, secret: str = "", private_chat: str = "") -> dict:
    return card(reply_lines(reply), buttons(reply.choices, secret=secret, private_chat=private_chat))


def numbered_card(reply: Reply) -> tuple[dict, list[Choice]]:
    """The reply with its choices as "[n] …" lines (answered with the number), and those choices."""
    numbered, choices = numbered_lines([reply])
    return card([*reply_lines(reply), *(Line(n) for n in numbered)]), choices


def toast(text: str, kind: str = "info") -> dict:
    """What a card click's ack carries: a toast the clicker sees at once."""
    text = text if len(text) <= MAX_TOAST else text[: MAX_TOAST - 1] + "…"
    return {"toast": {"type": kind, "content": text}}
