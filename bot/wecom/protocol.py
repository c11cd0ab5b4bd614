"""企业微信 智能机器人 long connection: the pure parts of the protocol — callbacks parsed into
WeComMessage, request ids, which proxy a ws(s):// URL goes through, and the reconnect backoff.
No I/O here; bot/wecom/client.py does the talking."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class WeComMessage:
    """One callback, parsed: a user's message or an event (enter_chat, a card click, …)."""

    req_id: str  # answer under this id with the reply_* methods
    msgid: str
    chat_id: str  # where to push: the group's chatid, or the user's userid in a single chat
    chat_type: str  # "single" | "group"
    user_id: str
    msgtype: str  # "text", "mixed", "voice", "image", "file", … or "event"
    text: str = ""  # the text a user wrote, a group's leading @mention removed
    event_type: str = ""  # for msgtype "event": "enter_chat", "template_card_event", …
    event_key: str = ""  # for a card click: the button's key
    task_id: str = ""  # for a card click: the card's task_id
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_group(self) -> bool:
        return self.chat_type == "group"


def object_of(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text_of(body: Mapping[str, Any]) -> str:
    msgtype = body.get("msgtype")
    if msgtype in ("text", "voice"):
        part = body.get(msgtype)
        return part.get("content", "") if isinstance(part, dict) else ""
    if msgtype == "mixed":
        items = (body.get("mixed") or {}).get("msg_item") or []
        return "\n".join(i["text"].get("content", "") for i in items
                         if isinstance(i, dict) and i.get("msgtype") == "text" and isinstance(i.get("text"), dict))
    return ""


def strip_mention(text: str) -> str:
    """A group message starts with the robot's @mention ("@机器人 问题"); the question is the rest."""
    text = text.strip()
    if text.startswith("@"):
        _, _, rest = text.partition(" ")
        return rest.strip()
    return text


def parse_callback(frame: Mapping[str, Any]) -> WeComMessage:
    """Turn an aibot_msg_callback / aibot_event_callback frame into a WeComMessage; ValueError if it is not one."""
    headers, body = frame.get("headers"), frame.get("body")
    if not isinstance(headers, dict) or not isinstance(body, dict):
        raise ValueError("headers or body missing")
    req_id, sender = headers.get("req_id"), body.get("from")
    user_id = sender.get("userid") if isinstance(sender, dict) else None
    if not isinstance(req_id, str) or not req_id or not isinstance(user_id, str) or not user_id:
        raise ValueError("req_id or from.userid missing")
    chat_type = "group" if body.get("chattype") == "group" else "single"
    chat_id = body.get("chatid") if chat_type == "group" else user_id
    if not isinstance(chat_id, str) or not chat_id:
        raise ValueError("group callback without chatid")
    msgtype = str(body.get("msgtype") or "")
    event = object_of(body.get("event"))
    event_type = str(event.get("eventtype") or "")
    detail = object_of(event.get(event_type))
    text = _text_of(body)
    return WeComMessage(
        req_id=req_id, msgid=str(body.get("msgid") or ""), chat_id=chat_id, chat_type=chat_type,
        user_id=user_id, msgtype=msgtype, text=strip_mention(text) if chat_type == "group" else text.strip(),
        event_type=event_type, event_key=str(detail.get("event_key") or ""),
        task_id=str(detail.get("task_id") or ""), raw=frame,
    )


def new_req_id(prefix: str) -> str:
    return f"{prefix}_{int(time.time() * 1000)}_{secrets.token_hex(4)}"


def proxy_for(url: str, environ: Mapping[str, str]) -> str | None:
    """The proxy for a ws(s):// URL from the standard variables (wss → HTTPS_PROXY, ws → HTTP_PROXY), NO_PROXY honoured.

    aiohttp's trust_env would look for WSS_PROXY / WS_PROXY only, which nobody sets.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host in LOOPBACK:
        return None
    env = {k.lower(): v for k, v in environ.items() if v}
    names = ("wss_proxy", "https_proxy") if parts.scheme == "wss" else ("ws_proxy", "http_proxy")
    proxy = next((env[n] for n in names if n in env), None)
    if not proxy:
        return None
    return None if bypasses_proxy(host, env.get("no_proxy", "")) else proxy


def bypasses_proxy(host: str, no_proxy: str) -> bool:
    """NO_PROXY as curl reads it: "*", or comma-separated names matching the host or a domain it is under."""
    for entry in no_proxy.split(","):
        entry = entry.strip().lower()
        if entry == "*":
            return True
        name = entry.lstrip(".")
        if name.count(":") == 1:
            name = name.split(":")[0]  # host:port
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with equal jitter: attempt n waits between d/2 and d, d = min(cap, base·2ⁿ)."""

    base: float = 1.0
    cap: float = 60.0

    def delay(self, attempt: int, rand: float) -> float:
        ceiling = min(self.cap, self.base * (2 ** min(attempt, 30)))
        return ceiling / 2 + rand * ceiling / 2
