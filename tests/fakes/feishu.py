"""A fake 飞书 (Feishu/Lark) open platform on loopback: the long connection and the message APIs.

What it speaks, and where each rule comes from (the official SDK `lark-oapi` 1.7.5, `lark_oapi/ws/`, is
the reference for the wire; `tests/test_fake_feishu.py` drives that SDK against this fake):

- `POST /callback/ws/endpoint` with `{"AppID", "AppSecret"}` → `{"code": 0, "data": {"URL", "ClientConfig"}}`;
  the URL carries `device_id` and `service_id` in its query (the SDK reads both). Empty credentials →
  code 1000040344, wrong ones → 1000040345 (the codes Feishu answers; the SDK raises ClientException
  for both), code 1 "system busy" on demand (the SDK retries that one).
- the WebSocket speaks binary protobuf `pbbp2.Frame` (SeqID=1, LogID=2, service=3, method=4,
  headers=5 {key=1, value=2}, payload_encoding=6, payload_type=7, payload=8, LogIDNew=9; proto2,
  the first four required). method 0 = control (headers type=ping/pong), 1 = data (type=event/card,
  message_id, sum, seq, trace_id). A client ping is answered by a pong carrying the ClientConfig JSON.
  The client acks a data frame by sending the same frame back with payload
  `{"code": 200, "headers": …, "data": base64(JSON of the handler's result)}` and a `biz_rt` header;
  Feishu wants it within 3 s (长连接模式下接收到消息后，需要在 3 秒内处理完成 — open.feishu.cn,
  "使用长连接接收回调"). Card clicks (`card.action.trigger`) come as type=event frames, as events do.
  A refused handshake answers with `handshake-status`/`handshake-msg`/`handshake-autherrcode` headers;
  an app may hold at most 50 connections (514 with autherrcode 1000040350).
- `POST /open-apis/auth/v3/tenant_access_token/internal`, `POST /open-apis/im/v1/messages?receive_id_type=…`
  and `POST /open-apis/im/v1/messages/{message_id}/reply`, with Feishu's limits: 5 messages/s to one
  chat ("向同一群组发送消息的限频为群内机器人共享 5 QPS"), 50/s and 1000/min per app ("接口频率限制
  1000 次/分钟、50 次/秒"), both from the 发送消息 page (open.feishu.cn/document/server-docs/im-v1/message/create).

Everything received is recorded; the clock behind the limits is injectable.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

APP_ID = "cli_fake0123456789"
APP_SECRET = "fake-app-secret"
BOT_OPEN_ID = "ou_bot000000000000000000000000"
TENANT_KEY = "tenant_fake"

# Codes of the endpoint call, as lark_oapi/ws/const.py and Feishu's answers name them.
ENDPOINT_OK = 0
ENDPOINT_BUSY = 1
NO_CREDENTIAL = 1000040344       # "the App ID or App Secret is empty"
BAD_CREDENTIAL = 1000040345      # "app_id or app_secret is invalid" (what Feishu answers a wrong secret)
AUTH_FAILED = 514                # handshake-status of a refused WebSocket upgrade
EXCEED_CONN_LIMIT = 1000040350   # handshake-autherrcode when the app already holds 50 connections
MAX_CONNECTIONS = 50

# Codes of the HTTP APIs.
TOKEN_BAD_SECRET = 10014         # tenant_access_token with a wrong app_secret: "app secret invalid"
TOKEN_MISSING = 99991661         # no Authorization header
TOKEN_INVALID = 99991663         # unknown or expired tenant_access_token
INVALID_PARAM = 230001           # "Your request contains an invalid request parameter."
BOT_NOT_IN_CHAT = 230002         # "The bot can not be outside the group."
CONTENT_TOO_LONG = 230025        # message content over the size limit
# "Too fast". The per-chat/per-user 5 QPS limit of the IM send APIs answers 230020 (HTTP 400) — the
# code IM integrations retry on (not in the stored copy of Feishu's error table; treat as the best
# available reading). The per-app limits of every OpenAPI answer HTTP 429 with code 99991400,
# "request trigger frequency limit", and x-ogw-ratelimit-reset (频控策略,
# open.feishu.cn/document/server-docs/api-call-guide/frequency-control).
CHAT_TOO_FAST = 230020
APP_TOO_FAST = 99991400

PER_CHAT_PER_SECOND = 5
PER_APP_PER_SECOND = 50
PER_APP_PER_MINUTE = 1000
MAX_TEXT_BYTES = 150 * 1024      # 文本消息请求体最大不能超过 150 KB
MAX_CARD_BYTES = 30 * 1024       # 卡片及富文本消息请求体最大不能超过 30 KB

FRAME_CONTROL = 0
FRAME_DATA = 1


# --- pbbp2.Frame, by hand (the fake must not borrow the client's codec) --------------------------

@dataclass
class Frame:
    seq_id: int = 0
    log_id: int = 0
    service: int = 0
    method: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    payload_encoding: str | None = None
    payload_type: str | None = None
    payload: bytes | None = None
    log_id_new: str | None = None

    def header(self, key: str) -> str | None:
        return next((v for k, v in self.headers if k == key), None)


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int32 is sent as its 64-bit two's complement
    out = bytearray()
    while True:
        bits = n & 0x7F
        n >>= 7
        if n:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def _field(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def encode_frame(frame: Frame) -> bytes:
    out = bytearray()
    for number, number_value in ((1, frame.seq_id), (2, frame.log_id), (3, frame.service), (4, frame.method)):
        out += _varint(number << 3) + _varint(number_value)
    for key, text in frame.headers:
        out += _field(5, _field(1, key.encode()) + _field(2, text.encode()))
    for number, optional in ((6, frame.payload_encoding), (7, frame.payload_type)):
        if optional is not None:
            out += _field(number, optional.encode())
    if frame.payload is not None:
        out += _field(8, frame.payload)
    if frame.log_id_new is not None:
        out += _field(9, frame.log_id_new.encode())
    return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes):
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, pos = _read_varint(data, pos)
        elif wire == 2:
            size, pos = _read_varint(data, pos)
            if pos + size > len(data):
                raise ValueError("truncated field")
            value, pos = data[pos:pos + size], pos + size
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"wire type {wire}")
        if pos > len(data):
            raise ValueError("truncated field")
        yield number, wire, value


def decode_frame(data: bytes) -> Frame:
    """Parse a pbbp2.Frame; ValueError when it is not one (proto2: the four ints are required)."""
    frame, seen = Frame(), set()
    names = {1: "seq_id", 2: "log_id", 3: "service", 4: "method"}
    for number, wire, value in _fields(data):
        if number in names and wire == 0:
            if number in (3, 4) and value >= 1 << 63:
                value -= 1 << 64
            setattr(frame, names[number], value)
            seen.add(number)
        elif number == 5 and wire == 2:
            parts = {n: v for n, w, v in _fields(value) if w == 2}
            if 1 not in parts or 2 not in parts:
                raise ValueError("header without key or value")
            frame.headers.append((parts[1].decode(), parts[2].decode()))
        elif number in (6, 7, 9) and wire == 2:
            setattr(frame, {6: "payload_encoding", 7: "payload_type", 9: "log_id_new"}[number], value.decode())
        elif number == 8 and wire == 2:
            frame.payload = bytes(value)
    if seen != {1, 2, 3, 4}:
        raise ValueError("missing required fields")
    return frame


# --- records -----------------------------------------------------------------------------------

@dataclass
class ApiCall:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    status: int = 0
    code: int | None = None
    response: Any = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class Ack:
    message_id: str
    code: int | None
    data: Any             # the handler's result, decoded from base64 JSON; None when there was none
    headers: dict[str, str]
    delay: float          # seconds from the last fragment sent to the ack received
    frame: Frame


@dataclass
class Connection:
    device_id: str
    service_id: int
    ws: web.WebSocketResponse
    request: web.Request
    opened_at: float = field(default_factory=time.monotonic)
    closed_at: float | None = None
    frames: list[Frame] = field(default_factory=list)
    bad_frames: list[bytes | str] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.closed_at is None


@dataclass
class SentMessage:
    message_id: str
    chat_id: str
    msg_type: str
    content: Any          # the content JSON, parsed
    reply_to: str | None = None
    uuid: str | None = None


class FakeFeishu:
    """The platform: `await start()`, point the client's domain at `url`, push events, read the records."""

    def __init__(self, app_id: str = APP_ID, app_secret: str = APP_SECRET, *,
                 client_config: dict[str, int] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        # What the endpoint hands out (the SDK applies it); Feishu's own are 30 s nonce, 120 s ping.
        self.client_config = client_config or {"ReconnectCount": -1, "ReconnectInterval": 1,
                                               "ReconnectNonce": 0, "PingInterval": 120}
        self.clock = clock
        self.service_id = 33554678
        self.endpoint_code = ENDPOINT_OK   # set to ENDPOINT_BUSY to answer "system busy"
        self.handshake_refusal: tuple[int, str, int | None] | None = None  # (status, msg, autherrcode)
        self.chats: set[str] = set()       # chats the bot is in; empty = any oc_… chat
        self.answer_ws_pings = True        # False: a half-dead link that swallows WebSocket-level pings
        self.endpoint_calls: list[ApiCall] = []
        self.api_calls: list[ApiCall] = []
        self.connections: list[Connection] = []
        self.pings: list[Frame] = []
        self.acks: dict[str, Ack] = {}
        self.sent: list[SentMessage] = []
        self._tickets: set[str] = set()
        self._tokens: set[str] = set()
        self._pushed_at: dict[str, float] = {}
        self._messages: dict[str, str] = {}          # message_id → chat_id, for replies
        self._uuids: dict[str, SentMessage] = {}
        self._chat_sends: dict[str, deque[float]] = defaultdict(deque)
        self._app_sends: deque[float] = deque()
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._server: TestServer | None = None

    # --- lifecycle ---

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/callback/ws/endpoint", self._endpoint)
        app.router.add_get("/ws/v2", self._websocket)
        app.router.add_post("/open-apis/auth/v3/tenant_access_token/internal", self._tenant_token)
        app.router.add_post("/open-apis/im/v1/messages", self._create_message)
        app.router.add_post("/open-apis/im/v1/messages/{message_id}/reply", self._reply_message)
        self._server = TestServer(app, host="127.0.0.1", port=0)
        await self._server.start_server()

    async def close(self) -> None:
        for conn in self.connections:
            if conn.open:
                await conn.ws.close()
        if self._server is not None:
            await self._server.close()

    @property
    def url(self) -> str:
        """The `domain` to give a client: http://127.0.0.1:PORT."""
        assert self._server is not None, "start() first"
        return str(self._server.make_url("")).rstrip("/")

    # --- controls ---

    @property
    def connection(self) -> Connection | None:
        """The newest open connection."""
        return next((c for c in reversed(self.connections) if c.open), None)

    async def wait_connected(self, count: int = 1, timeout: float = 10.0) -> Connection:
        """Wait until `count` connections have been opened in all, and return the newest open one."""
        await self._wait(lambda: len(self.connections) >= count and self.connection is not None, timeout)
        assert self.connection is not None
        return self.connection

    async def push(self, payload: dict | bytes, *, type: str = "event", fragments: int = 1,
                   message_id: str | None = None) -> str:
        """Send a data frame (split into `fragments` frames sharing one message_id); return the message_id."""
        conn = self.connection
        assert conn is not None, "no open connection"
        body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        message_id = message_id or f"msg_{secrets.token_hex(8)}"
        trace_id = secrets.token_hex(8)
        size = -(-len(body) // fragments)
        for seq in range(fragments):
            part = body[seq * size:(seq + 1) * size]
            frame = Frame(seq_id=next(self._ids), log_id=next(self._ids), service=conn.service_id,
                          method=FRAME_DATA, payload=part,
                          headers=[("type", type), ("message_id", message_id), ("sum", str(fragments)),
                                   ("seq", str(seq)), ("trace_id", trace_id)])
            await conn.ws.send_bytes(encode_frame(frame))
        self._pushed_at[message_id] = time.monotonic()
        return message_id

    async def push_event(self, event: dict, **kwargs: Any) -> str:
        return await self.push(event, **kwargs)

    async def send_raw(self, data: bytes | str) -> None:
        """Send anything down the socket: a malformed frame, a text frame…"""
        conn = self.connection
        assert conn is not None, "no open connection"
        if isinstance(data, str):
            await conn.ws.send_str(data)
        else:
            await conn.ws.send_bytes(data)

    async def send_control(self, type: str, payload: bytes | None = None) -> None:
        conn = self.connection
        assert conn is not None, "no open connection"
        frame = Frame(seq_id=0, log_id=0, service=conn.service_id, method=FRAME_CONTROL,
                      headers=[("type", type)], payload=payload)
        await conn.ws.send_bytes(encode_frame(frame))

    async def drop(self, *, clean: bool = True) -> None:
        """Close the newest connection: a close handshake (1000), or the TCP socket cut without one."""
        conn = self.connection
        assert conn is not None, "no open connection"
        if clean:
            await conn.ws.close(code=1000, message=b"server closing")
        else:
            transport = conn.request.transport
            assert transport is not None
            transport.abort()
        conn.closed_at = conn.closed_at or time.monotonic()

    async def wait_ack(self, message_id: str, timeout: float = 10.0) -> Ack:
        await self._wait(lambda: message_id in self.acks, timeout)
        return self.acks[message_id]

    async def wait_sent(self, count: int = 1, timeout: float = 10.0) -> list[SentMessage]:
        await self._wait(lambda: len(self.sent) >= count, timeout)
        return self.sent

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        await self._wait(predicate, timeout)

    def expire_tokens(self) -> None:
        """Make every tenant_access_token handed out so far invalid (as after 2 h)."""
        self._tokens.clear()

    # --- the long connection ---

    async def _endpoint(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        call = ApiCall("POST", request.path, dict(request.query), body, dict(request.headers))
        self.endpoint_calls.append(call)
        app_id = body.get("AppID", "") if isinstance(body, dict) else ""
        secret = body.get("AppSecret", "") if isinstance(body, dict) else ""
        if not app_id or not secret:
            answer: dict[str, Any] = {"code": NO_CREDENTIAL, "msg": "the App ID or App Secret is empty"}
        elif (app_id, secret) != (self.app_id, self.app_secret):
            answer = {"code": BAD_CREDENTIAL, "msg": "app_id or app_secret is invalid"}
        elif self.endpoint_code != ENDPOINT_OK:
            answer = {"code": self.endpoint_code, "msg": "system busy"}
        else:
            device_id = str(7_000_000_000_000_000_000 + next(self._ids))
            ticket = secrets.token_hex(16)
            self._tickets.add(ticket)
            host = request.host
            url = (f"ws://{host}/ws/v2?fpid=493&aid=552564&device_id={device_id}&access_key={secrets.token_hex(8)}"
                   f"&service_id={self.service_id}&ticket={ticket}")
            answer = {"code": 0, "msg": "ok", "data": {"URL": url, "ClientConfig": dict(self.client_config)}}
        call.status, call.code, call.response = 200, answer["code"], answer
        await self._notify()
        return web.json_response(answer)

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        refusal = self.handshake_refusal
        if refusal is None and request.query.get("ticket") not in self._tickets:
            refusal = (AUTH_FAILED, "invalid ticket", 1000040343)
        if refusal is None and sum(c.open for c in self.connections) >= MAX_CONNECTIONS:
            refusal = (AUTH_FAILED, "exceed connection limit", EXCEED_CONN_LIMIT)
        if refusal is not None:
            status, msg, auth_code = refusal
            headers = {"handshake-status": str(status), "handshake-msg": msg}
            if auth_code is not None:
                headers["handshake-autherrcode"] = str(auth_code)
            return web.Response(status=403 if status == 403 else 400, headers=headers)
        ws = web.WebSocketResponse(autoping=self.answer_ws_pings, max_msg_size=4 * 1024 * 1024)
        await ws.prepare(request)
        conn = Connection(request.query.get("device_id", ""), int(request.query.get("service_id", "0")), ws, request)
        self.connections.append(conn)
        await self._notify()
        try:
            async for message in ws:
                if message.type == WSMsgType.BINARY:
                    await self._on_frame(conn, message.data)
                elif message.type == WSMsgType.TEXT:
                    conn.bad_frames.append(message.data)
        finally:
            conn.closed_at = conn.closed_at or time.monotonic()
            await self._notify()
        return ws

    async def _on_frame(self, conn: Connection, data: bytes) -> None:
        try:
            frame = decode_frame(data)
        except (ValueError, UnicodeDecodeError):
            conn.bad_frames.append(data)
            return
        conn.frames.append(frame)
        kind = frame.header("type")
        if frame.method == FRAME_CONTROL and kind == "ping":
            self.pings.append(frame)
            pong = Frame(seq_id=frame.seq_id, log_id=frame.log_id, service=frame.service, method=FRAME_CONTROL,
                         headers=[("type", "pong")], payload=json.dumps(self.client_config).encode())
            await conn.ws.send_bytes(encode_frame(pong))
        elif frame.method == FRAME_DATA and frame.header("message_id"):
            message_id = frame.header("message_id") or ""
            code, data_field = None, None
            try:
                answer = json.loads(frame.payload or b"{}")
                code = answer.get("code")
                if answer.get("data"):
                    data_field = json.loads(base64.b64decode(answer["data"]))
            except (ValueError, TypeError, AttributeError):
                conn.bad_frames.append(data)
            pushed = self._pushed_at.get(message_id, time.monotonic())
            self.acks.setdefault(message_id, Ack(message_id, code, data_field, dict(frame.headers),
                                                 time.monotonic() - pushed, frame))
        await self._notify()

    # --- the HTTP APIs ---

    async def _tenant_token(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        call = self._record(request, body)
        if not isinstance(body, dict) or (body.get("app_id"), body.get("app_secret")) != (self.app_id, self.app_secret):
            return await self._answer(call, 200, {"code": TOKEN_BAD_SECRET, "msg": "app secret invalid"})
        token = f"t-{secrets.token_hex(12)}"
        self._tokens.add(token)
        return await self._answer(call, 200, {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": 7200})

    async def _create_message(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        call = self._record(request, body)
        refusal = self._check_auth(request)
        if refusal:
            return await self._answer(call, 400, refusal)
        id_type = request.query.get("receive_id_type")
        if id_type not in ("chat_id", "open_id", "user_id", "union_id", "email") or not isinstance(body, dict):
            return await self._answer(call, 400, _invalid("receive_id_type"))
        receive_id = body.get("receive_id")
        if not isinstance(receive_id, str) or not receive_id:
            return await self._answer(call, 400, _invalid("receive_id"))
        if id_type == "chat_id" and (not receive_id.startswith("oc_") or (self.chats and receive_id not in self.chats)):
            return await self._answer(call, 400, {"code": BOT_NOT_IN_CHAT, "msg": "The bot can not be outside the group."})
        return await self._send(call, receive_id, body, reply_to=None)

    async def _reply_message(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        call = self._record(request, body)
        refusal = self._check_auth(request)
        if refusal:
            return await self._answer(call, 400, refusal)
        message_id = request.match_info["message_id"]
        chat_id = self._messages.get(message_id)
        if chat_id is None or not isinstance(body, dict):
            return await self._answer(call, 400, _invalid("message_id"))
        return await self._send(call, chat_id, body, reply_to=message_id)

    async def _send(self, call: ApiCall, chat_id: str, body: dict, *, reply_to: str | None) -> web.Response:
        msg_type, content_text = body.get("msg_type"), body.get("content")
        if msg_type not in ("text", "interactive", "post") or not isinstance(content_text, str):
            return await self._answer(call, 400, _invalid("msg_type/content"))
        try:
            content = json.loads(content_text)
        except ValueError:
            return await self._answer(call, 400, _invalid("content is not JSON"))
        if not isinstance(content, dict) or (msg_type == "text" and not (isinstance(content.get("text"), str)
                                                                         and content["text"].strip())):
            return await self._answer(call, 400, _invalid("content"))
        limit = MAX_TEXT_BYTES if msg_type == "text" else MAX_CARD_BYTES
        if len(content_text.encode()) > limit:
            return await self._answer(call, 400, {"code": CONTENT_TOO_LONG,
                                                  "msg": "The content of the message exceeds the limit."})
        uuid = body.get("uuid")
        if uuid and uuid in self._uuids:  # 持有相同 uuid 的请求 1 小时内至多成功发送一条消息
            return await self._answer(call, 200, {"code": 0, "msg": "success", "data": self._message(self._uuids[uuid])})
        too_fast = self._rate_check(chat_id)
        if too_fast is not None:
            return await self._answer(call, *too_fast)
        sent = SentMessage(f"om_{secrets.token_hex(16)}", chat_id, msg_type, content, reply_to, uuid)
        self.sent.append(sent)
        self._messages[sent.message_id] = chat_id
        if uuid:
            self._uuids[uuid] = sent
        return await self._answer(call, 200, {"code": 0, "msg": "success", "data": self._message(sent)})

    def _rate_check(self, chat_id: str) -> tuple[int, dict, dict] | None:
        now = self.clock()
        chat = self._chat_sends[chat_id]
        for window, span in ((chat, 1.0), (self._app_sends, 60.0)):
            while window and window[0] <= now - span:
                window.popleft()
        app_last_second = sum(1 for t in self._app_sends if t > now - 1.0)
        if app_last_second >= PER_APP_PER_SECOND or len(self._app_sends) >= PER_APP_PER_MINUTE:
            reset = 1 if app_last_second >= PER_APP_PER_SECOND else 60
            return (429, {"code": APP_TOO_FAST, "msg": "request trigger frequency limit"},
                    {"x-ogw-ratelimit-limit": str(PER_APP_PER_SECOND), "x-ogw-ratelimit-reset": str(reset)})
        if len(chat) >= PER_CHAT_PER_SECOND:
            return (400, {"code": CHAT_TOO_FAST, "msg": "The message sending frequency of this chat exceeds the limit."}, {})
        chat.append(now)
        self._app_sends.append(now)
        return None

    def _check_auth(self, request: web.Request) -> dict | None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:]:
            return {"code": TOKEN_MISSING, "msg": "Missing access token for authorization."}
        if auth[7:] not in self._tokens:
            return {"code": TOKEN_INVALID, "msg": "Invalid access token for authorization."}
        return None

    def _message(self, sent: SentMessage) -> dict:
        now_ms = str(int(time.time() * 1000))
        return {"message_id": sent.message_id, "root_id": sent.reply_to or "", "parent_id": sent.reply_to or "",
                "msg_type": sent.msg_type, "create_time": now_ms, "update_time": now_ms, "deleted": False,
                "updated": False, "chat_id": sent.chat_id,
                "sender": {"id": self.app_id, "id_type": "app_id", "sender_type": "app", "tenant_key": TENANT_KEY},
                "body": {"content": json.dumps(sent.content, ensure_ascii=False)}}

    def _record(self, request: web.Request, body: Any) -> ApiCall:
        call = ApiCall(request.method, request.path, dict(request.query), body, dict(request.headers))
        self.api_calls.append(call)
        return call

    async def _answer(self, call: ApiCall, status: int, answer: dict, headers: dict | None = None) -> web.Response:
        call.status, call.code, call.response = status, answer.get("code"), answer
        await self._notify()
        return web.json_response(answer, status=status, headers=headers)

    # --- waiting ---

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _wait(self, predicate: Callable[[], bool], timeout: float) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    def remember_message(self, message_id: str, chat_id: str) -> None:
        self._messages[message_id] = chat_id


async def _json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


def _invalid(what: str) -> dict:
    return {"code": INVALID_PARAM, "msg": f"Your request contains an invalid request parameter: {what}."}


# --- events, as Feishu sends them (schema 2.0) --------------------------------------------------

def _header(event_type: str, app_id: str) -> dict:
    return {"event_id": secrets.token_hex(16), "event_type": event_type, "token": "",
            "create_time": str(int(time.time() * 1000)), "tenant_key": TENANT_KEY, "app_id": app_id}


def message_event(text: str, *, chat_id: str = "oc_group0001", chat_type: str = "group",
                  open_id: str = "ou_user0001", user_id: str = "u0001", mention_bot: bool | None = None,
                  message_id: str | None = None, app_id: str = APP_ID, fake: FakeFeishu | None = None) -> dict:
    """An im.message.receive_v1 event; in a group the bot is @-mentioned as @_user_1 unless told not to."""
    mention_bot = chat_type == "group" if mention_bot is None else mention_bot
    message_id = message_id or f"om_{secrets.token_hex(16)}"
    mentions = []
    if mention_bot:
        text = f"@_user_1 {text}"
        mentions = [{"key": "@_user_1", "name": "政策助手", "tenant_key": TENANT_KEY,
                     "id": {"open_id": BOT_OPEN_ID, "union_id": "on_bot0001", "user_id": ""}}]
    if fake is not None:
        fake.remember_message(message_id, chat_id)
    now = str(int(time.time() * 1000))
    return {"schema": "2.0", "header": _header("im.message.receive_v1", app_id), "event": {
        "sender": {"sender_id": {"open_id": open_id, "user_id": user_id, "union_id": f"on_{open_id[3:]}"},
                   "sender_type": "user", "tenant_key": TENANT_KEY},
        "message": {"message_id": message_id, "root_id": "", "parent_id": "", "create_time": now, "update_time": now,
                    "chat_id": chat_id, "chat_type": chat_type, "message_type": "text",
                    "content": json.dumps({"text": text}, ensure_ascii=False), "mentions": mentions}}}


def card_action_event(value: dict, *, open_id: str = "ou_user0001", chat_id: str = "oc_group0001",
                      message_id: str = "om_card0001", app_id: str = APP_ID) -> dict:
    """A card.action.trigger callback: a click on a button whose behaviour is callback with `value`."""
    return {"schema": "2.0", "header": _header("card.action.trigger", app_id), "event": {
        "operator": {"tenant_key": TENANT_KEY, "open_id": open_id, "user_id": "u0001", "union_id": "on_u0001"},
        "token": f"c-{secrets.token_hex(12)}",
        "action": {"value": value, "tag": "button"},
        "host": "im_message",
        "context": {"open_message_id": message_id, "open_chat_id": chat_id}}}
