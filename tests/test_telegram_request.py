"""The Bot API client on aiohttp (bot/telegram/request.py) sends what PTB's httpx client sent, keeps its
timeouts and proxies, and fails with PTB's errors. A loopback server records the raw requests."""

from __future__ import annotations

import asyncio
import io
import socket
from dataclasses import dataclass

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest
from yarl import URL

from bot.config import Config, TelegramConfig
from bot.telegram.adapter import build_application
from bot.telegram.request import AiohttpRequest, env_proxy

TOKEN = "123:TEST"
ME = {"id": 123, "is_bot": True, "first_name": "PolicyBot", "username": "policy_test_bot"}
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@dataclass
class Recorded:
    method: str
    url: str
    host: str
    content_type: str
    headers: dict[str, str]
    body: bytes
    form: dict[str, object]


class Recorder:
    """Answers every Bot API call with a message (or after `delay` seconds) and records it."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.delay = 0.0
        self.server: TestServer | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self.handle)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}"

    async def handle(self, request: web.Request) -> web.Response:
        body, form = b"", dict[str, object]()
        if request.content_type != "multipart/form-data":
            body = await request.read()
        else:  # the parts, not the bytes: the boundary is random
            for key, value in (await request.post()).items():
                form[key] = ((value.filename, value.file.read(), value.content_type) if hasattr(value, "file")
                             else value)
        self.requests.append(Recorded(request.method, str(request.url), request.host, request.content_type,
                                      dict(request.headers), body, form))
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.path.endswith("/getMe"):
            return web.json_response({"ok": True, "result": ME})
        if request.path.endswith("/getUpdates"):
            return web.json_response({"ok": True, "result": []})
        return web.json_response({"ok": True, "result": {"message_id": 1, "date": 0,
                                                         "chat": {"id": 5, "type": "private"}}})

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()


@pytest.fixture
async def recorder():
    server = Recorder()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


async def send_both(recorder: Recorder, request: BaseRequest) -> None:
    """A message with HTML and a keyboard, and a document with a caption."""
    async with Bot(TOKEN, base_url=recorder.url + "/bot", request=request) as bot:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("确认 & 导入", callback_data="import:1:yes")]])
        await bot.send_message(5, "<b>碳达峰</b> 2030年前 &amp; 100%", parse_mode=ParseMode.HTML,
                               reply_markup=keyboard, disable_web_page_preview=True)
        await bot.send_document(5, io.BytesIO("名称,期限\n任务,2027-12-31\n".encode()), filename="任务.csv",
                                caption="导出：2 条")


async def test_requests_are_the_ones_httpx_sent(recorder: Recorder, no_proxy_env: pytest.MonkeyPatch) -> None:
    """Same methods, URLs, form-encoded bytes, User-Agent and multipart parts as PTB's own client."""
    await send_both(recorder, HTTPXRequest())
    await send_both(recorder, AiohttpRequest())
    by_httpx, by_aiohttp = recorder.requests[:3], recorder.requests[3:]
    assert [r.url.rsplit("/", 1)[1] for r in by_aiohttp] == ["getMe", "sendMessage", "sendDocument"]
    for old, new in zip(by_httpx, by_aiohttp, strict=True):
        assert (new.method, new.url, new.content_type) == (old.method, old.url, old.content_type)
        assert new.headers["User-Agent"] == old.headers["User-Agent"]
        if old.content_type == "multipart/form-data":
            assert new.form == old.form
        else:
            assert new.body == old.body
    sent = {r.url.rsplit("/", 1)[1]: r for r in by_aiohttp}
    assert sent["sendMessage"].content_type == "application/x-www-form-urlencoded"
    assert sent["sendDocument"].form["document"] == ("任务.csv", "名称,期限\n任务,2027-12-31\n".encode(), "text/csv")
    assert sent["sendDocument"].form["caption"] == "导出：2 条"


async def test_a_slow_answer_times_out_as_ptb_timed_out(recorder: Recorder, no_proxy_env: pytest.MonkeyPatch) -> None:
    async with Bot(TOKEN, base_url=recorder.url + "/bot", request=AiohttpRequest(read_timeout=0.2)) as bot:
        recorder.delay = 5.0
        with pytest.raises(TimedOut):
            await bot.send_message(5, "慢")


async def test_a_long_poll_may_take_its_timeout_beyond_the_read_timeout(recorder: Recorder,
                                                                       no_proxy_env: pytest.MonkeyPatch) -> None:
    """getUpdates waits up to `timeout` on Telegram's side: PTB adds it to this request's read timeout."""
    polls = AiohttpRequest(read_timeout=0.2)
    async with Bot(TOKEN, base_url=recorder.url + "/bot", get_updates_request=polls) as bot:
        recorder.delay = 1.0
        assert await bot.get_updates(timeout=3) == ()
        with pytest.raises(TimedOut):
            await bot.get_updates(timeout=0)


async def test_no_server_is_a_network_error(no_proxy_env: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
        assert not isinstance(raised.value, TimedOut)
    finally:
        await request.shutdown()


async def test_not_initialized_refuses_and_initializes_again_after_shutdown(recorder: Recorder,
                                                                             no_proxy_env: pytest.MonkeyPatch) -> None:
    request = AiohttpRequest()
    with pytest.raises(RuntimeError):
        await request.do_request(recorder.url + f"/bot{TOKEN}/getMe", "POST")
    await request.initialize()
    await request.shutdown()
    await request.initialize()
    try:
        assert (await request.do_request(recorder.url + f"/bot{TOKEN}/getMe", "POST"))[0] == 200
    finally:
        await request.shutdown()


def test_proxy_from_the_environment(no_proxy_env: pytest.MonkeyPatch) -> None:
    api = "https://api.telegram.org/bot1/getMe"
    assert env_proxy(api) is None
    no_proxy_env.setenv("HTTPS_PROXY", "http://alice:s3cret@proxy.example:3128")
    no_proxy_env.setenv("NO_PROXY", "files.example,localhost")
    assert env_proxy(api) == URL("http://alice:s3cret@proxy.example:3128")
    assert env_proxy("https://files.example/file/bot1/a.txt") is None
    assert env_proxy("http://api.telegram.org/bot1/getMe") is None  # no HTTP_PROXY, no ALL_PROXY
    no_proxy_env.setenv("ALL_PROXY", "proxy.example:8080")
    assert env_proxy("http://api.telegram.org/bot1/getMe") == URL("http://proxy.example:8080")


async def test_requests_go_through_the_proxy(recorder: Recorder, no_proxy_env: pytest.MonkeyPatch) -> None:
    """HTTP_PROXY is used, with its credentials; the request names the real server."""
    no_proxy_env.setenv("HTTP_PROXY", recorder.url.replace("http://", "http://alice:s3cret@"))
    async with Bot(TOKEN, base_url="http://telegram.invalid/bot", request=AiohttpRequest()) as bot:
        await bot.send_message(5, "经代理")
    assert recorder.requests, "nothing reached the proxy"
    sent = recorder.requests[-1]
    assert sent.host == "telegram.invalid" and sent.url.endswith("/sendMessage")
    assert sent.headers["Proxy-Authorization"] == "Basic YWxpY2U6czNjcmV0"  # alice:s3cret


def test_the_application_uses_it_for_sends_and_updates() -> None:
    app = build_application(Config(telegram=TelegramConfig(token=TOKEN)))
    assert isinstance(app.bot.request, AiohttpRequest)
    assert all(isinstance(r, AiohttpRequest) for r in app.bot._request)  # [0] is getUpdates'
