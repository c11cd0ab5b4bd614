"""Our own client for 飞书's long connection (长连接 event subscription), on aiohttp.

Why not the official SDK (lark-oapi 1.7.5; tests/test_fake_feishu.py shows each point against the fake):
it takes an event loop when its ws module is imported and needs that global replaced to run on a
thread; its handler runs inside the socket's loop, so a slow handler holds the 3 s ack and every
other frame; it has no stop(); a secret revoked while connected kills its reconnect silently while
start() keeps blocking; it connects the WebSocket with proxy=None (HTTPS_PROXY ignored) and posts
the endpoint with no timeout; importing it costs seconds and ~160 MB.

The protocol, as that SDK speaks it: POST {domain}/callback/ws/endpoint {"AppID", "AppSecret"} →
{"code": 0, "data": {"URL": "wss://…?device_id=…&service_id=…", "ClientConfig": {…}}}; then binary
protobuf pbbp2.Frame messages both ways (see encode_frame). The client pings (control frame,
type=ping, service=service_id); the pong may carry a new ClientConfig. A data frame (type=event) is
acked by sending it back with payload {"code": 200[, "data": base64(JSON)]}; large payloads come in
`sum` fragments sharing a message_id. Card clicks (card.action.trigger) arrive as events, and what the
ack's data carries (a toast, a new card) is what the user sees.

Here every event is acked at once and then handed to `on_event` on the caller's loop; only a card
click waits (at most `card_timeout`) for `on_card`, whose answer rides in the ack. The message APIs
(token, create, reply) are in bot/feishu/api.py.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import random
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from yarl import URL

log = logging.getLogger(__name__)

ENDPOINT_PATH = "/callback/ws/endpoint"
FEISHU_DOMAIN = "https://open.feishu.cn"
CARD_EVENT = "card.action.trigger"
# Endpoint codes that mean the credentials are wrong (1000040344 empty, 1000040345 invalid): retrying cannot help.
CREDENTIAL_CODES = {1000040344: "empty", 1000040345: "wrong"}
FRAME_CONTROL, FRAME_DATA = 0, 1
MAX_PAYLOAD = 10 * 1024 * 1024          # a reassembled event larger than this is dropped
FRAGMENT_TTL = 5.0                       # seconds a partial payload waits for its other fragments (as the SDK)

EventHandler = Callable[[dict], Awaitable[None]]
CardHandler = Callable[[dict], Awaitable[dict | None]]


class FeishuCredentialError(Exception):
    """Feishu refused app_id/app_secret: the app stops until its config is fixed."""


# --- pbbp2.Frame --------------------------------------------------------------------------------

@dataclass
class Frame:
    """pbbp2.Frame (proto2): SeqID=1, LogID=2, service=3, method=4 (all required), headers=5 {key=1, value=2},
    payload_encoding=6, payload_type=7, payload=8, LogIDNew=9."""

    seq_id: int = 0
    log_id: int = 0
    service: int = 0
    method: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    payload: bytes | None = None
    extra: list[tuple[int, bytes]] = field(default_factory=list)  # fields 6, 7, 9 and unknown ones, kept as sent

    def header(self, key: str) -> str | None:
        return next((v for k, v in self.headers if k == key), None)


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _bytes_field(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def encode_frame(frame: Frame) -> bytes:
    out = bytearray()
    for number, number_value in ((1, frame.seq_id), (2, frame.log_id), (3, frame.service), (4, frame.method)):
        out += _varint(number << 3) + _varint(number_value)
    for key, text in frame.headers:
        out += _bytes_field(5, _bytes_field(1, key.encode()) + _bytes_field(2, text.encode()))
    for number, raw in frame.extra:
        out += _bytes_field(number, raw)
    if frame.payload is not None:
        out += _bytes_field(8, frame.payload)
    return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if byte < 0x80:
            return value, pos
        shift += 7
    raise ValueError("bad varint")


def _read_fields(data: bytes) -> list[tuple[int, int, Any]]:
    fields: list[tuple[int, int, Any]] = []
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, pos = _read_varint(data, pos)
        elif wire == 2:
            size, pos = _read_varint(data, pos)
            value, pos = data[pos:pos + size], pos + size
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, pos = data[pos:pos + size], pos + size
        else:
            raise ValueError(f"bad wire type {wire}")
        if pos > len(data):
            raise ValueError("truncated frame")
        fields.append((number, wire, value))
    return fields


def decode_frame(data: bytes) -> Frame:
    """Parse a frame; ValueError when the bytes are not one."""
    frame, required = Frame(), set()
    for number, wire, value in _read_fields(data):
        if number in (1, 2, 3, 4) and wire == 0:
            if number in (3, 4) and value >= 1 << 63:
                value -= 1 << 64
            setattr(frame, ("seq_id", "log_id", "service", "method")[number - 1], value)
            required.add(number)
        elif number == 5 and wire == 2:
            parts = {n: v for n, w, v in _read_fields(value) if w == 2}
            if 1 not in parts or 2 not in parts:
                raise ValueError("header without key or value")
            frame.headers.append((parts[1].decode(), parts[2].decode()))
        elif number == 8 and wire == 2:
            frame.payload = bytes(value)
        elif wire == 2:
            frame.extra.append((number, bytes(value)))
    if required != {1, 2, 3, 4}:
        raise ValueError("frame lacks SeqID, LogID, service or method")
    return frame


class Reassembler:
    """Joins the `sum` fragments of one message_id; parts older than FRAGMENT_TTL are forgotten."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._parts: dict[str, tuple[float, list[bytes | None]]] = {}
        self._clock = clock

    def add(self, message_id: str, total: int, seq: int, part: bytes) -> bytes | None:
        now = self._clock()
        self._parts = {k: v for k, v in self._parts.items() if now - v[0] < FRAGMENT_TTL}
        if total <= 1:
            return part
        if not 0 <= seq < total or total > 1000:
            raise ValueError(f"fragment {seq} of {total}")
        started, parts = self._parts.get(message_id, (now, [None] * total))
        if len(parts) != total:
            raise ValueError("fragment count changed")
        parts[seq] = part
        if sum(len(p) for p in parts if p) > MAX_PAYLOAD:
            del self._parts[message_id]
            raise ValueError("payload too large")
        if any(p is None for p in parts):
            self._parts[message_id] = (started, parts)
            return None
        self._parts.pop(message_id, None)
        return b"".join(p for p in parts if p is not None)


# --- helpers --------------------------------------------------------------------------------------

def env_proxy_for(url: str) -> str | None:
    """The proxy the environment names for this URL (HTTPS_PROXY for wss://, HTTP_PROXY for ws://), NO_PROXY honoured.

    aiohttp's trust_env looks up WSS_PROXY for a wss:// URL, which nobody sets."""
    parsed = URL(url)
    if parsed.host and urllib.request.proxy_bypass(parsed.host):
        return None
    proxies = urllib.request.getproxies()
    scheme = {"wss": "https", "ws": "http"}.get(parsed.scheme, parsed.scheme)
    return proxies.get(parsed.scheme) or proxies.get(scheme) or None


def backoff_delay(attempt: int, *, initial: float, maximum: float, rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter: uniform in [d/2, d], d = min(maximum, initial·2^attempt)."""
    delay = min(maximum, initial * 2 ** min(attempt, 30))
    return delay / 2 + rand() * delay / 2


def ack_payload(code: int, data: dict | None = None) -> bytes:
    answer: dict[str, Any] = {"code": code}
    if data is not None:
        answer["data"] = base64.b64encode(json.dumps(data, ensure_ascii=False).encode()).decode()
    return json.dumps(answer).encode()


@dataclass
class ClientConfig:
    ping_interval: float = 120.0
    reconnect_interval: float = 120.0

    def update(self, conf: Any) -> None:
        if isinstance(conf, dict):
            if isinstance(conf.get("PingInterval"), int) and conf["PingInterval"] > 0:
                self.ping_interval = float(conf["PingInterval"])
            if isinstance(conf.get("ReconnectInterval"), int) and conf["ReconnectInterval"] > 0:
                self.reconnect_interval = float(conf["ReconnectInterval"])


class _Retry(Exception):
    """A failure worth another try (network, busy endpoint, refused handshake)."""


# --- the client -----------------------------------------------------------------------------------

class FeishuLongConnection:
    """One app's long connection: `await run()` until `await stop()`; raises FeishuCredentialError on wrong credentials."""

    def __init__(self, app_id: str, app_secret: str, on_event: EventHandler, *,
                 on_card: CardHandler | None = None, domain: str = FEISHU_DOMAIN,
                 session: aiohttp.ClientSession | None = None, card_timeout: float = 2.5,
                 initial_backoff: float = 1.0, max_backoff: float = 60.0, request_timeout: float = 15.0,
                 heartbeat: float = 30.0, sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                 rand: Callable[[], float] = random.random) -> None:
        self.app_id, self._secret = app_id, app_secret
        self._heartbeat = heartbeat
        self.domain = domain.rstrip("/")
        self._on_event, self._on_card = on_event, on_card
        self._session, self._own_session = session, session is None
        self._card_timeout, self._request_timeout = card_timeout, request_timeout
        self._initial_backoff, self._max_backoff = initial_backoff, max_backoff
        self._sleep, self._rand = sleep, rand
        self.config = ClientConfig()
        self.state = "idle"
        self.connections = 0                     # WebSockets opened so far
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._service_id = 0
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self._reassembler = Reassembler()

    def _set_state(self, state: str, detail: str = "") -> None:
        if state != self.state:
            self.state = state
            log.info("feishu %s: %s%s", self.app_id, state, f" ({detail})" if detail else "")

    async def run(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(trust_env=True)
        attempt = 0
        try:
            while not self._stopping.is_set():
                if self.state != "reconnecting":
                    self._set_state("connecting")
                opened = self.connections
                try:
                    await self._connect_and_serve(await self._endpoint())
                    break  # returns only when stopping
                except _Retry as exc:
                    detail = str(exc)
                if self._stopping.is_set():
                    break
                attempt = 0 if self.connections > opened else attempt
                delay = backoff_delay(attempt, initial=self._initial_backoff, maximum=self._max_backoff, rand=self._rand)
                attempt += 1
                log.debug("feishu %s: %s; next try in %.1f s", self.app_id, detail, delay)
                self._set_state("reconnecting", f"{detail}; next try in {delay:.1f} s")
                await self._wait_or_stop(delay)
        except FeishuCredentialError as exc:
            self._set_state("stopped", str(exc))
            raise
        finally:
            await self._cleanup()
            self._set_state("stopped")

    async def _wait_or_stop(self, delay: float) -> None:
        sleeper = asyncio.ensure_future(self._sleep(delay))
        stopper = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in (sleeper, stopper):
            task.cancel()

    async def stop(self) -> None:
        """Close the socket cleanly and let run() return."""
        self._stopping.set()
        ws = self._ws
        if ws is not None and not ws.closed:
            await ws.close()

    async def _endpoint(self) -> str:
        assert self._session is not None
        url = self.domain + ENDPOINT_PATH
        try:
            async with self._session.post(url, json={"AppID": self.app_id, "AppSecret": self._secret},
                                          headers={"locale": "zh"}, proxy=env_proxy_for(url),
                                          timeout=aiohttp.ClientTimeout(total=self._request_timeout)) as resp:
                text = await resp.text()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _Retry(f"endpoint unreachable: {exc!r}") from exc
        try:
            answer = json.loads(text)
        except ValueError:
            raise _Retry(f"endpoint answered HTTP {resp.status}, not JSON") from None
        code = answer.get("code") if isinstance(answer, dict) else None
        if code in CREDENTIAL_CODES:
            raise FeishuCredentialError(
                f"Feishu refused the credentials ({CREDENTIAL_CODES[code]} app_id/app_secret, code {code}): "
                "check [feishu] app_id and app_secret (or POLICYBOT_FEISHU_APP_ID / POLICYBOT_FEISHU_APP_SECRET)")
        data = answer.get("data") if code == 0 else None
        if not isinstance(data, dict) or not isinstance(data.get("URL"), str):
            raise _Retry(f"endpoint code {code}: {answer.get('msg', '') if isinstance(answer, dict) else ''}")
        self.config.update(data.get("ClientConfig"))
        return data["URL"]

    async def _connect_and_serve(self, url: str) -> None:
        assert self._session is not None
        try:
            self._service_id = int(URL(url).query.get("service_id", "0"))
        except ValueError:
            self._service_id = 0
        try:
            # WebSocket-level pings find a link that died without a close (what websockets does for the SDK).
            ws = await self._session.ws_connect(url, proxy=env_proxy_for(url), autoping=True, heartbeat=self._heartbeat,
                                                timeout=aiohttp.ClientWSTimeout(ws_close=5.0),
                                                max_msg_size=MAX_PAYLOAD)
        except aiohttp.WSServerHandshakeError as exc:
            status = exc.headers.get("handshake-status") if exc.headers else None
            message = exc.headers.get("handshake-msg") if exc.headers else None
            raise _Retry(f"handshake refused: HTTP {exc.status} {status or ''} {message or ''}".strip()) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _Retry(f"connect failed: {exc!r}") from exc
        if self._stopping.is_set():  # stop() came while connecting
            await ws.close()
            return
        self._ws = ws
        self.connections += 1
        self._set_state("connected", f"device {URL(url).query.get('device_id', '?')}")
        pinger = asyncio.create_task(self._ping_loop(ws))
        try:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.BINARY:
                    await self._on_frame(ws, msg.data)
                elif msg.type == aiohttp.WSMsgType.TEXT:
                    log.warning("feishu %s: ignored a text frame (%d chars)", self.app_id, len(msg.data))
                elif msg.type == aiohttp.WSMsgType.ERROR:
                    break
        finally:
            pinger.cancel()
            self._ws = None
            if not ws.closed:
                await ws.close()
        if not self._stopping.is_set():
            raise _Retry(f"socket closed (code {ws.close_code})")

    async def _ping_loop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while not ws.closed:
            ping = Frame(service=self._service_id, method=FRAME_CONTROL, headers=[("type", "ping")])
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_bytes(encode_frame(ping))
            await asyncio.sleep(self.config.ping_interval)

    async def _on_frame(self, ws: aiohttp.ClientWebSocketResponse, data: bytes) -> None:
        try:
            frame = decode_frame(data)
            kind = frame.header("type")
            if frame.method == FRAME_CONTROL:
                if kind == "pong" and frame.payload:
                    self.config.update(json.loads(frame.payload))
                return
            if frame.method != FRAME_DATA or kind not in ("event", "card"):
                log.warning("feishu %s: ignored a frame (method %s, type %s)", self.app_id, frame.method, kind)
                return
            payload = self._reassembler.add(frame.header("message_id") or "", int(frame.header("sum") or 1),
                                            int(frame.header("seq") or 0), frame.payload or b"")
        except (ValueError, UnicodeDecodeError) as exc:
            log.warning("feishu %s: ignored a malformed frame (%d bytes): %s", self.app_id, len(data), exc)
            return
        if payload is None:
            return
        try:
            event = json.loads(payload)
            if not isinstance(event, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            log.warning("feishu %s: ignored an event that is not JSON: %s", self.app_id, exc)
            await self._ack(ws, frame, 500, None, 0)
            return
        started = time.monotonic()
        event_type = (event.get("header") or {}).get("event_type") if isinstance(event.get("header"), dict) else None
        if event_type == CARD_EVENT and self._on_card is not None:
            answer = await self._card_answer(event)
            await self._ack(ws, frame, 200, answer, started)
            return
        await self._ack(ws, frame, 200, None, started)
        task = asyncio.create_task(self._deliver(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _card_answer(self, event: dict) -> dict | None:
        assert self._on_card is not None
        try:
            return await asyncio.wait_for(self._on_card(event), self._card_timeout)
        except TimeoutError:
            log.warning("feishu %s: card answer took over %.1f s; acked without one", self.app_id, self._card_timeout)
        except Exception:
            log.exception("feishu %s: card handler failed", self.app_id)
        return None

    async def _deliver(self, event: dict) -> None:
        try:
            await self._on_event(event)
        except Exception:
            log.exception("feishu %s: event handler failed", self.app_id)

    async def _ack(self, ws: aiohttp.ClientWebSocketResponse, frame: Frame, code: int, data: dict | None,
                   started: float) -> None:
        elapsed_ms = int((time.monotonic() - started) * 1000) if started else 0
        reply = Frame(frame.seq_id, frame.log_id, frame.service, frame.method,
                      [*frame.headers, ("biz_rt", str(elapsed_ms))], ack_payload(code, data), frame.extra)
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_bytes(encode_frame(reply))

    async def _cleanup(self) -> None:
        """Give events already handed over a moment to finish, then cancel the rest."""
        if self._tasks:
            _, late = await asyncio.wait(set(self._tasks), timeout=5.0)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None
