"""Neutral replies as 钉钉 markdown, and choices as links that send their payload back as text.

DingTalk robots have no callback buttons for plain messages: an actionCard button or a markdown link can
only open a URL. A `dtmd://dingtalkclient/sendMessage?content=…` link (documented for robot markdown) makes
the client send `content` as the person's own message, which reaches the bot like any other message. So in
a private chat a choice is a numbered line whose link sends "<label> #<payload>"; `choice_payload` reads the
payload back (anyone can type such a text: the conversation checks every payload like a pressed button).
In a group the robot receives only messages that @ it, and a link's text carries no @: there a tap would
only post the text to the group, so choices are plain numbered lines, picked with "@机器人 <number>".

DingTalk's markdown is a small subset: a line break needs a blank line, and `*`, `[`, `]`, `#`, `>`, `<`
and backquotes in document text would turn into markup, so they are replaced by their full-width forms.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from handlers.messages import Choice, Reply
from knowledge.answer import Line

# groupMessages/send takes a msgParam of at most 15,000 bytes (JSON-encoded title + text); session webhooks
# publish no limit (custom robots take ~20,000 bytes). 12,000 bytes of text leaves room for escapes and title.
MAX_TEXT_BYTES = 12_000
MAX_TITLE = 30
SEND_LINK = "dtmd://dingtalkclient/sendMessage?content="
CHOICE_MARK = " #"
FILE_NOT_SENT = "📎 {name}：钉钉里机器人不能直接发送文件，请在 Telegram 或控制台（policybot chat）中使用同一命令获取。"
CHOOSE_PRIVATE = "（点选项，或回复序号）"
CHOOSE_GROUP = "（@我 并回复序号选择）"
_FULL_WIDTH = str.maketrans({"*": "＊", "[": "［", "]": "］", "<": "＜", ">": "＞", "`": "｀", "#": "＃", "|": "｜"})
_PAYLOAD = re.compile(r"(?:^|\s)#([a-z]{2}:[0-9a-z:]{1,61})\s*$")


def escape(text: str) -> str:
    """Document text that DingTalk's markdown shows as written."""
    return text.translate(_FULL_WIDTH).replace("\n", " ")


def choice_text(choice: Choice) -> str:
    """The text a click on the choice's link sends: what the choice says, and its payload."""
    return f"{choice.describe or choice.label}{CHOICE_MARK}{choice.payload}"


def choice_payload(text: str) -> str | None:
    """The payload in a text sent by a choice link ("下一页 #pg:1a2b3c:2"), or None."""
    m = _PAYLOAD.search(text.strip())
    return m.group(1) if m else None


def choice_line(number: int, choice: Choice, *, link: bool = True) -> str:
    label = escape(choice.describe or choice.label)
    return f"{number}. [{label}]({SEND_LINK}{quote(choice_text(choice), safe='')})" if link else f"{number}. {label}"


def to_markdown(lines: list[Line], choices: list[Choice] | None = None, *, group: bool = False,
                limit: int = MAX_TEXT_BYTES) -> str:
    """The lines as markdown (strong ones bold), cut at a line to fit `limit` bytes, then the numbered choices
    (links in private chats, plain lines in groups)."""
    tail = [choice_line(n, c, link=not group) for n, c in enumerate(choices or [], 1)]
    if tail:
        tail.append(CHOOSE_GROUP if group else CHOOSE_PRIVATE)
    budget = limit - sum(len(t.encode()) + 2 for t in tail)
    out: list[str] = []
    for line in lines:
        piece = escape(line.text)
        if line.strong and piece.strip():
            piece = f"**{piece}**"
        size = len(piece.encode()) + 2
        if size > budget - 5:
            out.append("…")
            break
        out.append(piece)
        budget -= size
    return "\n\n".join(out + tail)


def title_of(lines: list[Line], fallback: str = "PolicyBot") -> str:
    """The title DingTalk shows in the chat list and notifications: the first line, short."""
    first = next((line.text.strip() for line in lines if line.text.strip()), fallback)
    return first if len(first) <= MAX_TITLE else first[: MAX_TITLE - 1] + "…"


def reply_lines(reply: Reply) -> list[Line]:
    """The reply's lines, with a note in place of a file the robot cannot send."""
    lines = list(reply.lines)
    if reply.file is not None:
        name = reply.file.caption or reply.file.name
        lines.append(Line(FILE_NOT_SENT.format(name=name)))
    return lines


def webhook_markdown(title: str, text: str) -> dict:
    """A session-webhook message body."""
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
