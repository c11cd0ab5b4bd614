"""Our 企业微信 long-connection client (bot/wecom/client.py) against the fake, plus its pure parts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl

import aiohttp
import pytest
from fakes.wecom import BOT_NAME, ERR_TOO_FAST, FakeWeCom

from bot.wecom.client import (
    MAX_FRAME_CHARS,
    WeComClient,
    WeComCredentialError,
    WeComNotConnected,
    WeComReplaced,
    WeComRequestError,
    WeComTimeout,
)
from bot.wecom.protocol import Backoff, WeComMessage, bypasses_proxy, parse_callback, proxy_for, strip_mention

BOT, SECRET = "aibTESTBOT", "test-secret"
FAST = Backoff(base=0.01, cap=0.05)


# ---------------------------------------------------------------- pure parts

def test_parse_a_single_chat_text():
    message = parse_callback({"cmd": "aibot_msg_callback", "headers": {"req_id": "r1"}, "body": {
        "msgid": "m1", "aibotid": BOT, "chattype": "single", "from": {"userid": "zhangsan"},
        "msgtype": "text", "text": {"content": " 碳达峰 "}}})
    assert (message.req_id, message.chat_id, message.chat_type, message.user_id, message.text) == (
        "r1", "zhangsan", "single", "zhangsan", "碳达峰")
    assert not message.is_group and message.event_type == ""


def test_parse_a_group_message_drops_the_mention_and_keeps_the_chatid():
    message = parse_callback({"headers": {"req_id": "r2"}, "body": {
        "msgid": "m2", "chatid": "wrG1", "chattype": "group", "from": {"userid": "lisi"},
        "msgtype": "mixed", "mixed": {"msg_item": [
            {"msgtype": "text", "text": {"content": f"@{BOT_NAME} 谁牵头？"}},
            {"msgtype": "image", "image": {"url": "https://example.invalid/i"}}]}}})
    assert (message.chat_id, message.user_id, message.text, message.is_group) == ("wrG1", "lisi", "谁牵头？", True)


def test_parse_a_card_click_reads_the_nested_event():
    message = parse_callback({"headers": {"req_id": "r3"}, "body": {
        "msgid": "m3", "create_time": 1700000000, "chatid": "wrG1", "chattype": "group",
        "from": {"corpid": "wpX", "userid": "wangwu"}, "msgtype": "event",
        "event": {"eventtype": "template_card_event", "template_card_event": {
            "card_type": "button_interaction", "event_key": "page:2", "task_id": "t-9"}}}})
    assert (message.msgtype, message.event_type, message.event_key, message.task_id) == (
        "event", "template_card_event", "page:2", "t-9")


@pytest.mark.parametrize("frame", [
    {},
    {"headers": {"req_id": "r"}, "body": "x"},
    {"headers": {"req_id": "r"}, "body": {"chattype": "single", "msgtype": "text"}},  # no from.userid
    {"headers": {}, "body": {"from": {"userid": "u"}}},  # no req_id
    {"headers": {"req_id": "r"}, "body": {"chattype": "group", "from": {"userid": "u"}}},  # group without chatid
])
def test_parse_refuses_frames_it_cannot_answer(frame):
    with pytest.raises(ValueError):
        parse_callback(frame)


@pytest.mark.parametrize(("text", "question"), [
    (f"@{BOT_NAME} 碳达峰", "碳达峰"), ("碳达峰", "碳达峰"), (f"@{BOT_NAME}", ""), ("  @某人  问题 ", "问题")])
def test_strip_mention(text, question):
    assert strip_mention(text) == question


@pytest.mark.parametrize(("url", "environ", "proxy"), [
    ("wss://openws.work.weixin.qq.com", {"HTTPS_PROXY": "http://proxy:3128"}, "http://proxy:3128"),
    ("wss://openws.work.weixin.qq.com", {"https_proxy": "http://p:1", "HTTP_PROXY": "http://q:2"}, "http://p:1"),
    ("wss://openws.work.weixin.qq.com", {"HTTP_PROXY": "http://q:2"}, None),
    ("ws://ws.gov.example", {"HTTP_PROXY": "http://q:2"}, "http://q:2"),
    ("wss://openws.work.weixin.qq.com", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".weixin.qq.com"}, None),
    ("wss://openws.work.weixin.qq.com", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "example.org"}, "http://p:1"),
    ("ws://127.0.0.1:8080/", {"HTTP_PROXY": "http://q:2"}, None),
    ("wss://openws.work.weixin.qq.com", {}, None),
])
def test_proxy_for(url, environ, proxy):
    assert proxy_for(url, environ) == proxy


@pytest.mark.parametrize(("no_proxy", "bypassed"), [
    ("*", True), (".weixin.qq.com", True), ("weixin.qq.com", True), ("qq.com:443", True),
    ("example.org, openws.work.weixin.qq.com", True), ("eixin.qq.com", False), ("example.org", False), ("", False)])
def test_no_proxy(no_proxy, bypassed):
    assert bypasses_proxy("openws.work.weixin.qq.com", no_proxy) is bypassed


def test_backoff_grows_to_its_cap_with_jitter_in_the_upper_half():
    backoff = Backoff(base=1.0, cap=60.0)
    assert [backoff.delay(n, 1.0) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert [backoff.delay(n, 0.0) for n in range(3)] == [0.5, 1, 2]
    assert backoff.delay(10_000, 0.5) == 45.0


def test_missing_credentials_or_a_bad_url_name_the_setting():
    async def ignore(_: WeComMessage) -> None: ...
    with pytest.raises(ValueError, match=r"\[wecom\] bot_id / secret"):
        WeComClient("", "", ignore)
    with pytest.raises(ValueError, match=r"\[wecom\] ws_url"):
        WeComClient(BOT, SECRET, ignore, ws_url="https://openws.work.weixin.qq.com")


# ---------------------------------------------------------------- against the fake

@pytest.fixture
async def fake():
    server = FakeWeCom(BOT, SECRET)
    await server.start()
    yield server
    await server.close()


class Bot:
    """A client with an answering callback: it replies to every message with markdown."""

    def __init__(self, fake: FakeWeCom, secret: str = SECRET, **options) -> None:
        self.received: asyncio.Queue[WeComMessage] = asyncio.Queue()
        self.client = WeComClient(BOT, secret, self.on_message, ws_url=fake.ws_url, backoff=FAST, environ={},
                                  request_timeout=2.0, **options)
        self.fail_next = False

    async def on_message(self, message: WeComMessage) -> None:
        self.received.put_nowait(message)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("handler bug")
        if message.msgtype == "text":
            await self.client.reply_markdown(message.req_id, f"答：{message.text}")

    async def next(self) -> WeComMessage:
        return await asyncio.wait_for(self.received.get(), 5)

    async def __aenter__(self) -> Bot:
        self.client.start()
        await self.client.wait_connected(5)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.stop()


def replies(fake: FakeWeCom) -> list[str]:
    return [f.body["stream"]["content"] for f in fake.accepted("aibot_respond_msg")]


async def test_a_group_question_is_received_parsed_and_answered(fake):
    async with Bot(fake) as bot:
        subscribe = fake.received("aibot_subscribe")[0]
        assert subscribe.body == {"bot_id": BOT, "secret": SECRET} and subscribe.errcode == 0
        pushed = await fake.push_text("碳达峰目标？", chattype="group", chatid="wrG7", userid="lisi")
        message = await bot.next()
        assert (message.chat_id, message.user_id, message.text) == ("wrG7", "lisi", "碳达峰目标？")
        (reply,) = await fake.wait_for("aibot_respond_msg", predicate=lambda f: f.errcode == 0)
        assert reply.req_id == pushed["headers"]["req_id"]
        assert reply.body["msgtype"] == "stream" and reply.body["stream"]["finish"] is True
        assert replies(fake) == ["答：碳达峰目标？"]


async def test_cards_welcome_and_pushes(fake):
    async with Bot(fake) as bot:
        await fake.push_card_click("page:2", "t-1", userid="lisi", chattype="group", chatid="wrG7")
        click = await bot.next()
        assert (click.event_type, click.event_key, click.task_id, click.chat_id) == (
            "template_card_event", "page:2", "t-1", "wrG7")
        card = {"card_type": "text_notice", "task_id": "t-1", "main_title": {"title": "第 2 页"}}
        assert (await bot.client.update_template_card(click.req_id, card))["errcode"] == 0
        await fake.push_enter_chat("wangwu")
        enter = await bot.next()
        assert (await bot.client.reply_welcome(enter.req_id, "您好"))["errcode"] == 0
        await bot.client.send_markdown("wrG7", "**提醒**：明天截止")
        await bot.client.send_template_card("wangwu", card)
        pushes = fake.accepted("aibot_send_msg")
        assert [(f.body["chatid"], f.body["msgtype"]) for f in pushes] == [("wrG7", "markdown"), ("wangwu", "template_card")]
        # an answer to a req_id that does not allow it comes back as the server's error
        with pytest.raises(WeComRequestError):
            await bot.client.update_template_card(enter.req_id, card)


async def test_too_fast_is_reported_as_such():
    fake = FakeWeCom(BOT, SECRET, per_chat_per_minute=1)
    await fake.start()
    try:
        async with Bot(fake) as bot:
            await bot.client.send_markdown("wrG7", "一")
            with pytest.raises(WeComRequestError) as refused:
                await bot.client.send_markdown("wrG7", "二")
            assert refused.value.too_fast and refused.value.errcode == ERR_TOO_FAST
    finally:
        await fake.close()


@pytest.mark.parametrize("server_hangs_up", [False, True])
async def test_a_wrong_secret_stops_with_one_line_naming_the_setting(fake, caplog, server_hangs_up):
    fake.close_on_bad_credential = server_hangs_up
    bot = Bot(fake, secret="wrong")
    caplog.set_level(logging.INFO, logger="bot.wecom.client")
    task = bot.client.start()
    with pytest.raises(WeComCredentialError, match=r"\[wecom\] bot_id / secret"):
        await bot.client.wait_connected(5)
    assert task.done() and bot.client.state == "stopped"
    await bot.client.stop()
    assert len(fake.received("aibot_subscribe")) == 1  # no retry
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "POLICYBOT_WECOM_SECRET" in errors[0].getMessage()


async def test_a_too_frequent_subscribe_is_retried(fake):
    fake.rejected_subscribes = 2
    async with Bot(fake):
        assert [f.errcode for f in fake.received("aibot_subscribe")] == [ERR_TOO_FAST, ERR_TOO_FAST, 0]


@pytest.mark.parametrize("close", ["1000", "1001", "drop"])
async def test_reconnects_after_any_close_and_answers_the_next_message(fake, close):
    async with Bot(fake) as bot:
        if close == "drop":
            await fake.drop()
        else:
            await fake.close_clean(int(close))
        await fake.wait_subscribed(after=1)
        await fake.push_text("还在吗")
        assert (await bot.next()).text == "还在吗"
        await fake.wait_for("aibot_respond_msg", predicate=lambda f: f.errcode == 0)
        assert replies(fake) == ["答：还在吗"]


async def test_heartbeats_and_a_dead_connection(fake):
    async with Bot(fake, heartbeat=0.01):
        pings = await fake.wait_for("ping", 3)
        assert all(p.errcode == 0 and p.req_id.startswith("ping") for p in pings)
        fake.answer_pings = False  # the server stops answering: after two unanswered pings the client reconnects
        await fake.wait_subscribed(after=1, timeout=5)


async def test_state_changes_are_logged_once_each(fake, caplog):
    caplog.set_level(logging.INFO, logger="bot.wecom.client")
    async with Bot(fake):
        await fake.close_clean(1000)
        await fake.wait_subscribed(after=1)
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.wecom.client"]
    states = [line.split(": ", 1)[1].split(" ")[0] for line in lines]
    assert states == ["connecting", "connected", "reconnecting", "connected", "stopped"]


async def test_bad_frames_are_logged_once_and_ignored(fake, caplog):
    caplog.set_level(logging.WARNING, logger="bot.wecom.client")
    async with Bot(fake) as bot:
        await fake.push_raw("{not json")
        await fake.push_raw("[1, 2]")
        await fake.push_unknown_cmd()
        await fake.push_raw(json.dumps({"cmd": "aibot_msg_callback", "headers": {"req_id": "r"}, "body": {}}))
        await fake.push_oversized(MAX_FRAME_CHARS + 1000)
        await fake.push_text("正常问题")
        assert (await bot.next()).text == "正常问题"  # the bad frames before it reached no handler
        await fake.wait_for("aibot_respond_msg", predicate=lambda f: f.errcode == 0)
        assert len(fake.connections) == 1  # and did not cost the connection
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 5, warnings


async def test_a_failing_handler_and_a_repeated_callback_change_nothing_else(fake, caplog):
    async with Bot(fake) as bot:
        bot.fail_next = True
        await fake.push_text("一")
        assert (await bot.next()).text == "一"
        frame = fake.message_frame("二")
        await fake.push_raw(json.dumps(frame))
        await fake.push_raw(json.dumps(frame))  # WeCom may deliver a callback twice: same msgid
        await fake.push_text("三")
        assert [(await bot.next()).text for _ in range(2)] == ["二", "三"]
        await fake.wait_for("aibot_respond_msg", 2, predicate=lambda f: f.errcode == 0)
        assert sorted(replies(fake)) == ["答：三", "答：二"]
    assert any("handler failed" in r.getMessage() for r in caplog.records)


async def test_a_lost_answer_times_out_and_a_closed_socket_fails_fast(fake):
    async with Bot(fake) as bot:
        bot.client.request_timeout = 0.05
        fake.silent_cmds.add("aibot_send_msg")
        with pytest.raises(WeComTimeout):
            await bot.client.send_markdown("wrG7", "提醒")
        fake.silent_cmds.clear()
        bot.client.request_timeout = 2.0
        pending = asyncio.create_task(bot.client.send_markdown("wrG7", "提醒"))
        fake.silent_cmds.add("aibot_send_msg")
        await fake.wait_for("aibot_send_msg", 2)
        await fake.drop()
        with pytest.raises(WeComNotConnected):
            await pending


async def test_replies_sharing_a_req_id_go_one_at_a_time(fake):
    async with Bot(fake) as bot:
        pushed = await fake.push_text("你好")
        await bot.next()
        req_id = pushed["headers"]["req_id"]
        await asyncio.gather(*(bot.client.reply_markdown(req_id, f"第{i}段") for i in range(3)))
        sent = [f.body["stream"]["content"] for f in fake.received("aibot_respond_msg") if f.req_id == req_id]
        assert len(sent) == 4 and all(f.errcode == 0 for f in fake.received("aibot_respond_msg"))


async def test_a_second_connection_for_the_same_bot_stops_this_one(fake):
    async with Bot(fake) as bot:
        session = aiohttp.ClientSession()
        try:
            other = await session.ws_connect(fake.ws_url)
            await other.send_json({"cmd": "aibot_subscribe", "headers": {"req_id": "aibot_subscribe_x"},
                                   "body": {"bot_id": BOT, "secret": SECRET}})
            with pytest.raises(WeComReplaced):
                await asyncio.wait_for(bot.client.start(), 5)
            assert bot.client.state == "stopped" and len(fake.connections) == 2
        finally:
            await session.close()


async def test_stop_closes_the_connection_cleanly(fake):
    async with Bot(fake) as bot:
        task = bot.client.start()
    assert task.done() and task.exception() is None and bot.client.state == "stopped"
    assert all(c.ws.closed for c in fake.connections)
    with pytest.raises(WeComNotConnected):
        await bot.client.send_markdown("wrG7", "x")


async def test_wss_through_loopback_tls():
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    fake = FakeWeCom(BOT, SECRET)
    await fake.start(ssl_context=server_ctx)
    try:
        assert fake.ws_url.startswith("wss://")
        async with Bot(fake, ssl=client_ctx) as bot:
            await fake.push_text("加密通道")
            assert (await bot.next()).text == "加密通道"
    finally:
        await fake.close()


async def test_a_frame_past_the_socket_limit_costs_a_reconnect_not_the_bot(fake, monkeypatch):
    monkeypatch.setattr("bot.wecom.client.MAX_WS_MESSAGE", 50_000)
    async with Bot(fake) as bot:
        await fake.push_oversized(200_000)  # aiohttp closes with 1009 MESSAGE_TOO_BIG
        await fake.wait_subscribed(after=1)
        await fake.push_text("之后的问题")
        assert (await bot.next()).text == "之后的问题"


class ConnectProxy:
    """A loopback HTTP CONNECT proxy that records the targets and sends every tunnel to one port."""

    def __init__(self, port: int) -> None:
        self.port, self.targets = port, []

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._tunnel, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.targets.append(head.split(b" ")[1].decode())
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def close(self) -> None:
        self.server.close()


async def test_wss_goes_through_the_https_proxy_from_the_environment():
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("openws.wecom.test").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    fake = FakeWeCom(BOT, SECRET)
    await fake.start(ssl_context=server_ctx)
    port = int(fake.ws_url.rsplit(":", 1)[1].rstrip("/"))
    proxy = ConnectProxy(port)
    proxy_url = await proxy.start()
    try:
        received: asyncio.Queue[WeComMessage] = asyncio.Queue()

        async def on_message(message: WeComMessage) -> None:
            received.put_nowait(message)

        # a name only the proxy can reach: the client must not resolve or dial it itself
        client = WeComClient(BOT, SECRET, on_message, ws_url=f"wss://openws.wecom.test:{port}/", ssl=client_ctx,
                             environ={"HTTPS_PROXY": proxy_url}, backoff=FAST)
        client.start()
        try:
            await client.wait_connected(5)
            await fake.push_text("经代理")
            assert (await asyncio.wait_for(received.get(), 5)).text == "经代理"
            assert proxy.targets == [f"openws.wecom.test:{port}"]
        finally:
            await client.stop()
    finally:
        await proxy.close()
        await fake.close()
