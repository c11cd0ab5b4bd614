"""Where reminders go besides the apps' own channels (bot/): a WeCom / DingTalk / Feishu group robot's webhook.

Each channel turns lines into its platform's message, sends it within the platform's limits, retries
what can be retried (rate limits, network errors) and says which failures are for good, so that the
service can disable a destination that will never work again (bot removed, robot deleted).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

import aiohttp
from aiolimiter import AsyncLimiter

from knowledge.answer import Line
from reminders.messages import TITLE
from reminders.models import Subscription

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]

ATTEMPTS = 4  # tries per message for rate limits and network errors
BACKOFF = 1.0  # seconds before the 2nd try; doubles


@dataclass(frozen=True)
class SendResult:
    ok: bool
    permanent: bool = False  # never retry; disable the destination when `disable` too
    disable: bool = False
    detail: str = ""
    migrated_to: int | None = None
    unconfirmed: bool = False  # it may have arrived (no answer came): keep the claim, the next run resends it marked

    @classmethod
    def sent(cls) -> SendResult:
        return cls(True)


# ---------------------------------------------------------------------- group robots


@dataclass(frozen=True)
class RobotLimits:
    per_period: float
    period: float  # seconds
    rate_codes: frozenset[int]  # platform codes that mean "too fast"
    fatal_codes: frozenset[int]  # codes that mean the robot or its URL or secret is wrong for good


ROBOT_LIMITS = {
    # 企业微信: 20 messages/min per robot; 45009 = frequency limit, 93000 = invalid webhook
    "wecom": RobotLimits(20, 60, frozenset({45009}), frozenset({93000, 40008})),
    # 钉钉: 20 messages/min per robot; 130101 = too fast; 300001 token / 310000 sign, keyword or IP rejected
    "dingtalk": RobotLimits(20, 60, frozenset({130101}), frozenset({300001, 310000, 400101, 400102})),
    # 飞书: 5/s and 100/min per robot; 9499 = too many requests; 19001 bad hook, 19021 sign mismatch, 19024 keyword
    "feishu": RobotLimits(100, 60, frozenset({9499, 11232}), frozenset({19001, 19002, 19021, 19022, 19024})),
}
RATE_LIMIT_WAIT = 61.0  # seconds to wait after a robot says "too fast" (their windows are a minute)


def detect_channel(url: str) -> str | None:
    """wecom | dingtalk | feishu from the robot URL's host or path; None if it is none of them."""
    parsed = urlparse(url)
    host, path = parsed.hostname or "", parsed.path
    if host.endswith("qyapi.weixin.qq.com") or path.startswith("/cgi-bin/webhook/send"):
        return "wecom"
    if host.endswith("oapi.dingtalk.com") or path.startswith("/robot/send"):
        return "dingtalk"
    if host.endswith(("open.feishu.cn", "open.larksuite.com")) or path.startswith("/open-apis/bot/v2/hook/"):
        return "feishu"
    return None


def dingtalk_signed_url(url: str, secret: str, now_ms: int) -> str:
    """钉钉 加签: timestamp and sign = base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")) as query params."""
    digest = hmac.new(secret.encode(), f"{now_ms}\n{secret}".encode(), hashlib.sha256).digest()
    parsed = urlparse(url)
    query = [(k, v) for k, v in parse_qsl(parsed.query) if k not in ("timestamp", "sign")]
    query += [("timestamp", str(now_ms)), ("sign", base64.b64encode(digest).decode())]
    return urlunparse(parsed._replace(query=urlencode(query)))


def feishu_sign(secret: str, now_s: int) -> str:
    """飞书 签名校验: base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", message=b""))."""
    return base64.b64encode(hmac.new(f"{now_s}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()


def feishu_delay(now: datetime) -> float:
    """Seconds to wait so that a Feishu push is not at :00 or :30 (their busiest seconds)."""
    into_half_hour = (now.minute % 30) * 60 + now.second + now.microsecond / 1e6
    if into_half_hour < 60:
        return 60 - into_half_hour + 7
    if into_half_hour > 1790:
        return 1800 - into_half_hour + 67
    return 0.0


def robot_payload(channel: str, lines: list[Line]) -> dict:
    """The message body each platform expects (text within its size limit)."""
    if channel == "feishu":
        return {"msg_type": "text", "content": {"text": _clip_bytes("\n".join(x.text for x in lines), 30_000)}}
    markdown = [f"**{x.text}**" if x.strong else x.text for x in lines]
    if channel == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": _clip_bytes("\n".join(markdown), 4000)}}
    return {"msgtype": "markdown", "markdown": {"title": TITLE, "text": _clip_bytes("\n\n".join(markdown), 18_000)}}


def _clip_bytes(text: str, limit: int) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode(errors="ignore").rsplit("\n", 1)[0] + "\n…"


class RobotChannel:
    """POSTs to WeCom / DingTalk / Feishu group robots with aiohttp, one limiter per robot URL."""

    def __init__(self, http: aiohttp.ClientSession, sleep: Sleep = asyncio.sleep,
                 clock: Callable[[], datetime] = datetime.now, rate_limit_wait: float = RATE_LIMIT_WAIT) -> None:
        self.http = http
        self.sleep = sleep
        self.clock = clock
        self.rate_limit_wait = rate_limit_wait
        self._limiters: dict[str, AsyncLimiter] = {}

    def _limiter(self, sub: Subscription) -> AsyncLimiter:
        limits = ROBOT_LIMITS[sub.channel]
        # max_rate 1: evenly spaced, no bursts that a strict per-minute window would refuse
        return self._limiters.setdefault(sub.webhook_url, AsyncLimiter(1, limits.period / limits.per_period))

    async def send(self, subscription: Subscription, lines: list[Line]) -> SendResult:
        limits = ROBOT_LIMITS[subscription.channel]
        payload = robot_payload(subscription.channel, lines)
        delay, detail = BACKOFF, ""
        for attempt in range(1, ATTEMPTS + 1):
            if subscription.channel == "feishu" and (wait := feishu_delay(self.clock())):
                await self.sleep(wait)
            async with self._limiter(subscription):
                url, body = self._signed(subscription, payload)
                try:
                    async with self.http.post(url, json=body) as response:
                        status = response.status
                        text = await response.text()
                except (aiohttp.ClientError, TimeoutError) as e:
                    status, text = 0, f"{type(e).__name__}: {e}"
            code = _platform_code(text)
            if status == 200 and code == 0:
                return SendResult.sent()
            detail = f"HTTP {status}, code {code}: {text[:200]}"
            if code in limits.fatal_codes or status in (400, 401, 403, 404, 410):
                return SendResult(False, permanent=True, disable=True, detail=detail)
            if attempt == ATTEMPTS:
                break
            if code in limits.rate_codes or status == 429:
                await self.sleep(self.rate_limit_wait)
            else:
                await self.sleep(delay)
                delay *= 2
        return SendResult(False, detail=detail)

    def _signed(self, sub: Subscription, payload: dict) -> tuple[str, dict]:
        if not sub.secret:
            return sub.webhook_url, payload
        if sub.channel == "dingtalk":
            return dingtalk_signed_url(sub.webhook_url, sub.secret, int(time.time() * 1000)), payload
        if sub.channel == "feishu":
            now_s = int(time.time())
            return sub.webhook_url, {"timestamp": str(now_s), "sign": feishu_sign(sub.secret, now_s), **payload}
        return sub.webhook_url, payload


def _platform_code(text: str) -> int | None:
    try:
        body = json.loads(text)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    for key in ("errcode", "code", "StatusCode"):
        if isinstance(body.get(key), int):
            return body[key]
    return None
