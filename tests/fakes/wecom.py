"""A fake 企业微信 智能机器人 long connection on loopback, for tests.

It speaks the frames of the official protocol (developer.work.weixin.qq.com/document/path/101463,
as implemented by the official SDKs `@wecom/aibot-node-sdk` and `wecom-aibot-python-sdk`), every
frame one JSON text message `{cmd?, headers: {req_id}, body?, errcode?, errmsg?}`:

- client → server: `aibot_subscribe` {bot_id, secret}, `ping`, `aibot_respond_msg`,
  `aibot_respond_welcome_msg`, `aibot_respond_update_msg` (all three reuse the req_id of the
  callback they answer), `aibot_send_msg` {chatid, msgtype, …} with a fresh req_id;
- server → client: `aibot_msg_callback` and `aibot_event_callback` with a fresh req_id, and for
  every client request an answer without `cmd` that echoes its req_id with errcode/errmsg.

Callback bodies follow the 智能机器人 receive-message / receive-event docs (path/100719,
path/101027): text messages carry msgid, aibotid, chatid (group chats only), chattype
(single|group), from.userid, msgtype, text.content (in groups starting with the @mention);
events carry msgtype "event" and `event: {eventtype, <eventtype>: {…}}`, e.g.
`event.template_card_event = {card_type, event_key, task_id}`.

What the public material does not say and this fake assumes (each marked ASSUMED below): the
errcode for a wrong secret, what the server does with a request before subscribing, and the
send limits of the long connection.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.test_utils import TestServer

# WeCom's global "api freq out of limit" code. Seen on this very connection in an answer to
# aibot_subscribe (WecomTeam/wecom-openclaw-plugin issue #48: "Authentication failed:
# errcode=45009, errmsg=api freq out of limit") and the code WeCom's 访问频率限制 page
# (path/90454) and 全局错误码 list give for every rate limit.
ERR_TOO_FAST = 45009
# Replies to a req_id the server does not know (or no longer accepts): 846605 "invalid req_id",
# as the WeCom OpenClaw plugins handle it (@yanhaidao/wecom isInvalidReqIdError).
ERR_INVALID_REQ_ID = 846605
# ASSUMED: no public source shows aibot_subscribe's answer to a wrong secret; 40001 "invalid
# credential" is WeCom's global code for a rejected secret (gettoken). Clients must not rely on
# the number: any non-zero answer to aibot_subscribe other than 45009 / -1 means "credentials".
ERR_BAD_CREDENTIAL = 40001
# WeCom's global "invalid Request Parameter" (seen for bad bot parameters in WecomTeam/wecom-cli
# issue #24); used here for a body the docs say is invalid.
ERR_BAD_REQUEST = 40058
# ASSUMED: an invented code for a request before aibot_subscribe succeeded.
ERR_NOT_SUBSCRIBED = -10001

STREAM_MAX_BYTES = 20480  # stream.content: "最长不超过20480个字节" (被动回复消息, path/101031)
RESPOND_MSGTYPES = {"stream", "template_card", "stream_with_template_card", "markdown", "text"}
WELCOME_MSGTYPES = {"text", "template_card"}
SEND_MSGTYPES = {"markdown", "template_card", "file", "image", "voice", "video"}
BOT_NAME = "政策助手"

# ASSUMED send limits: the long-connection page does not state any in the material reachable
# here. WeCom documents 20 messages/minute per group robot (群机器人配置说明) and, for app
# messages, 30/minute per member (path/90454); the fake applies 20/minute per chat to
# aibot_send_msg and a conservative 10/second per bot. Both configurable; None turns one off.
DEFAULT_PER_CHAT_PER_MINUTE = 20
DEFAULT_PER_BOT_PER_SECOND = 10


@dataclass
class Frame:
    """One frame the fake received from a client, with the answer it gave."""

    cmd: str
    req_id: str
    body: Any
    raw: str
    connection: int
    errcode: int | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Connection:
    number: int
    ws: web.WebSocketResponse
    request: web.Request
    bot_id: str = ""
    subscribed: bool = False


def _new_req_id(prefix: str) -> str:
    return f"{prefix}_{int(time.time() * 1000)}_{secrets.token_hex(4)}"


class FakeWeCom:
    """Start with `await fake.start()` (or `start(ssl_context=…)` for wss://); point a client at `fake.ws_url`."""

    def __init__(
        self,
        bot_id: str = "aibTESTBOT",
        secret: str = "test-secret",
        *,
        path: str = "/",
        per_chat_per_minute: int | None = DEFAULT_PER_CHAT_PER_MINUTE,
        per_bot_per_second: int | None = DEFAULT_PER_BOT_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot_id = bot_id
        self.secret = secret
        self.path = path
        self.per_chat_per_minute = per_chat_per_minute
        self.per_bot_per_second = per_bot_per_second
        self.clock = clock
        self.frames: list[Frame] = []
        self.connections: list[_Connection] = []
        self.answer_pings = True
        self.silent_cmds: set[str] = set()  # requests with these cmds are recorded but never answered (a lost ack)
        self.close_on_bad_credential = False  # ASSUMED: unknown whether the server hangs up after a rejected subscribe
        self.rejected_subscribes = 0  # the next N subscribes answer ERR_TOO_FAST
        self.open_req_ids: dict[str, str] = {}  # callback req_id -> what it answers ("message", "enter_chat", …)
        self._sent: list[tuple[float, str]] = []  # (time, chatid) of accepted aibot_send_msg
        self._numbers = itertools.count(1)
        self._msgids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._server: TestServer | None = None
        self._scheme = "ws"

    # ------------------------------------------------------------------ lifecycle

    async def start(self, ssl_context: Any = None) -> None:
        app = web.Application()
        app.router.add_get(self.path, self._handle)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server(ssl=ssl_context)
        self._scheme = "wss" if ssl_context else "ws"

    async def close(self) -> None:
        for conn in list(self.connections):
            if not conn.ws.closed:
                await conn.ws.close(code=WSCloseCode.GOING_AWAY)
        if self._server:
            await self._server.close()

    @property
    def ws_url(self) -> str:
        assert self._server, "start() first"
        return f"{self._scheme}://127.0.0.1:{self._server.port}{self.path}"

    # ------------------------------------------------------------------ the protocol

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = _Connection(next(self._numbers), ws, request)
        self.connections.append(conn)
        await self._notify()
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    text = msg.data if msg.type == WSMsgType.TEXT else msg.data.decode("utf-8", "replace")
                    await self._on_text(conn, text)
                    await self._notify()
        finally:
            conn.subscribed = False
            await self._notify()
        return ws

    async def _on_text(self, conn: _Connection, raw: str) -> None:
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            self._record(Frame("", "", None, raw, conn.number))
            return
        headers: dict = data["headers"] if isinstance(data.get("headers"), dict) else {}
        frame = Frame(str(data.get("cmd") or ""), str(headers.get("req_id") or ""), data.get("body"), raw, conn.number)
        self._record(frame)
        if not frame.req_id or frame.cmd in self.silent_cmds:
            return  # nothing to answer to, or told to stay silent
        if frame.cmd == "aibot_subscribe":
            await self._subscribe(conn, frame)
        elif not conn.subscribed:
            await self._answer(conn, frame, ERR_NOT_SUBSCRIBED, "not subscribed")
        elif frame.cmd == "ping":
            if self.answer_pings:
                await self._answer(conn, frame, 0)
        elif frame.cmd in ("aibot_respond_msg", "aibot_respond_welcome_msg", "aibot_respond_update_msg"):
            await self._respond(conn, frame)
        elif frame.cmd == "aibot_send_msg":
            await self._send_msg(conn, frame)
        else:
            await self._answer(conn, frame, ERR_BAD_REQUEST, f"unknown cmd {frame.cmd}")

    async def _subscribe(self, conn: _Connection, frame: Frame) -> None:
        body = frame.body if isinstance(frame.body, dict) else {}
        if self.rejected_subscribes > 0:
            self.rejected_subscribes -= 1
            await self._answer(conn, frame, ERR_TOO_FAST, "api freq out of limit")
            return
        if body.get("bot_id") != self.bot_id or body.get("secret") != self.secret:
            await self._answer(conn, frame, ERR_BAD_CREDENTIAL, "invalid credential")
            if self.close_on_bad_credential:
                await conn.ws.close(code=WSCloseCode.POLICY_VIOLATION)
            return
        # A second subscription for the same bot replaces the first one, which is told so with a
        # disconnected_event and closed (the SDK 1.0.5 changelog: "disconnected_event(新连接顶替旧连接)").
        for old in self.connections:
            if old is not conn and old.subscribed and old.bot_id == self.bot_id and not old.ws.closed:
                old.subscribed = False
                await old.ws.send_str(json.dumps(self._event_frame("disconnected_event", "", "single", {})))
                await old.ws.close(code=WSCloseCode.OK)
        conn.subscribed, conn.bot_id = True, self.bot_id
        await self._answer(conn, frame, 0)

    async def _respond(self, conn: _Connection, frame: Frame) -> None:
        answers = self.open_req_ids.get(frame.req_id)
        body = frame.body if isinstance(frame.body, dict) else {}
        allowed = {
            "aibot_respond_msg": answers == "message",
            "aibot_respond_welcome_msg": answers == "enter_chat",
            "aibot_respond_update_msg": answers == "template_card_event",
        }[frame.cmd]
        if not allowed:
            await self._answer(conn, frame, ERR_INVALID_REQ_ID, "invalid req_id")
            return
        problem = self._body_problem(frame.cmd, body)
        if problem:
            await self._answer(conn, frame, ERR_BAD_REQUEST, f"invalid Request Parameter: {problem}")
            return
        await self._answer(conn, frame, 0)

    @staticmethod
    def _body_problem(cmd: str, body: dict) -> str:
        msgtype = body.get("msgtype")
        if cmd == "aibot_respond_update_msg":
            card = body.get("template_card")
            if body.get("response_type") != "update_template_card" or not isinstance(card, dict):
                return "response_type/template_card"
            return ""
        kinds = WELCOME_MSGTYPES if cmd == "aibot_respond_welcome_msg" else RESPOND_MSGTYPES
        if msgtype not in kinds or not isinstance(body.get(msgtype if msgtype != "stream_with_template_card" else "stream"), dict):
            return f"msgtype {msgtype!r}"
        if msgtype in ("stream", "stream_with_template_card"):
            content = body["stream"].get("content", "")
            if not isinstance(content, str) or len(content.encode("utf-8")) > STREAM_MAX_BYTES:
                return "stream.content longer than 20480 bytes"
            if not body["stream"].get("id"):
                return "stream.id"
        return ""

    async def _send_msg(self, conn: _Connection, frame: Frame) -> None:
        body = frame.body if isinstance(frame.body, dict) else {}
        chatid, msgtype = body.get("chatid"), body.get("msgtype")
        if not isinstance(chatid, str) or not chatid or msgtype not in SEND_MSGTYPES or not isinstance(body.get(msgtype), dict):
            await self._answer(conn, frame, ERR_BAD_REQUEST, "invalid Request Parameter")
            return
        if self._too_fast(chatid):
            await self._answer(conn, frame, ERR_TOO_FAST, "api freq out of limit")
            return
        self._sent.append((self.clock(), chatid))
        await self._answer(conn, frame, 0)

    def _too_fast(self, chatid: str) -> bool:
        now = self.clock()
        per_bot = sum(1 for at, _ in self._sent if now - at < 1.0)
        per_chat = sum(1 for at, chat in self._sent if chat == chatid and now - at < 60.0)
        return (self.per_bot_per_second is not None and per_bot >= self.per_bot_per_second) or (
            self.per_chat_per_minute is not None and per_chat >= self.per_chat_per_minute)

    async def _answer(self, conn: _Connection, frame: Frame, errcode: int, errmsg: str = "ok") -> None:
        frame.errcode = errcode
        if not conn.ws.closed:
            await conn.ws.send_str(json.dumps({"headers": {"req_id": frame.req_id}, "errcode": errcode, "errmsg": errmsg}))

    def _record(self, frame: Frame) -> None:
        self.frames.append(frame)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ------------------------------------------------------------------ what tests push

    def _live(self) -> _Connection | None:
        live = [c for c in self.connections if c.subscribed and not c.ws.closed]
        return live[-1] if live else None

    async def wait_subscribed(self, timeout: float = 5.0, *, after: int = 0) -> int:
        """Wait until a connection numbered above `after` has subscribed; returns its number."""

        async def ready() -> int:
            async with self._changed:
                while True:
                    live = self._live()
                    if live and live.number > after:
                        return live.number
                    await self._changed.wait()

        return await asyncio.wait_for(ready(), timeout)

    async def _push(self, frame: dict) -> dict:
        await self.wait_subscribed()
        conn = self._live()
        assert conn
        await conn.ws.send_str(json.dumps(frame, ensure_ascii=False))
        return frame

    def _base_body(self, userid: str, chattype: str, chatid: str | None) -> dict:
        body: dict[str, Any] = {"msgid": f"MSG{next(self._msgids):08d}", "aibotid": self.bot_id}
        if chattype == "group":
            body["chatid"] = chatid or "wrGROUP0001"
        body["chattype"] = chattype
        if userid:
            body["from"] = {"userid": userid}
        return body

    def message_frame(self, text: str, *, userid: str = "zhangsan", chattype: str = "single",
                      chatid: str | None = None, mention: bool = True) -> dict:
        body = self._base_body(userid, chattype, chatid)
        content = f"@{BOT_NAME} {text}" if chattype == "group" and mention else text
        body.update(msgtype="text", text={"content": content})
        req_id = _new_req_id("aibot_msg_callback")
        self.open_req_ids[req_id] = "message"
        return {"cmd": "aibot_msg_callback", "headers": {"req_id": req_id}, "body": body}

    def _event_frame(self, eventtype: str, userid: str, chattype: str, detail: dict | None,
                     chatid: str | None = None) -> dict:
        body = self._base_body(userid, chattype, chatid)
        body.update(create_time=int(time.time()), msgtype="event")
        event: dict[str, Any] = {"eventtype": eventtype}
        if detail is not None:
            event[eventtype] = detail
        body["event"] = event
        req_id = _new_req_id("aibot_event_callback")
        self.open_req_ids[req_id] = eventtype
        return {"cmd": "aibot_event_callback", "headers": {"req_id": req_id}, "body": body}

    async def push_text(self, text: str, **kwargs: Any) -> dict:
        """A user's text message (single chat, or a group @-message with chattype="group")."""
        return await self._push(self.message_frame(text, **kwargs))

    async def push_enter_chat(self, userid: str = "zhangsan") -> dict:
        return await self._push(self._event_frame("enter_chat", userid, "single", None))

    async def push_card_click(self, event_key: str, task_id: str, *, userid: str = "zhangsan",
                              chattype: str = "single", chatid: str | None = None,
                              card_type: str = "button_interaction") -> dict:
        detail = {"card_type": card_type, "event_key": event_key, "task_id": task_id}
        return await self._push(self._event_frame("template_card_event", userid, chattype, detail, chatid))

    async def push_raw(self, data: str) -> None:
        """Any text frame: malformed JSON, an unknown cmd, an oversized message."""
        await self.wait_subscribed()
        conn = self._live()
        assert conn
        await conn.ws.send_str(data)

    async def push_unknown_cmd(self) -> None:
        await self.push_raw(json.dumps({"cmd": "aibot_future_cmd", "headers": {"req_id": _new_req_id("x")}, "body": {}}))

    async def push_oversized(self, size: int) -> None:
        """A well-formed message callback whose text makes the frame about `size` bytes."""
        await self.push_raw(json.dumps(self.message_frame("长" * (size // 3))))

    async def close_clean(self, code: int = WSCloseCode.OK) -> None:
        """Close the live connection with a close frame (1000 normal, 1001 going away)."""
        conn = self._live()
        assert conn, "no live connection"
        conn.subscribed = False
        await conn.ws.close(code=code)

    async def drop(self) -> None:
        """Cut the live connection without a close frame, as a broken network does."""
        conn = self._live()
        assert conn, "no live connection"
        conn.subscribed = False
        if conn.request.transport:
            conn.request.transport.abort()
        await self._notify()

    # ------------------------------------------------------------------ what tests read

    def received(self, cmd: str | None = None, predicate: Callable[[Frame], bool] | None = None) -> list[Frame]:
        return [f for f in self.frames if (cmd is None or f.cmd == cmd) and (predicate is None or predicate(f))]

    def accepted(self, cmd: str) -> list[Frame]:
        return self.received(cmd, lambda f: f.errcode == 0)

    async def wait_for(self, cmd: str | None = None, count: int = 1, *, predicate: Callable[[Frame], bool] | None = None,
                       timeout: float = 5.0) -> list[Frame]:
        """Wait until at least `count` frames matching cmd/predicate were received (and answered)."""

        async def enough() -> list[Frame]:
            async with self._changed:
                while True:
                    found = self.received(cmd, predicate)
                    if len(found) >= count:
                        return found
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(enough(), timeout)
        except TimeoutError:
            raise AssertionError(f"expected {count} {cmd or 'frames'}, got {len(self.received(cmd, predicate))}: "
                                 f"{[f.raw[:200] for f in self.frames[-5:]]}") from None
