"""钉钉 Stream mode on aiohttp: a ticket from the gateway, one WebSocket, an ACK for every frame, reconnects.

Ours rather than the official `dingtalk-stream` SDK (0.24.3), which makes blocking `requests` calls without timeout
on the event loop, swallows the first cancellation, retries a wrong secret every 10 s forever with nothing but log
lines, drops the socket on one malformed frame and reconnects without backoff or jitter (pinned in
tests/test_fake_dingtalk.py). The protocol is small: open-dingtalk/developerpedia docs/learn/stream/protocol.md,
https://open.dingtalk.com/document/direction/stream-mode-protocol-access-description
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import urllib.request
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

BOT_TOPIC = "/v1.0/im/bot/messages/get"
CARD_TOPIC = "/v1.0/card/instances/callback"
GATEWAY_PATH = "/v1.0/gateway/connections/open"
REJECTED_CODES = {"authFailed", "invalidClientIdOrSecret", "InvalidAuthentication"}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamEvent:
    """A CALLBACK (robot message, card click) or EVENT pushed by DingTalk; `data` is its decoded JSON."""

    type: str
    topic: str
    message_id: str
    data: dict[str, Any]


Handler = Callable[[StreamEvent], Coroutine[Any, Any, None]]


class CredentialsRejected(Exception):
    """DingTalk refused the app's client_id / client_secret: retrying cannot help."""


class GatewayError(Exception):
    """The gateway answered, but not with an endpoint and ticket (worth retrying)."""


@dataclass(frozen=True)
class Backoff:
    """Exponential delays capped at `maximum`, half of each fixed and half random ("equal jitter")."""

    initial: float = 1.0
    maximum: float = 60.0
    stable_after: float = 60.0  # a connection that lived this long resets the count

    def delay(self, attempt: int, rand: float) -> float:
        ceiling = min(self.maximum, self.initial * 2 ** min(attempt, 32))
        return ceiling / 2 + ceiling / 2 * rand


def proxy_for(url: str) -> str | None:
    """The proxy the standard environment variables give for `url` (HTTPS_PROXY also covers wss://), or None."""
    target = URL(url)
    if target.host is None or urllib.request.proxy_bypass(target.host):
        return None
    proxies = urllib.request.getproxies()
    schemes = ("wss", "https") if target.scheme in ("https", "wss") else ("ws", "http")
    return next((proxies[s] for s in schemes if proxies.get(s)), None)


def ack(message_id: str, data: str, code: int = 200, message: str = "OK") -> str:
    """The response frame DingTalk expects for the push `message_id`; `data` is a JSON string."""
    return json.dumps({"code": code, "headers": {"messageId": message_id, "contentType": "application/json"},
                       "message": message, "data": data})


def parse_frame(raw: str) -> dict | None:
    """A pushed frame as a dict with `type`, `headers` (with messageId) and a string `data`, or None if malformed."""
    try:
        frame = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(frame, dict) or not isinstance(frame.get("headers"), dict):
        return None
    if not isinstance(frame["headers"].get("messageId"), str) or not isinstance(frame.get("data", ""), str):
        return None
    return frame


class StreamClient:
    """`await client.run()` until `await client.stop()`; `handler` gets every subscribed push, already ACKed."""

    def __init__(self, client_id: str, client_secret: str, handler: Handler, *,
                 endpoint: str = "https://api.dingtalk.com", topics: Sequence[str] = (BOT_TOPIC,),
                 session: aiohttp.ClientSession | None = None, backoff: Backoff = Backoff(),
                 heartbeat: float = 30.0, connect_timeout: float = 15.0, max_frame: int = 1 << 20,
                 rand: Callable[[], float] = random.random, name: str = "钉钉") -> None:
        self.client_id, self._secret = client_id, client_secret
        self.handler = handler
        self.endpoint = endpoint.rstrip("/")
        self.topics = tuple(topics)
        self.backoff, self.heartbeat, self.connect_timeout, self.max_frame = backoff, heartbeat, connect_timeout, max_frame
        self.name = name
        self.state = "idle"
        self.history: list[tuple[str, str]] = []  # (state, detail), one entry per logged change
        self._session = session
        self._rand = rand
        self._stop = asyncio.Event()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Connect and serve until stop(); raises CredentialsRejected when DingTalk refuses the credentials."""
        own = self._session is None
        session = self._session or aiohttp.ClientSession()
        loop = asyncio.get_running_loop()
        attempt = 0
        try:
            while not self._stop.is_set():
                self._set_state("connecting", self.endpoint, logging.DEBUG)
                started, planned, problem = loop.time(), False, ""
                try:
                    endpoint, ticket = await self._open(session)
                    planned = await self._serve(session, endpoint, ticket)
                    problem = "DingTalk asked to reconnect" if planned else "the connection closed"
                except CredentialsRejected as e:
                    self._set_state("stopped", str(e), logging.ERROR)
                    raise
                except (aiohttp.ClientError, TimeoutError, GatewayError, OSError) as e:
                    problem = f"{type(e).__name__}: {e}".rstrip(": ")
                if self._stop.is_set():
                    break
                if loop.time() - started >= self.backoff.stable_after:
                    attempt = 0
                delay = 0.0 if planned else self.backoff.delay(attempt, self._rand())
                attempt += 0 if planned else 1
                self._set_state("reconnecting", f"in {delay:.3g}s after {problem}", logging.WARNING)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
            self._set_state("stopped", "on request")
        except asyncio.CancelledError:
            self._set_state("stopped", "cancelled")
            raise
        finally:
            await self._cancel_handlers()
            if own:
                await session.close()

    async def stop(self) -> None:
        """Ask run() to end: closes the socket and interrupts a backoff wait."""
        self._stop.set()
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()

    # ------------------------------------------------------------------ one connection

    async def _open(self, session: aiohttp.ClientSession) -> tuple[str, str]:
        url = self.endpoint + GATEWAY_PATH
        body = {"clientId": self.client_id, "clientSecret": self._secret, "ua": "policybot-dingtalk/1 (aiohttp)",
                "subscriptions": [{"type": "CALLBACK", "topic": t} for t in self.topics]}
        timeout = aiohttp.ClientTimeout(total=self.connect_timeout)
        async with session.post(url, json=body, proxy=proxy_for(url), timeout=timeout) as resp:
            text = await resp.text()
        try:
            answer = json.loads(text)
        except ValueError:
            answer = {}
        answer = answer if isinstance(answer, dict) else {}
        if resp.status in (401, 403) or answer.get("code") in REJECTED_CODES:
            raise CredentialsRejected(
                f"DingTalk refused client_id/client_secret ({resp.status} {answer.get('code', '')} "
                f"{answer.get('message', '')}); check [dingtalk] client_id and client_secret "
                "(or POLICYBOT_DINGTALK_CLIENT_ID / POLICYBOT_DINGTALK_CLIENT_SECRET)")
        endpoint, ticket = answer.get("endpoint"), answer.get("ticket")
        if resp.status != 200 or not isinstance(endpoint, str) or not isinstance(ticket, str):
            raise GatewayError(f"gateway answered {resp.status}: {text[:200]}")
        if URL(endpoint).scheme not in ("ws", "wss"):
            raise GatewayError(f"gateway gave a non-WebSocket endpoint {endpoint[:200]}")
        return endpoint, ticket

    async def _serve(self, session: aiohttp.ClientSession, endpoint: str, ticket: str) -> bool:
        """Read frames until the socket closes; True when DingTalk announced the close (SYSTEM disconnect)."""
        url = str(URL(endpoint).update_query(ticket=ticket))
        async with asyncio.timeout(self.connect_timeout):
            ws = await session.ws_connect(url, heartbeat=self.heartbeat, max_msg_size=self.max_frame,
                                          proxy=proxy_for(url), autoping=True)
        self._ws = ws
        try:
            if self._stop.is_set():
                return False
            self._set_state("connected", URL(endpoint).host or endpoint)
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    if await self._on_frame(ws, msg.data):
                        return True
                elif msg.type == aiohttp.WSMsgType.ERROR:
                    raise aiohttp.ClientError(f"socket error: {ws.exception()}")
                else:
                    log.warning("%s: ignored a %s frame", self.name, msg.type.name)
            return False
        finally:
            self._ws = None
            await ws.close()

    async def _on_frame(self, ws: aiohttp.ClientWebSocketResponse, raw: str) -> bool:
        """ACK one frame and hand it on; True for SYSTEM disconnect."""
        frame = parse_frame(raw)
        if frame is None:
            log.warning("%s: ignored a malformed frame: %.200r", self.name, raw)
            return False
        kind, headers, data = frame.get("type"), frame["headers"], frame.get("data", "")
        message_id, topic = headers["messageId"], headers.get("topic", "")
        if kind == "SYSTEM":
            if topic == "disconnect":
                log.info("%s: DingTalk will close this connection: %.200s", self.name, data)
                return True
            await ws.send_str(ack(message_id, data))  # ping: echo its opaque
            return False
        try:
            decoded = json.loads(data) if data else {}
        except ValueError:
            decoded = None
        if kind not in ("CALLBACK", "EVENT") or not isinstance(decoded, dict):
            log.warning("%s: ignored a frame of type %r with unreadable data: %.200r", self.name, kind, raw)
            await ws.send_str(ack(message_id, json.dumps({"response": None}), 400, "bad request"))
            return False
        if kind == "CALLBACK" and topic not in self.topics:
            log.warning("%s: ignored a push for unsubscribed topic %r", self.name, topic)
            await ws.send_str(ack(message_id, json.dumps({"response": None}), 404, "topic not found"))
            return False
        # Robot messages are fire-and-forget for DingTalk (the ACK is diagnostic), so ACK first, then handle.
        reply = {"status": "SUCCESS", "message": "success"} if kind == "EVENT" else {"response": None}
        await ws.send_str(ack(message_id, json.dumps(reply)))
        task: asyncio.Task[None] = asyncio.create_task(self.handler(StreamEvent(kind, topic, message_id, decoded)))
        self._tasks.add(task)
        task.add_done_callback(self._handled)
        return False

    def _handled(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("%s: the handler failed", self.name, exc_info=error)

    async def _cancel_handlers(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _set_state(self, state: str, detail: str, level: int = logging.INFO) -> None:
        self.state = state
        self.history.append((state, detail))
        log.log(level, "%s stream %s: %s", self.name, state, detail)
