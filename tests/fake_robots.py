"""Fake WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书) group-robot webhooks on loopback.

Each checks what the real one checks — the message format, DingTalk's and Feishu's signatures and
clock skew — answers with the platform's own error codes, and applies its rate limit
(20/min per robot for WeCom and DingTalk, 5/s for Feishu)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

ROBOT_SECRET = "SEC-test-secret"


@dataclass
class Push:
    platform: str
    key: str
    body: dict
    accepted: bool


@dataclass
class FakeRobots:
    pushes: list[Push] = field(default_factory=list)
    dead_keys: set[str] = field(default_factory=set)  # robots that were deleted
    rate_limits: bool = True
    _times: dict[str, list[float]] = field(default_factory=dict)
    _server: TestServer | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/cgi-bin/webhook/send", self._wecom)
        app.router.add_post("/robot/send", self._dingtalk)
        app.router.add_post("/open-apis/bot/v2/hook/{key}", self._feishu)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        if self._server:
            await self._server.close()

    def url(self, platform: str, key: str = "k1") -> str:
        assert self._server
        base = f"http://127.0.0.1:{self._server.port}"
        return {"wecom": f"{base}/cgi-bin/webhook/send?key={key}", "dingtalk": f"{base}/robot/send?access_token={key}",
                "feishu": f"{base}/open-apis/bot/v2/hook/{key}"}[platform]

    def accepted(self, platform: str | None = None) -> list[Push]:
        return [p for p in self.pushes if p.accepted and (platform is None or p.platform == platform)]

    def _too_fast(self, key: str, limit: int, period: float) -> bool:
        if not self.rate_limits:
            return False
        now = time.monotonic()
        times = self._times.setdefault(key, [])
        times[:] = [t for t in times if now - t < period]
        if len(times) >= limit:
            return True
        times.append(now)
        return False

    def _record(self, platform: str, key: str, body: Any, accepted: bool) -> None:
        self.pushes.append(Push(platform, key, body if isinstance(body, dict) else {}, accepted))

    async def _wecom(self, request: web.Request) -> web.Response:
        key, body = request.query.get("key", ""), await request.json()
        if key in self.dead_keys:
            return self._answer("wecom", key, body, {"errcode": 93000, "errmsg": "invalid webhook url"})
        content = (body.get("markdown") or {}).get("content") if body.get("msgtype") == "markdown" else None
        if not content or len(content.encode()) > 4096:
            return self._answer("wecom", key, body, {"errcode": 40058, "errmsg": "invalid markdown content"})
        if self._too_fast("wecom:" + key, 20, 60):
            return self._answer("wecom", key, body, {"errcode": 45009, "errmsg": "api freq out of limit"})
        return self._answer("wecom", key, body, {"errcode": 0, "errmsg": "ok"}, accepted=True)

    async def _dingtalk(self, request: web.Request) -> web.Response:
        key, body = request.query.get("access_token", ""), await request.json()
        timestamp, sign = request.query.get("timestamp", ""), request.query.get("sign", "")
        expected = base64.b64encode(hmac.new(ROBOT_SECRET.encode(), f"{timestamp}\n{ROBOT_SECRET}".encode(),
                                             hashlib.sha256).digest()).decode()
        if not timestamp or abs(time.time() * 1000 - int(timestamp)) > 3600_000 or sign != expected:
            return self._answer("dingtalk", key, body, {"errcode": 310000, "errmsg": "sign not match"})
        markdown = body.get("markdown") or {}
        if body.get("msgtype") != "markdown" or not markdown.get("title") or not markdown.get("text"):
            return self._answer("dingtalk", key, body, {"errcode": 40035, "errmsg": "missing parameter"})
        if self._too_fast("dingtalk:" + key, 20, 60):
            return self._answer("dingtalk", key, body, {"errcode": 130101, "errmsg": "send too fast"})
        return self._answer("dingtalk", key, body, {"errcode": 0, "errmsg": "ok"}, accepted=True)

    async def _feishu(self, request: web.Request) -> web.Response:
        key, body = request.match_info["key"], await request.json()
        if key in self.dead_keys:
            return self._answer("feishu", key, body, {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"})
        timestamp = body.get("timestamp", "")
        expected = base64.b64encode(hmac.new(f"{timestamp}\n{ROBOT_SECRET}".encode(), b"", hashlib.sha256).digest()).decode()
        if not timestamp or abs(time.time() - int(timestamp)) > 3600 or body.get("sign") != expected:
            return self._answer("feishu", key, body, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"})
        if body.get("msg_type") != "text" or not (body.get("content") or {}).get("text"):
            return self._answer("feishu", key, body, {"code": 9499, "msg": "Bad Request"})
        if self._too_fast("feishu:" + key, 5, 1):
            return self._answer("feishu", key, body, {"code": 11232, "msg": "frequency limited"})
        return self._answer("feishu", key, body, {"code": 0, "msg": "success", "data": {}}, accepted=True)

    def _answer(self, platform: str, key: str, body: Any, reply: dict, accepted: bool = False) -> web.Response:
        self._record(platform, key, body, accepted)
        return web.json_response(reply)
