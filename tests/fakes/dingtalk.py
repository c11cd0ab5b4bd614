"""A fake 钉钉 (DingTalk) on loopback: Stream-mode gateway and WebSocket, session webhooks, token and robot APIs.

What it answers is taken from DingTalk's own descriptions, not from our client:
- Stream protocol (gateway `connections/open` → endpoint + single-use ticket valid 90 s; frames `specVersion`/
  `type`/`headers`/`data` with `data` a JSON *string*; SYSTEM `ping` answered with its `opaque`, SYSTEM `disconnect`
  followed by the server closing the TCP connection after 10 s; ACK `{code, headers{messageId, contentType},
  message, data}`): open-dingtalk/developerpedia docs/learn/stream/protocol.md, mirroring
  https://open.dingtalk.com/document/direction/stream-mode-protocol-access-description
- Robot message fields (conversationType "1" private / "2" group, isInAtList, senderStaffId, sessionWebhook valid
  90 minutes, text.content with the leading space left by the @): the same page and
  https://open.dingtalk.com/document/orgapp/receive-message
- Errors: gateway with a wrong secret → 401 {"code":"authFailed","message":"鉴权失败"} (a real answer quoted in
  zfanswer/dify-on-dingtalk#28); accessToken with a wrong secret → 400 invalidClientIdOrSecret (the accessToken
  API's error table); a bad x-acs-dingtalk-access-token → 400 InvalidAuthentication "不合法的access_token" (a real
  curl quoted in public notes); an expired session webhook → errcode 300001 "session 不存在" (agentscope#1318).
- Limits: every OpenAPI, per app and per API, 20 calls/s, over it 403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi
  ("附录B：如何处理钉钉服务端API限流", https://open.dingtalk.com/document/development/
  how-to-process-api-throttling-on-the-dingtalk-server); oToMessages/batchSend takes at most 20 userIds and
  groupMessages/send a msgParam of at most 15,000 bytes (their API pages on help.dingtalk.io). DingTalk publishes no
  rate for session webhooks; we apply the custom robots' documented 20/min with errcode 130101 "send too fast,
  exceed 20 times per minute" — an assumption, `webhook_per_minute=None` turns it off.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

BOT_TOPIC = "/v1.0/im/bot/messages/get"
CARD_TOPIC = "/v1.0/card/instances/callback"
TICKET_TTL = 90.0
WEBHOOK_TTL_MS = 90 * 60 * 1000
QPS_PER_APP_API = 20
WEBHOOK_MSGTYPES = {"text", "markdown", "actionCard", "link", "feedCard"}
GROUP_MSG_KEYS = {"sampleText": ("content",), "sampleMarkdown": ("title", "text"), "sampleLink": ("title", "text"),
                  "sampleActionCard": ("title", "text"), "sampleActionCard2": ("title", "text"),
                  "sampleActionCard3": ("title", "text"), "sampleActionCard4": ("title", "text"),
                  "sampleActionCard5": ("title", "text"), "sampleActionCard6": ("title", "text"),
                  "sampleImageMsg": ("photoURL",), "sampleFile": ("mediaId",)}


@dataclass
class Call:
    """One HTTP request the fake received, with what it answered."""

    api: str  # open | token | webhook | group | oto | card | card_update
    body: Any
    status: int = 200
    answer: dict = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)

    @property
    def accepted(self) -> bool:
        return self.status == 200 and not self.answer.get("errcode") and "code" not in self.answer


@dataclass
class Frame:
    """A frame a client sent up the WebSocket (ACKs); `data` is the JSON-decoded `data` string when it was one."""

    connection: int
    raw: str
    parsed: dict | None

    @property
    def message_id(self) -> str | None:
        return ((self.parsed or {}).get("headers") or {}).get("messageId")

    @property
    def data(self) -> Any:
        value = (self.parsed or {}).get("data")
        try:
            return json.loads(value) if isinstance(value, str) else value
        except ValueError:
            return value


@dataclass
class Connection:
    number: int
    ticket: str
    subscriptions: list[dict]
    ws: web.WebSocketResponse
    request: web.Request
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    def subscribed(self, frame_type: str, topic: str) -> bool:
        return any(s.get("type") == frame_type and s.get("topic") in (topic, "*") for s in self.subscriptions)


class FakeDingTalk:
    """`async with FakeDingTalk() as fake:`; point a client at `fake.base_url` (the OpenAPI endpoint)."""

    def __init__(self, client_id: str = "dingtestclient", client_secret: str = "test-secret",
                 robot_code: str | None = None, corp_id: str = "dingcorp0001") -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.robot_code = robot_code or client_id
        self.corp_id = corp_id
        self.calls: list[Call] = []
        self.frames: list[Frame] = []
        self.connections: list[Connection] = []
        self.groups: set[str] = set()  # openConversationIds the robot is in
        self.qps_per_api: int | None = QPS_PER_APP_API
        self.webhook_per_minute: int | None = 20
        self.disconnect_grace = 10.0  # seconds between SYSTEM disconnect and the server closing the socket
        self.gateway_failures = 0  # the next N connections/open answer 503 (DingTalk having trouble)
        self.hold_webhooks: asyncio.Event | None = None  # while set to an unset Event, webhook answers wait for it
        self.clock: Callable[[], float] = time.monotonic
        self._tickets: dict[str, tuple[float, list[dict]]] = {}
        self._tokens: dict[str, float] = {}
        self._sessions: dict[str, dict] = {}  # session -> {conversation, expires_ms}
        self._api_times: dict[str, list[float]] = {}
        self._webhook_times: dict[str, list[float]] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._server: TestServer | None = None
        self._tasks: set[asyncio.Task] = set()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1.0/gateway/connections/open", self._open)
        app.router.add_get("/connect", self._connect)
        app.router.add_post("/v1.0/oauth2/accessToken", self._token)
        app.router.add_post("/robot/sendBySession", self._webhook)
        app.router.add_post("/v1.0/robot/groupMessages/send", self._group_send)
        app.router.add_post("/v1.0/robot/oToMessages/batchSend", self._oto_send)
        app.router.add_post("/v1.0/im/v1.0/robot/interactiveCards/send", self._card_send)
        app.router.add_put("/v1.0/im/robots/interactiveCards", self._card_update)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for conn in self.connections:
            if not conn.ws.closed and not conn.closed.is_set():
                await conn.ws.close(code=1001)
        if self._server:
            await self._server.close()

    async def __aenter__(self) -> FakeDingTalk:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        assert self._server
        return f"http://127.0.0.1:{self._server.port}"

    # ------------------------------------------------------------------ test control

    @property
    def live(self) -> Connection | None:
        """The newest connection still open."""
        return next((c for c in reversed(self.connections) if not c.closed.is_set() and not c.ws.closed), None)

    async def wait_connected(self, count: int = 1, timeout: float = 10.0) -> Connection:
        """Wait until `count` connections were made in all and one is open."""
        await self._wait(lambda: len(self.connections) >= count and self.live is not None, timeout,
                         lambda: f"{count} connection(s); got {len(self.connections)}")
        assert self.live
        return self.live

    def robot_message(self, text: str, *, group: bool = False, staff_id: str = "staff001", nick: str = "张三",
                      conversation_id: str | None = None, title: str = "碳达峰工作群", is_admin: bool = False,
                      at_bot: bool = True, webhook_ttl_ms: int = WEBHOOK_TTL_MS) -> dict:
        """The `data` of a robot message as DingTalk sends it (a group message carries the @'s leading space)."""
        now = int(time.time() * 1000)
        conversation = conversation_id or (f"cidgroup{staff_id}==" if group else f"cidp2p{staff_id}==")
        session = uuid.uuid4().hex
        self._sessions[session] = {"conversation": conversation, "expires_ms": now + webhook_ttl_ms}
        bot_user = f"$:LWCP_v1:${self.robot_code}bot"
        data: dict[str, Any] = {
            "conversationId": conversation, "chatbotCorpId": self.corp_id, "chatbotUserId": bot_user,
            "msgId": f"msg{uuid.uuid4().hex[:16]}", "senderNick": nick, "isAdmin": is_admin,
            "senderStaffId": staff_id, "sessionWebhookExpiredTime": now + webhook_ttl_ms, "createAt": now,
            "senderCorpId": self.corp_id, "conversationType": "2" if group else "1",
            "senderId": f"$:LWCP_v1:${staff_id}", "sessionWebhook": f"{self.base_url}/robot/sendBySession?session={session}",
            "text": {"content": (" " + text) if group else text}, "robotCode": self.robot_code, "msgtype": "text",
        }
        if group:
            self.groups.add(conversation)
            data.update(conversationTitle=title, isInAtList=at_bot,
                        atUsers=[{"dingtalkId": bot_user}] if at_bot else [])
        return data

    async def push_message(self, text: str = "", *, data: dict | None = None, **fields: Any) -> str:
        """Send a robot message CALLBACK to the live connection; returns the frame's messageId."""
        return await self.push_callback(BOT_TOPIC, data if data is not None else self.robot_message(text, **fields))

    def card_callback(self, out_track_id: str, action_id: str, params: dict | None = None,
                      user_id: str = "staff001", conversation_id: str = "") -> dict:
        """A card button click as the SDK's CardCallbackMessage reads it (extension/content are JSON strings)."""
        return {"extension": json.dumps({}), "corpId": self.corp_id, "type": "actionCallback", "userId": user_id,
                "userIdType": 1, "outTrackId": out_track_id, "spaceType": "IM" if conversation_id else "",
                "spaceId": conversation_id,
                "content": json.dumps({"cardPrivateData": {"actionIds": [action_id], "params": params or {}}})}

    async def push_callback(self, topic: str, data: dict) -> str:
        message_id = self._message_id()
        await self.send_frame({"specVersion": "1.0", "type": "CALLBACK",
                               "headers": {"appId": "fake-app", "connectionId": "conn", "contentType": "application/json",
                                           "messageId": message_id, "time": str(int(time.time() * 1000)),
                                           "topic": topic},
                               "data": json.dumps(data, ensure_ascii=False)}, topic=topic)
        return message_id

    async def ping(self) -> tuple[str, str]:
        """SYSTEM ping; returns (messageId, opaque) — the client must echo the opaque in its ACK."""
        message_id, opaque = self._message_id(), uuid.uuid4().hex
        await self.send_frame({"specVersion": "1.0", "type": "SYSTEM",
                               "headers": {"topic": "ping", "messageId": message_id, "contentType": "application/json",
                                           "time": str(int(time.time() * 1000))},
                               "data": json.dumps({"opaque": opaque})})
        return message_id, opaque

    async def disconnect(self, reason: str = "connection is expired") -> None:
        """SYSTEM disconnect, then close the socket after `disconnect_grace` seconds as DingTalk does."""
        conn = self._need_live()
        await self.send_frame({"specVersion": "1.0", "type": "SYSTEM",
                               "headers": {"topic": "disconnect", "messageId": self._message_id(),
                                           "contentType": "application/json"},
                               "data": json.dumps({"reason": reason})})

        async def close_later() -> None:
            await asyncio.sleep(self.disconnect_grace)
            if not conn.ws.closed:
                await conn.ws.close(code=1000)

        task = asyncio.create_task(close_later())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drop(self, *, abrupt: bool = False, code: int = 1000) -> None:
        """Close the live connection: a clean close frame, or (abrupt) the TCP connection cut without one."""
        conn = self._need_live()
        if abrupt:
            assert conn.request.transport
            conn.request.transport.abort()
        else:
            await conn.ws.close(code=code)
        await asyncio.wait_for(conn.closed.wait(), 10)

    async def send_raw(self, text: str) -> None:
        """Send any text as a frame (malformed JSON, unknown types…)."""
        await self._need_live().ws.send_str(text)

    async def send_frame(self, frame: dict, topic: str | None = None) -> None:
        conn = self._need_live()
        if topic and not conn.subscribed(frame["type"], topic):
            raise AssertionError(f"the live connection did not subscribe to {frame['type']} {topic}: {conn.subscriptions}")
        await conn.ws.send_str(json.dumps(frame, ensure_ascii=False))

    def revoke_tokens(self) -> None:
        """Forget every access token handed out (DingTalk answers InvalidAuthentication to them)."""
        self._tokens.clear()

    def expire_webhooks(self) -> None:
        for session in self._sessions.values():
            session["expires_ms"] = 0

    def acks(self, message_id: str) -> list[Frame]:
        return [f for f in self.frames if f.message_id == message_id]

    async def wait_for_ack(self, message_id: str, timeout: float = 10.0) -> Frame:
        await self._wait(lambda: bool(self.acks(message_id)), timeout, lambda: f"an ACK for {message_id}")
        return self.acks(message_id)[0]

    def sent(self, api: str = "webhook", conversation: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.api == api and (conversation is None or c.body.get("_conversation") == conversation
                                                           or c.body.get("openConversationId") == conversation)]

    def delivered(self, api: str = "webhook", conversation: str | None = None) -> list[Call]:
        return [c for c in self.sent(api, conversation) if c.accepted]

    async def wait_for(self, api: str = "webhook", count: int = 1, conversation: str | None = None,
                       timeout: float = 10.0) -> list[Call]:
        await self._wait(lambda: len(self.sent(api, conversation)) >= count, timeout,
                         lambda: f"{count} {api} call(s) to {conversation}; got {[c.body for c in self.sent(api)][-3:]}")
        return self.sent(api, conversation)

    # ------------------------------------------------------------------ Stream gateway and socket

    async def _open(self, request: web.Request) -> web.Response:
        body = await _json(request)
        call = self._record("open", body)
        if self.gateway_failures > 0:
            self.gateway_failures -= 1
            return self._answer(call, 503, {"code": "ServiceUnavailable", "message": "服务暂不可用"})
        if not isinstance(body, dict) or not body.get("clientId") or not isinstance(body.get("subscriptions"), list):
            return self._answer(call, 400, {"code": "invalidParameter", "message": "参数不合法"})
        if (body["clientId"], body.get("clientSecret")) != (self.client_id, self.client_secret):
            return self._answer(call, 401, {"code": "authFailed", "message": "鉴权失败"})
        ticket = str(uuid.uuid4())
        self._tickets[ticket] = (self.clock(), body["subscriptions"])
        endpoint = self.base_url.replace("http://", "ws://") + "/connect"
        return self._answer(call, 200, {"endpoint": endpoint, "ticket": ticket})

    async def _connect(self, request: web.Request) -> web.StreamResponse:
        issued = self._tickets.pop(request.query.get("ticket", ""), None)  # one connection per ticket
        if issued is None or self.clock() - issued[0] > TICKET_TTL:
            # DingTalk documents only that a valid ticket gets the handshake; a refusal before the upgrade is assumed
            return web.json_response({"code": "invalidTicket", "message": "ticket 无效或已过期"}, status=401)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = Connection(len(self.connections) + 1, request.query["ticket"], issued[1], ws, request)
        self.connections.append(conn)
        self._changed.set()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        parsed = json.loads(msg.data)
                    except ValueError:
                        parsed = None
                    self.frames.append(Frame(conn.number, msg.data, parsed if isinstance(parsed, dict) else None))
                    self._changed.set()
        finally:
            conn.closed.set()
            self._changed.set()
        return ws

    # ------------------------------------------------------------------ HTTP APIs

    async def _token(self, request: web.Request) -> web.Response:
        body = await _json(request)
        call = self._record("token", body)
        if not isinstance(body, dict) or (body.get("appKey"), body.get("appSecret")) != (self.client_id, self.client_secret):
            return self._answer(call, 400, {"code": "invalidClientIdOrSecret", "message": "无效的clientId或者clientSecret"})
        token = uuid.uuid4().hex
        self._tokens[token] = self.clock() + 7200
        return self._answer(call, 200, {"accessToken": token, "expireIn": 7200})

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await _json(request)
        session = self._sessions.get(request.query.get("session", ""))
        if isinstance(body, dict) and session:
            body["_conversation"] = session["conversation"]
        call = self._record("webhook", body)
        if self.hold_webhooks is not None:
            await self.hold_webhooks.wait()
        if not session or session["expires_ms"] < time.time() * 1000:
            return self._answer(call, 200, {"errcode": 300001, "errmsg": "session 不存在"})
        if not isinstance(body, dict) or not _webhook_body_ok(body):
            return self._answer(call, 200, {"errcode": 40035, "errmsg": "缺少参数 json"})
        if self._too_many(self._webhook_times, request.query["session"], self.webhook_per_minute, 60.0):
            return self._answer(call, 200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
        return self._answer(call, 200, {"errcode": 0, "errmsg": "ok"})

    async def _group_send(self, request: web.Request) -> web.Response:
        call, refused = await self._openapi(request, "group")
        if refused:
            return refused
        body = call.body
        if body.get("robotCode") != self.robot_code:
            return self._answer(call, 400, {"code": "invalidParameter.robotCode.notExsit", "message": "机器人不存在"})
        if body.get("openConversationId") not in self.groups:
            return self._answer(call, 400, {"code": "invalid.openConversationId", "message": "无效的openConversationId"})
        if err := _msg_error(body):
            return self._answer(call, 400, err)
        return self._answer(call, 200, {"processQueryKey": uuid.uuid4().hex})

    async def _oto_send(self, request: web.Request) -> web.Response:
        call, refused = await self._openapi(request, "oto")
        if refused:
            return refused
        body = call.body
        users = body.get("userIds")
        if body.get("robotCode") != self.robot_code:
            return self._answer(call, 400, {"code": "invalidParameter.robotCode.empty", "message": "机器人不存在"})
        if not isinstance(users, list) or not users:
            return self._answer(call, 400, {"code": "invalidParameter.userIds.empty", "message": "用户userId列表为空"})
        if len(users) > 20:
            return self._answer(call, 400, {"code": "invalidParameter.userIds.overMax", "message": "用户userId列表超过上限"})
        if err := _msg_error(body):
            return self._answer(call, 400, err)
        return self._answer(call, 200, {"processQueryKey": uuid.uuid4().hex, "invalidStaffIdList": [],
                                        "flowControlledStaffIdList": []})

    async def _card_send(self, request: web.Request) -> web.Response:
        call, refused = await self._openapi(request, "card")
        if refused:
            return refused
        if not call.body.get("cardBizId") or not call.body.get("cardData"):
            return self._answer(call, 400, {"code": "invalidParameter.param.invalid", "message": "参数不合法"})
        return self._answer(call, 200, {"processQueryKey": uuid.uuid4().hex})

    async def _card_update(self, request: web.Request) -> web.Response:
        call, refused = await self._openapi(request, "card_update")
        if refused:
            return refused
        return self._answer(call, 200, {"success": True})

    async def _openapi(self, request: web.Request, api: str) -> tuple[Call, web.Response | None]:
        """Record an OpenAPI call; refuse it for a bad token, a malformed body or the per-app QPS limit."""
        body = await _json(request)
        call = self._record(api, body if isinstance(body, dict) else {"_raw": body})
        expires = self._tokens.get(request.headers.get("x-acs-dingtalk-access-token", ""))
        if expires is None or expires < self.clock():
            return call, self._answer(call, 400, {"code": "InvalidAuthentication", "message": "不合法的access_token"})
        if not isinstance(body, dict):
            return call, self._answer(call, 400, {"code": "invalidParameter.param.invalid", "message": "参数不合法"})
        if self._too_many(self._api_times, api, self.qps_per_api, 1.0):
            return call, self._answer(call, 403, {"code": "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
                                                  "message": "您的应用调用当前api的qps已经超过限制"})
        return call, None

    # ------------------------------------------------------------------ helpers

    def _record(self, api: str, body: Any) -> Call:
        call = Call(api, body)
        self.calls.append(call)
        return call

    def _answer(self, call: Call, status: int, answer: dict) -> web.Response:
        if status != 200:
            answer = {"requestid": uuid.uuid4().hex.upper(), **answer}
        call.status, call.answer = status, answer
        self._changed.set()
        return web.json_response(answer, status=status)

    def _too_many(self, table: dict[str, list[float]], key: str, limit: int | None, period: float) -> bool:
        if limit is None:
            return False
        now = self.clock()
        times = table.setdefault(key, [])
        times[:] = [t for t in times if now - t < period]
        if len(times) >= limit:
            return True
        times.append(now)
        return False

    def _message_id(self) -> str:
        return f"{uuid.uuid4().hex[:8]}_{next(self._ids)}"

    def _need_live(self) -> Connection:
        if self.live is None:
            raise AssertionError("no client is connected to the fake DingTalk")
        return self.live

    async def _wait(self, done: Callable[[], bool], timeout: float, what: Callable[[], str]) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("expected " + what())
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.05))


async def _json(request: web.Request) -> Any:
    try:
        return json.loads(await request.text())
    except ValueError:
        return None


def _webhook_body_ok(body: dict) -> bool:
    kind = body.get("msgtype")
    if kind not in WEBHOOK_MSGTYPES:
        return False
    part = body.get(kind)
    if not isinstance(part, dict):
        return False
    if kind == "text":
        return bool(part.get("content"))
    if kind == "markdown":
        return bool(part.get("title")) and bool(part.get("text"))
    if kind == "actionCard":
        buttons = part.get("btns")
        single = part.get("singleTitle") and part.get("singleURL")
        many = isinstance(buttons, list) and buttons and all(b.get("title") and b.get("actionURL") for b in buttons)
        return bool(part.get("title")) and bool(part.get("text")) and bool(single or many)
    return True


def _msg_error(body: dict) -> dict | None:
    """The robot APIs' checks of msgKey/msgParam (a JSON string of at most 15,000 bytes)."""
    key, param = body.get("msgKey"), body.get("msgParam")
    if not key:
        return {"code": "invalidParameter.msgKey.empty", "message": "msgKey为空"}
    if key not in GROUP_MSG_KEYS:
        return {"code": "invalidParameter.msgKey.invalid", "message": "msgKey不合法"}
    try:
        values = json.loads(param) if isinstance(param, str) else None
    except ValueError:
        values = None
    if not isinstance(values, dict) or not isinstance(param, str):
        return {"code": "invalidParameter.msgParam.invalid", "message": "msgParam必须是json格式"}
    if len(param.encode()) > 15000:
        return {"code": "invalidParameter.msgParam.invalid", "message": "msgParam长度超过15000"}
    if not all(values.get(k) for k in GROUP_MSG_KEYS[key]):
        return {"code": "invalidParameter.msgParam.invalid", "message": "msgParam缺少必填字段"}
    return None
