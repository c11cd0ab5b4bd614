"""飞书's message APIs as the app's bot: tenant_access_token, im.v1.message.create and .reply.

Used by the adapter (replies) and its channel (reminders); the long connection is bot/feishu/client.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bot.feishu.client import FEISHU_DOMAIN, FeishuCredentialError, env_proxy_for

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
TOKEN_CODES = {99991661, 99991663, 99991664, 99991668}   # missing, invalid or expired tenant_access_token
SECRET_CODES = {10003, 10014}                            # the app or its secret is unknown
CHAT_TOO_FAST = 230020                                   # more than 5 messages/s to one chat or user
APP_TOO_FAST = 99991400                                  # over the app's 50/s or 1000/min (HTTP 429)


class FeishuApiError(Exception):
    def __init__(self, code: int | None, msg: str) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code


class FeishuApi:
    """Send and reply as the app's bot, with the token cached and Feishu's "too fast" answers waited out.

    Pacing below the limits is the dispatcher's job; this only retries (up to `retries` times) when Feishu says
    too fast: after x-ogw-ratelimit-reset seconds for 99991400, after one second for 230020."""

    def __init__(self, app_id: str, app_secret: str, *, domain: str = FEISHU_DOMAIN,
                 session: aiohttp.ClientSession | None = None, retries: int = 3, request_timeout: float = 15.0,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app_id, self._secret = app_id, app_secret
        self.domain = domain.rstrip("/")
        self._session, self._own_session = session, session is None
        self._retries, self._timeout = retries, aiohttp.ClientTimeout(total=request_timeout)
        self._sleep, self._clock = sleep, clock
        self._token: tuple[str, float] | None = None
        self._token_lock = asyncio.Lock()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def check_credentials(self) -> None:
        """Fetch a tenant token: FeishuCredentialError when Feishu refuses app_id/app_secret."""
        await self._tenant_token()

    async def send(self, chat_id: str, msg_type: str, content: dict, *, uuid: str | None = None) -> str:
        """Post a message to a chat (im.v1.message.create); return its message_id. Same uuid within 1 h: sent once."""
        body = {"receive_id": chat_id, "msg_type": msg_type, "content": json.dumps(content, ensure_ascii=False)}
        return await self._message("/open-apis/im/v1/messages?receive_id_type=chat_id", body, uuid)

    async def reply(self, message_id: str, msg_type: str, content: dict, *, uuid: str | None = None) -> str:
        """Reply to a message (im.v1.message.reply); return the reply's message_id."""
        body = {"msg_type": msg_type, "content": json.dumps(content, ensure_ascii=False)}
        return await self._message(f"/open-apis/im/v1/messages/{message_id}/reply", body, uuid)

    async def _message(self, path: str, body: dict, uuid: str | None) -> str:
        if uuid:
            body["uuid"] = uuid
        answer = await self._call(path, body)
        data = answer.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("message_id"), str):
            raise FeishuApiError(answer.get("code"), "no message_id in the answer")
        return data["message_id"]

    async def _call(self, path: str, body: dict) -> dict:
        refreshed, attempt = False, 0
        while True:
            token = await self._tenant_token()
            status, headers, answer = await self._post(path, body, {"Authorization": f"Bearer {token}"})
            code = answer.get("code")
            if code == 0:
                return answer
            if code in TOKEN_CODES and not refreshed:
                refreshed, self._token = True, None
                continue
            too_fast = code in (APP_TOO_FAST, CHAT_TOO_FAST) or status == 429
            if not too_fast or attempt >= self._retries:
                raise FeishuApiError(code, str(answer.get("msg", "")))
            attempt += 1
            await self._sleep(1.0 if code == CHAT_TOO_FAST else _reset_seconds(headers))

    async def _tenant_token(self) -> str:
        async with self._token_lock:
            if self._token is not None and self._clock() < self._token[1]:
                return self._token[0]
            _, _, answer = await self._post(TOKEN_PATH, {"app_id": self.app_id, "app_secret": self._secret}, {})
            code, token = answer.get("code"), answer.get("tenant_access_token")
            if code in SECRET_CODES:
                raise FeishuCredentialError(f"Feishu refused the credentials (code {code}): check [feishu] app_id "
                                            "and app_secret (or POLICYBOT_FEISHU_APP_ID / POLICYBOT_FEISHU_APP_SECRET)")
            if code != 0 or not isinstance(token, str):
                raise FeishuApiError(code, str(answer.get("msg", "no tenant_access_token")))
            expire = answer.get("expire")
            lifetime = expire if isinstance(expire, int) else 7200
            self._token = (token, self._clock() + max(60, lifetime - 300))  # renewed 5 min before it lapses
            return token

    async def _post(self, path: str, body: dict, headers: dict) -> tuple[int, Any, dict]:
        if self._session is None:
            self._session = aiohttp.ClientSession(trust_env=True)
        url = self.domain + path
        try:
            async with self._session.post(url, json=body, headers=headers, proxy=env_proxy_for(url),
                                          timeout=self._timeout) as resp:
                text = await resp.text()
                status, resp_headers = resp.status, resp.headers
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise FeishuApiError(None, f"{path} unreachable: {exc!r}") from exc
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise FeishuApiError(None, f"{path} answered HTTP {status}, not JSON")
        return status, resp_headers, answer


def _reset_seconds(headers: Any) -> float:
    try:
        return max(0.0, float(headers.get("x-ogw-ratelimit-reset", 1)))
    except (TypeError, ValueError):
        return 1.0
