"""The fake 企业微信 long connection, checked first against the official SDK (`wecom-aibot-python-sdk`,
module `aibot`) so that the fake is not only our own reading of the protocol, then on its own."""

from __future__ import annotations

import asyncio
import json
import ssl

import aiohttp
import pytest
from fakes.wecom import ERR_BAD_CREDENTIAL, ERR_BAD_REQUEST, ERR_INVALID_REQ_ID, ERR_TOO_FAST, FakeWeCom

BOT, SECRET = "aibTESTBOT", "test-secret"


class Recorder:
    """Logger for the SDK (its default one prints) that keeps the lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def _log(self, level: str):
        return lambda message, *args: self.lines.append(f"{level} {message}")

    def __getattr__(self, name: str):
        if name in ("debug", "info", "warn", "error"):
            return self._log(name)
        raise AttributeError(name)


@pytest.fixture
def tls():
    """A loopback TLS setup made at test time: the server's context and a client context trusting it."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


@pytest.fixture
async def fake():
    server = FakeWeCom(BOT, SECRET)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def tls_fake(tls):
    server = FakeWeCom(BOT, SECRET)
    await server.start(ssl_context=tls[0])
    yield server
    await server.close()


@pytest.fixture
def aibot(tls, monkeypatch):
    """The SDK, with only its hard-wired SSL context replaced by one that trusts the test CA."""
    module = pytest.importorskip("aibot")
    import aibot.ws

    monkeypatch.setattr(aibot.ws, "_SSL_CONTEXT", tls[1])
    return module


def make_sdk(aibot, url: str, secret: str = SECRET, **options):
    log = Recorder()
    client = aibot.WSClient(aibot.WSClientOptions(bot_id=BOT, secret=secret, ws_url=url, logger=log,
                                                  reconnect_interval=10, **options))
    events: asyncio.Queue = asyncio.Queue()
    for name in ("authenticated", "message.text", "event.enter_chat", "event.template_card_event",
                 "disconnected", "reconnecting", "error"):
        client.on(name, lambda *args, _name=name: events.put_nowait((_name, args)))
    return client, events, log


async def next_event(events: asyncio.Queue, name: str, timeout: float = 5.0):
    async def find():
        while True:
            got, args = await events.get()
            if got == name:
                return args
    return await asyncio.wait_for(find(), timeout)


# ---------------------------------------------------------------- the official SDK against the fake

async def test_sdk_subscribes_receives_replies_and_pushes(aibot, tls_fake):
    sdk, events, _ = make_sdk(aibot, tls_fake.ws_url)
    await sdk.connect()
    try:
        await next_event(events, "authenticated")
        subscribe = tls_fake.received("aibot_subscribe")[0]
        assert subscribe.body == {"bot_id": BOT, "secret": SECRET} and subscribe.errcode == 0

        # a group @-message reaches the SDK as message.text; its streamed reply is acknowledged
        pushed = await tls_fake.push_text("碳达峰目标是什么？", chattype="group", chatid="wrGROUP42", userid="lisi")
        (frame,) = await next_event(events, "message.text")
        assert frame["body"] == pushed["body"] and frame["body"]["chatid"] == "wrGROUP42"
        ack = await sdk.reply_stream(frame, "stream-1", "**2030 年前**达峰", finish=True)
        assert ack["errcode"] == 0
        (respond,) = tls_fake.accepted("aibot_respond_msg")
        assert respond.req_id == frame["headers"]["req_id"]
        assert respond.body["stream"] == {"id": "stream-1", "finish": True, "content": "**2030 年前**达峰"}

        # a template card reply, a click on it, and the card updated in place
        await sdk.reply_template_card(frame, {"card_type": "button_interaction", "task_id": "task-7",
                                              "main_title": {"title": "选择"},
                                              "button_list": [{"text": "更多", "key": "more"}]})
        await tls_fake.push_card_click("more", "task-7", userid="lisi", chattype="group", chatid="wrGROUP42")
        (click,) = await next_event(events, "event.template_card_event")
        detail = click["body"]["event"]["template_card_event"]
        assert (detail["event_key"], detail["task_id"]) == ("more", "task-7")
        ack = await sdk.update_template_card(click, {"card_type": "button_interaction", "task_id": "task-7"})
        assert ack["errcode"] == 0 and tls_fake.accepted("aibot_respond_update_msg")

        # a welcome on enter_chat, and a proactive markdown push to a chat
        await tls_fake.push_enter_chat("wangwu")
        (enter,) = await next_event(events, "event.enter_chat")
        assert (await sdk.reply_welcome(enter, {"msgtype": "text", "text": {"content": "您好"}}))["errcode"] == 0
        ack = await sdk.send_message("wrGROUP42", {"msgtype": "markdown", "markdown": {"content": "提醒"}})
        assert ack["errcode"] == 0
        (push,) = tls_fake.accepted("aibot_send_msg")
        assert push.body == {"chatid": "wrGROUP42", "msgtype": "markdown", "markdown": {"content": "提醒"}}
        assert push.req_id.startswith("aibot_send_msg_")
    finally:
        sdk.disconnect()


async def test_sdk_heartbeats_are_answered(aibot, tls_fake):
    sdk, events, log = make_sdk(aibot, tls_fake.ws_url, heartbeat_interval=20)
    await sdk.connect()
    try:
        await next_event(events, "authenticated")
        pings = await tls_fake.wait_for("ping", 3)
        assert all(p.errcode == 0 and p.body is None for p in pings)
        assert not any("considered dead" in line for line in log.lines)
    finally:
        sdk.disconnect()


async def test_sdk_reports_a_wrong_secret(aibot, tls_fake):
    sdk, events, _ = make_sdk(aibot, tls_fake.ws_url, secret="wrong")
    await sdk.connect()
    try:
        (error,) = await next_event(events, "error")
        assert f"(code: {ERR_BAD_CREDENTIAL})" in str(error)
    finally:
        sdk.disconnect()


async def test_sdk_resends_a_rejected_secret_past_its_reconnect_limit(aibot, tls_fake):
    """Pitfall: when the server hangs up after refusing the secret, the SDK reconnects and sends it again;
    its attempt counter restarts at every socket that opens, so max_reconnect_attempts never stops it."""
    tls_fake.close_on_bad_credential = True
    sdk, _events, _ = make_sdk(aibot, tls_fake.ws_url, secret="wrong", max_reconnect_attempts=2)
    await sdk.connect()
    try:
        subscribes = await tls_fake.wait_for("aibot_subscribe", 6)
        assert all(f.errcode == ERR_BAD_CREDENTIAL for f in subscribes)
    finally:
        sdk.disconnect()


async def test_sdk_without_an_error_listener_loses_its_receive_loop(aibot, tls_fake):
    """Pitfall: pyee raises an "error" event nobody listens to, inside the SDK's receive task."""
    sdk = aibot.WSClient(aibot.WSClientOptions(bot_id=BOT, secret="wrong", ws_url=tls_fake.ws_url, logger=Recorder()))
    await sdk.connect()
    try:
        receive = sdk._ws_manager._receive_task
        await asyncio.wait({receive}, timeout=5)
        assert receive.done() and "Authentication failed" in str(receive.exception())
    finally:
        sdk.disconnect()


async def test_sdk_refuses_a_plain_ws_endpoint(fake):
    """Pitfall: the SDK always passes its SSL context, which websockets refuses for ws:// — and retries it."""
    aibot = pytest.importorskip("aibot")
    sdk, events, _ = make_sdk(aibot, fake.ws_url, max_reconnect_attempts=1)
    await sdk.connect()
    try:
        (error,) = await next_event(events, "error")
        assert isinstance(error, ValueError) and "ssl argument is incompatible with a ws:// URI" in str(error)
        assert not fake.connections
    finally:
        sdk.disconnect()


@pytest.mark.parametrize("code", [1000, 1001])
async def test_sdk_does_not_reconnect_after_a_clean_close(aibot, tls_fake, code):
    """Pitfall: `async for` over a websockets connection ends quietly on 1000/1001, so the SDK's
    reconnect (in its ConnectionClosed handler) never runs; the Node SDK reconnects on any close."""
    sdk, events, log = make_sdk(aibot, tls_fake.ws_url)
    await sdk.connect()
    try:
        await next_event(events, "authenticated")
        receive = sdk._ws_manager._receive_task
        await tls_fake.close_clean(code)
        await asyncio.wait_for(receive, 5)  # the receive loop is over …
        assert events.empty()  # … without "disconnected" or "reconnecting"
        assert not any("Reconnecting" in line for line in log.lines)
        assert len(tls_fake.connections) == 1
    finally:
        sdk.disconnect()


async def test_sdk_reconnects_after_an_abrupt_drop(aibot, tls_fake):
    sdk, events, _ = make_sdk(aibot, tls_fake.ws_url)
    await sdk.connect()
    try:
        await next_event(events, "authenticated")
        await tls_fake.drop()
        await next_event(events, "reconnecting")
        await tls_fake.wait_subscribed(after=1)
        await tls_fake.push_text("还在吗")
        (frame,) = await next_event(events, "message.text")
        assert frame["body"]["text"]["content"] == "还在吗"
    finally:
        sdk.disconnect()


# ---------------------------------------------------------------- the fake on its own (raw frames)

async def open_raw(fake: FakeWeCom, secret: str = SECRET):
    session = aiohttp.ClientSession()
    ws = await session.ws_connect(fake.ws_url)
    await ws.send_json({"cmd": "aibot_subscribe", "headers": {"req_id": "aibot_subscribe_1"},
                        "body": {"bot_id": BOT, "secret": secret}})
    answer = await ws.receive_json(timeout=5)
    return session, ws, answer


async def request(ws, cmd: str, req_id: str, body=None) -> dict:
    frame = {"cmd": cmd, "headers": {"req_id": req_id}}
    if body is not None:
        frame["body"] = body
    await ws.send_json(frame)
    while True:
        answer = await ws.receive_json(timeout=5)
        if "cmd" not in answer and answer["headers"]["req_id"] == req_id:
            return answer


async def test_subscribe_answers_and_requests_before_it_are_refused(fake):
    session = aiohttp.ClientSession()
    try:
        ws = await session.ws_connect(fake.ws_url)
        early = await request(ws, "ping", "ping_0")
        assert early["errcode"] != 0
        ok = await request(ws, "aibot_subscribe", "aibot_subscribe_1", {"bot_id": BOT, "secret": SECRET})
        assert ok == {"headers": {"req_id": "aibot_subscribe_1"}, "errcode": 0, "errmsg": "ok"}
        assert (await request(ws, "ping", "ping_1"))["errcode"] == 0
    finally:
        await session.close()


async def test_wrong_secret_and_too_frequent_subscribes(fake):
    session, _, answer = await open_raw(fake, secret="nope")
    await session.close()
    assert answer["errcode"] == ERR_BAD_CREDENTIAL
    fake.rejected_subscribes = 1
    session, _, answer = await open_raw(fake)
    await session.close()
    assert answer["errcode"] == ERR_TOO_FAST


async def test_replies_need_a_live_callback_req_id_and_a_valid_body(fake):
    session, ws, _ = await open_raw(fake)
    try:
        assert (await request(ws, "aibot_respond_msg", "made_up", {"msgtype": "markdown", "markdown": {"content": "x"}})
                )["errcode"] == ERR_INVALID_REQ_ID
        pushed = await fake.push_text("你好")
        req_id = pushed["headers"]["req_id"]
        assert (await ws.receive_json(timeout=5))["cmd"] == "aibot_msg_callback"
        too_long = {"msgtype": "stream", "stream": {"id": "s", "finish": True, "content": "字" * 7000}}
        assert (await request(ws, "aibot_respond_msg", req_id, too_long))["errcode"] == ERR_BAD_REQUEST
        assert (await request(ws, "aibot_respond_update_msg", req_id,
                              {"response_type": "update_template_card", "template_card": {}}))["errcode"] == ERR_INVALID_REQ_ID
        ok = {"msgtype": "stream", "stream": {"id": "s", "finish": True, "content": "好"}}
        assert (await request(ws, "aibot_respond_msg", req_id, ok))["errcode"] == 0
        assert (await request(ws, "aibot_whatever", "w1", {}))["errcode"] == ERR_BAD_REQUEST
    finally:
        await session.close()


async def test_send_limits_answer_too_fast():
    now = [1000.0]
    fake = FakeWeCom(BOT, SECRET, per_chat_per_minute=3, per_bot_per_second=5, clock=lambda: now[0])
    await fake.start()
    session, ws, _ = await open_raw(fake)
    try:
        def push(chat: str) -> dict:
            return {"chatid": chat, "msgtype": "markdown", "markdown": {"content": "提醒"}}
        codes = [(await request(ws, "aibot_send_msg", f"s{i}", push("wrA")))["errcode"] for i in range(4)]
        assert codes == [0, 0, 0, ERR_TOO_FAST]  # 3 per chat per minute
        codes = [(await request(ws, "aibot_send_msg", f"t{i}", push(f"wr{i}")))["errcode"] for i in range(3)]
        assert codes == [0, 0, ERR_TOO_FAST]  # 5 per bot per second, 3 already sent
        now[0] += 1.5
        assert (await request(ws, "aibot_send_msg", "u1", push("wrB")))["errcode"] == 0
        assert (await request(ws, "aibot_send_msg", "u2", push("wrA")))["errcode"] == ERR_TOO_FAST
        now[0] += 60
        assert (await request(ws, "aibot_send_msg", "u3", push("wrA")))["errcode"] == 0
        bad = {"chatid": "", "msgtype": "markdown", "markdown": {"content": "x"}}
        assert (await request(ws, "aibot_send_msg", "u4", bad))["errcode"] == ERR_BAD_REQUEST
    finally:
        await session.close()
        await fake.close()


async def test_a_second_subscription_replaces_the_first(fake):
    first_session, first, _ = await open_raw(fake)
    second_session, _, answer = await open_raw(fake)
    try:
        assert answer["errcode"] == 0
        event = await first.receive_json(timeout=5)
        assert event["cmd"] == "aibot_event_callback" and event["body"]["event"]["eventtype"] == "disconnected_event"
        closing = await first.receive(timeout=5)
        assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1000
    finally:
        await first_session.close()
        await second_session.close()


async def test_test_controls_reach_the_client(fake):
    session, ws, _ = await open_raw(fake)
    try:
        await fake.push_raw("{not json")
        assert (await ws.receive(timeout=5)).data == "{not json"
        await fake.push_unknown_cmd()
        assert (await ws.receive_json(timeout=5))["cmd"] == "aibot_future_cmd"
        await fake.push_oversized(300_000)
        big = await ws.receive(timeout=5)
        assert len(big.data.encode()) > 300_000 and json.loads(big.data)["cmd"] == "aibot_msg_callback"
        await fake.close_clean(1001)
        closing = await ws.receive(timeout=5)
        assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1001
    finally:
        await session.close()
