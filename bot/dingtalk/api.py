"""钉钉 OpenAPI calls for replies and pushes: the app's access token, session-webhook replies, robot messages.

Failures come back as exceptions the caller can act on: TooFast (DingTalk's rate limits: wait and retry),
SessionExpired (reply through the robot API instead), Refused (anything else DingTalk turned down).
Limits and codes: https://open.dingtalk.com/document/development/how-to-process-api-throttling-on-the-dingtalk-server
(20 calls/s per app and API; 403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi, QpsLimitForApi for the
platform-wide limit; 90018 / 90002 on the old oapi host); custom/session robots: 130101 "send too fast".
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.dingtalk.client import proxy_for

TOO_FAST_CODES = {"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "Forbidden.AccessDenied.QpsLimitForApi",
                  90018, 90002, 130101}
EXPIRED_SESSION = 300001
MAX_PRIVATE_RECIPIENTS = 20  # oToMessages/batchSend takes at most 20 userIds


class DingTalkError(Exception):
    """DingTalk answered with an error; `code` is its errcode or code string."""

    def __init__(self, status: int, code: Any, message: str) -> None:
        super().__init__(f"{status} {code} {message}".strip())
        self.status, self.code, self.message = status, code, message


class TooFast(DingTalkError):
    """A DingTalk rate limit: retry after a pause (DingTalk's limits are per second or per minute)."""


class SessionExpired(DingTalkError):
    """The message's session webhook is gone (errcode 300001): use the robot message API."""


class Refused(DingTalkError):
    """Any other refusal: bad credentials, robot not in the group, malformed message…"""


class DingTalkApi:
    """One per app; shares the bot's ClientSession. `endpoint` is the OpenAPI base (https://api.dingtalk.com)."""

    def __init__(self, client_id: str, client_secret: str, session: aiohttp.ClientSession, *, robot_code: str = "",
                 endpoint: str = "https://api.dingtalk.com", timeout: float = 15.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client_id, self._secret = client_id, client_secret
        self.robot_code = robot_code or client_id
        self.endpoint = endpoint.rstrip("/")
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock
        self._token: tuple[str, float] | None = None  # (token, refresh at)
        self._token_lock = asyncio.Lock()

    async def access_token(self) -> str:
        """The app's token, fetched once and renewed five minutes before it expires."""
        async with self._token_lock:
            if self._token is None or self._clock() >= self._token[1]:
                status, answer = await self._post(self.endpoint + "/v1.0/oauth2/accessToken",
                                                  {"appKey": self.client_id, "appSecret": self._secret})
                token, expires = answer.get("accessToken"), answer.get("expireIn")
                if status != 200 or not isinstance(token, str) or not isinstance(expires, int):
                    raise _error(status, answer)
                self._token = (token, self._clock() + max(expires - 300, 0))
            return self._token[0]

    async def reply(self, session_webhook: str, message: dict) -> None:
        """Post a webhook message ({"msgtype": "markdown", "markdown": {...}} etc.) to a session webhook."""
        status, answer = await self._post(session_webhook, message)
        if status != 200 or answer.get("errcode") != 0:
            raise _error(status, answer)

    async def send_group(self, open_conversation_id: str, msg_key: str, msg_param: dict) -> str:
        """A robot message to a group the robot is in; returns DingTalk's processQueryKey."""
        answer = await self._robot("/v1.0/robot/groupMessages/send", {
            "robotCode": self.robot_code, "openConversationId": open_conversation_id,
            "msgKey": msg_key, "msgParam": json.dumps(msg_param, ensure_ascii=False)})
        return str(answer.get("processQueryKey", ""))

    async def send_private(self, user_ids: list[str], msg_key: str, msg_param: dict) -> dict:
        """A robot message to up to 20 staff ids in their chats with the robot; DingTalk's answer as is."""
        if not 1 <= len(user_ids) <= MAX_PRIVATE_RECIPIENTS:
            raise ValueError(f"batchSend takes 1 to {MAX_PRIVATE_RECIPIENTS} userIds, got {len(user_ids)}")
        return await self._robot("/v1.0/robot/oToMessages/batchSend", {
            "robotCode": self.robot_code, "userIds": user_ids,
            "msgKey": msg_key, "msgParam": json.dumps(msg_param, ensure_ascii=False)})

    async def _robot(self, path: str, body: dict) -> dict:
        for attempt in (1, 2):
            token = await self.access_token()
            status, answer = await self._post(self.endpoint + path, body, {"x-acs-dingtalk-access-token": token})
            if status == 200:
                return answer
            if attempt == 1 and answer.get("code") == "InvalidAuthentication":
                self._token = None  # revoked or expired early: fetch a new one once
                continue
            raise _error(status, answer)
        raise AssertionError("unreachable")

    async def _post(self, url: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
        async with self._session.post(url, json=body, headers=headers, proxy=proxy_for(url),
                                      timeout=self._timeout) as resp:
            text = await resp.text()
        try:
            answer = json.loads(text)
        except ValueError:
            answer = {"message": text[:200]}
        return resp.status, answer if isinstance(answer, dict) else {"message": text[:200]}


def _error(status: int, answer: dict) -> DingTalkError:
    code = answer.get("code", answer.get("errcode"))
    message = str(answer.get("message", answer.get("errmsg", "")))
    if code in TOO_FAST_CODES:
        return TooFast(status, code, message)
    if code == EXPIRED_SESSION:
        return SessionExpired(status, code, message)
    return Refused(status, code, message)
