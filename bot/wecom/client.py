"""企业微信 智能机器人 long connection, our own client on aiohttp's WebSocket client.

The protocol (developer.work.weixin.qq.com/document/path/101463): open a WebSocket to
`wss://openws.work.weixin.qq.com`, send `aibot_subscribe` {bot_id, secret}, then receive
`aibot_msg_callback` / `aibot_event_callback` frames, answer them with `aibot_respond_msg`
(and `aibot_respond_welcome_msg`, `aibot_respond_update_msg`) under the callback's req_id, push with
`aibot_send_msg` under a fresh req_id, and `ping` every 30 s. Every request is answered by a frame
without `cmd` that echoes its req_id with errcode/errmsg.

Why not the official SDK (wecom-aibot-python-sdk 1.0.2, checked against our fake in
tests/test_fake_wecom.py): it does not reconnect after the server closes the socket cleanly
(1000/1001: its `async for` ends quietly); when the server hangs up after refusing the secret it
sends the same secret again and again (its attempt counter restarts at every opened socket); an
"error" event without a listener kills its receive loop; and it always passes an SSL context, so
no ws:// endpoint. This client reconnects after any close with backoff and jitter, stops for good
on a refused secret with one line naming the setting, and takes any ws:// or wss:// endpoint and
the standard proxy variables, on the aiohttp we already depend on. The pure parts (parsing a
callback, request ids, proxy choice, backoff) are in bot/wecom/protocol.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import ssl as ssl_module
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.wecom.protocol import Backoff, WeComMessage, new_req_id, object_of, parse_callback, proxy_for

log = logging.getLogger(__name__)

DEFAULT_WS_URL = "wss://openws.work.weixin.qq.com"
ERR_TOO_FAST = 45009  # WeCom's "api freq out of limit", also answered to aibot_subscribe
ERR_SYSTEM_BUSY = -1  # WeCom's global "系统繁忙"
RETRY_SUBSCRIBE = {ERR_TOO_FAST, ERR_SYSTEM_BUSY}  # any other refusal of aibot_subscribe is the credentials
STREAM_MAX_BYTES = 20480  # stream.content limit (被动回复消息, path/101031)
MAX_FRAME_CHARS = 1 << 20  # a callback is a few KB; anything past 1 MiB is logged and dropped
MAX_WS_MESSAGE = 16 << 20  # aiohttp closes the socket (1009) past this; we then reconnect
CREDENTIAL_HINT = "请检查 [wecom] bot_id / secret（或环境变量 POLICYBOT_WECOM_BOT_ID / POLICYBOT_WECOM_SECRET）"


class WeComError(Exception):
    """Something went wrong talking to 企业微信."""


class WeComCredentialError(WeComError):
    """aibot_subscribe refused bot_id/secret; retrying cannot help."""


class WeComReplaced(WeComError):
    """Another connection subscribed with the same bot_id and took over (disconnected_event)."""


class WeComNotConnected(WeComError):
    """No subscribed connection now (or it closed before the answer came)."""


class WeComConnectionLost(WeComNotConnected):
    """The connection closed after a request went out and before its answer: it may have arrived."""


class WeComTimeout(WeComError, TimeoutError):
    """No answer to a request within the request timeout."""


class WeComRequestError(WeComError):
    """A request answered with a non-zero errcode."""

    def __init__(self, cmd: str, errcode: int, errmsg: str) -> None:
        super().__init__(f"{cmd}: errcode={errcode} {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg

    @property
    def too_fast(self) -> bool:
        return self.errcode == ERR_TOO_FAST


DEFAULT_BACKOFF = Backoff()
Callback = Callable[[WeComMessage], Awaitable[None]]


class WeComClient:
    """One bot's long connection: `start()`, `await wait_connected()`, reply_* / send_*, `await stop()`."""

    def __init__(
        self,
        bot_id: str,
        secret: str,
        on_callback: Callback,
        *,
        ws_url: str = DEFAULT_WS_URL,
        session: aiohttp.ClientSession | None = None,
        ssl: ssl_module.SSLContext | bool = True,
        heartbeat: float = 30.0,
        request_timeout: float = 10.0,
        connect_timeout: float = 15.0,
        backoff: Backoff = DEFAULT_BACKOFF,
        rand: Callable[[], float] = random.random,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        if not bot_id or not secret:
            raise ValueError("企业微信未配置：" + CREDENTIAL_HINT)
        if urlsplit(ws_url).scheme not in ("ws", "wss"):
            raise ValueError(f"[wecom] ws_url 必须以 ws:// 或 wss:// 开头：{ws_url!r}")
        self.bot_id, self._secret, self._on_callback = bot_id, secret, on_callback
        self.ws_url, self._ssl = ws_url, ssl
        self._session, self._own_session = session, session is None
        self.heartbeat, self.request_timeout, self.connect_timeout = heartbeat, request_timeout, connect_timeout
        self._backoff, self._rand = backoff, rand
        self._proxy = proxy_for(ws_url, environ)
        self.state = "idle"
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._connected = asyncio.Event()
        self._stopping = asyncio.Event()
        self._pending: dict[str, asyncio.Future[dict]] = {}
        self._serial: dict[str, list] = {}  # req_id -> [lock, users]: one request per req_id at a time
        self._handlers: set[asyncio.Task] = set()
        self._seen: OrderedDict[str, None] = OrderedDict()  # recent msgids: WeCom may deliver a callback twice
        self._unanswered_pings = 0
        self._replaced = False
        self._retrying = False  # between a failed connection and the next success
        self._task: asyncio.Task | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> asyncio.Task:
        """Run the connection in the background; the task ends on stop() or raises WeComCredentialError / WeComReplaced."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"wecom:{self.bot_id}")
        return self._task

    async def wait_connected(self, timeout: float | None = None) -> None:
        waiter = asyncio.ensure_future(self._connected.wait())
        done, _ = await asyncio.wait({waiter, *([self._task] if self._task else [])}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if self._task in done:
            self._task.result()  # raises what stopped it
        if not self._connected.is_set():
            raise WeComNotConnected(f"not connected to {self.ws_url}")

    async def stop(self) -> None:
        self._stopping.set()
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._task is not None:
            with contextlib.suppress(WeComError):
                await self._task
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    def _set_state(self, state: str, detail: str = "", level: int = logging.INFO) -> None:
        """Log each change once; while retrying, the attempts after the first go to debug (an outage is one line)."""
        if state == self.state:
            return
        repeat = self._retrying and state in ("connecting", "reconnecting")
        self._retrying = state == "reconnecting" or (self._retrying and state == "connecting")
        self.state = state
        log.log(logging.DEBUG if repeat else level, "企业微信 %s: %s%s", self.bot_id, state, f" ({detail})" if detail else "")

    async def run(self) -> None:
        """Connect, subscribe and serve until stop(); reconnect after any close with backoff and jitter."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            await self._run()
        finally:
            if self._own_session:
                await self._session.close()
                self._session = None

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            self._set_state("connecting", self.ws_url + (f" via {self._proxy}" if self._proxy else ""))
            try:
                reason = await self._connect_and_serve()
                attempt = 0
            except WeComCredentialError as exc:
                self._set_state("stopped", str(exc), logging.ERROR)
                raise
            except WeComReplaced as exc:
                self._set_state("stopped", str(exc), logging.ERROR)
                raise
            except (aiohttp.ClientError, OSError, TimeoutError, WeComError, ValueError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            if self._stopping.is_set():
                break
            delay = self._backoff.delay(attempt, self._rand())
            attempt += 1
            self._set_state("reconnecting", f"{reason}; retry in {delay:.1f} s", logging.WARNING)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
        self._set_state("stopped")

    async def _connect_and_serve(self) -> str:
        assert self._session is not None
        async with asyncio.timeout(self.connect_timeout):
            ws = await self._session.ws_connect(self.ws_url, proxy=self._proxy, ssl=self._ssl,
                                                max_msg_size=MAX_WS_MESSAGE, autoping=True)
        try:
            self._ws = ws
            await self._subscribe(ws)
            self._unanswered_pings = 0
            self._connected.set()
            self._set_state("connected")
            heartbeat = asyncio.create_task(self._heartbeat(ws))
            try:
                reason = await self._read(ws)
            finally:
                heartbeat.cancel()
            if self._replaced:
                raise WeComReplaced(f"另一个连接以同一 bot_id 订阅，顶替了本连接（{reason}）；不再重连")
            return reason
        finally:
            self._connected.clear()
            self._ws = None
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(WeComConnectionLost("connection closed before the answer"))
            await ws.close()

    async def _subscribe(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        req_id = new_req_id("aibot_subscribe")
        await ws.send_str(json.dumps({"cmd": "aibot_subscribe", "headers": {"req_id": req_id},
                                      "body": {"bot_id": self.bot_id, "secret": self._secret}}))
        async with asyncio.timeout(self.request_timeout):
            while True:
                msg = await ws.receive()
                if msg.type != aiohttp.WSMsgType.TEXT:
                    raise WeComNotConnected(f"closed while subscribing (code {ws.close_code})")
                with contextlib.suppress(ValueError):
                    answer = json.loads(msg.data)
                    if isinstance(answer, dict) and (answer.get("headers") or {}).get("req_id") == req_id:
                        break
        errcode, errmsg = answer.get("errcode"), str(answer.get("errmsg") or "")
        if errcode == 0:
            return
        if not isinstance(errcode, int) or errcode in RETRY_SUBSCRIBE:
            raise WeComRequestError("aibot_subscribe", errcode if isinstance(errcode, int) else -1, errmsg)
        raise WeComCredentialError(f"企业微信拒绝了机器人凭据（errcode={errcode}: {errmsg}）：{CREDENTIAL_HINT}")

    async def _heartbeat(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while not ws.closed:
            await asyncio.sleep(self.heartbeat)
            if self._unanswered_pings >= 2:
                log.warning("企业微信 %s: two heartbeats unanswered, closing the connection", self.bot_id)
                await ws.close()
                return
            self._unanswered_pings += 1
            try:
                await ws.send_str(json.dumps({"cmd": "ping", "headers": {"req_id": new_req_id("ping")}}))
            except (ConnectionError, RuntimeError):
                return  # the socket is going; the reader sees the close

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> str:
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self._on_text(msg.data)
            elif msg.type == aiohttp.WSMsgType.BINARY:
                self._on_text(msg.data.decode("utf-8", "replace"))
            elif msg.type == aiohttp.WSMsgType.ERROR:
                return f"socket error: {ws.exception()}"
        return f"closed by the server (code {ws.close_code})"

    def _on_text(self, raw: str) -> None:
        if len(raw) > MAX_FRAME_CHARS:
            log.warning("企业微信 %s: dropped a frame of %d characters", self.bot_id, len(raw))
            return
        try:
            frame = json.loads(raw)
        except ValueError:
            log.warning("企业微信 %s: dropped a frame that is not JSON: %.100r", self.bot_id, raw)
            return
        if not isinstance(frame, dict):
            log.warning("企业微信 %s: dropped a frame that is not an object: %.100r", self.bot_id, raw)
            return
        cmd = frame.get("cmd")
        req_id = object_of(frame.get("headers")).get("req_id")
        if not cmd:
            if isinstance(req_id, str) and req_id.startswith("ping"):
                self._unanswered_pings = 0
            future = self._pending.get(req_id) if isinstance(req_id, str) else None
            if future is not None and not future.done():
                future.set_result(frame)
            return
        if cmd not in ("aibot_msg_callback", "aibot_event_callback"):
            log.warning("企业微信 %s: ignored a frame with unknown cmd %.60r", self.bot_id, cmd)
            return
        if object_of(object_of(frame.get("body")).get("event")).get("eventtype") == "disconnected_event":
            self._replaced = True  # the server closes this socket next; _connect_and_serve then stops
            return
        try:
            message = parse_callback(frame)
        except ValueError as exc:
            log.warning("企业微信 %s: dropped a malformed %s (%s)", self.bot_id, cmd, exc)
            return
        if message.msgid and message.msgid in self._seen:
            return
        if message.msgid:
            self._seen[message.msgid] = None
            while len(self._seen) > 2048:
                self._seen.popitem(last=False)
        task = asyncio.create_task(self._handle(message))
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def _handle(self, message: WeComMessage) -> None:
        try:
            await self._on_callback(message)
        except Exception:
            log.exception("企业微信 %s: the handler failed on %s %s", self.bot_id, message.msgtype, message.msgid)

    # ------------------------------------------------------------------ requests

    async def request(self, cmd: str, req_id: str, body: Mapping[str, Any]) -> dict:
        """Send one request and wait for its answer; requests sharing a req_id go one at a time."""
        slot = self._serial.setdefault(req_id, [asyncio.Lock(), 0])
        slot[1] += 1
        try:
            async with slot[0]:
                return await self._request_once(cmd, req_id, body)
        finally:
            slot[1] -= 1
            if slot[1] == 0:
                self._serial.pop(req_id, None)

    async def _request_once(self, cmd: str, req_id: str, body: Mapping[str, Any]) -> dict:
        running = self._task is not None and not self._task.done() and not self._stopping.is_set()
        if not self._connected.is_set() and running:  # reconnecting: wait a little for it
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._connected.wait(), self.request_timeout)
        ws = self._ws
        if ws is None or ws.closed or not self._connected.is_set():
            raise WeComNotConnected(f"{cmd}: not connected to {self.ws_url}")
        future: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = future
        try:
            await ws.send_str(json.dumps({"cmd": cmd, "headers": {"req_id": req_id}, "body": body}, ensure_ascii=False))
            try:
                answer = await asyncio.wait_for(future, self.request_timeout)
            except TimeoutError:
                raise WeComTimeout(f"{cmd}: no answer within {self.request_timeout} s") from None
        finally:
            if self._pending.get(req_id) is future:
                del self._pending[req_id]
        if answer.get("errcode") != 0:
            raise WeComRequestError(cmd, int(answer.get("errcode") or -1), str(answer.get("errmsg") or ""))
        return answer

    async def reply_markdown(self, req_id: str, text: str) -> dict:
        """Answer a message with markdown: one finished stream (stream.content is markdown)."""
        stream = {"id": new_req_id("stream"), "finish": True, "content": text}
        return await self.request("aibot_respond_msg", req_id, {"msgtype": "stream", "stream": stream})

    async def reply_markdown_with_card(self, req_id: str, text: str, card: Mapping[str, Any]) -> dict:
        """Answer a message with markdown and a template card in one reply (WeCom allows one card per message)."""
        stream = {"id": new_req_id("stream"), "finish": True, "content": text}
        return await self.request("aibot_respond_msg", req_id, {"msgtype": "stream_with_template_card",
                                                                "stream": stream, "template_card": card})

    async def reply_template_card(self, req_id: str, card: Mapping[str, Any]) -> dict:
        return await self.request("aibot_respond_msg", req_id, {"msgtype": "template_card", "template_card": card})

    async def reply_welcome(self, req_id: str, text: str) -> dict:
        """Answer an enter_chat event (WeCom accepts it for 5 s)."""
        return await self.request("aibot_respond_welcome_msg", req_id, {"msgtype": "text", "text": {"content": text}})

    async def update_template_card(self, req_id: str, card: Mapping[str, Any], userids: list[str] | None = None) -> dict:
        """Replace a clicked card (answer to its template_card_event, within 5 s)."""
        body: dict[str, Any] = {"response_type": "update_template_card", "template_card": card}
        if userids:
            body["userids"] = userids
        return await self.request("aibot_respond_update_msg", req_id, body)

    async def send_markdown(self, chat_id: str, text: str) -> dict:
        """Push markdown to a chat (group chatid, or a user's userid); WeCom answers 45009 when too fast."""
        body = {"chatid": chat_id, "msgtype": "markdown", "markdown": {"content": text}}
        return await self.request("aibot_send_msg", new_req_id("aibot_send_msg"), body)

    async def send_template_card(self, chat_id: str, card: Mapping[str, Any]) -> dict:
        body = {"chatid": chat_id, "msgtype": "template_card", "template_card": card}
        return await self.request("aibot_send_msg", new_req_id("aibot_send_msg"), body)
