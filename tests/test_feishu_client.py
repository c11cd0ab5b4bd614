"""Our own Feishu long-connection client (bot/feishu/client.py) and message APIs (bot/feishu/api.py), against the fake the SDK tests vouch for."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import pytest
from fakes.feishu import (
    BAD_CREDENTIAL,
    CHAT_TOO_FAST,
    ENDPOINT_BUSY,
    ENDPOINT_OK,
    FakeFeishu,
    card_action_event,
    message_event,
)
from fakes.feishu import Frame as FakeFrame
from fakes.feishu import decode_frame as fake_decode
from fakes.feishu import encode_frame as fake_encode

from bot.feishu.api import FeishuApi, FeishuApiError
from bot.feishu.client import (
    FeishuCredentialError,
    FeishuLongConnection,
    Frame,
    Reassembler,
    ack_payload,
    backoff_delay,
    decode_frame,
    encode_frame,
    env_proxy_for,
)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "WSS_PROXY",
                 "http_proxy", "https_proxy", "all_proxy", "no_proxy", "wss_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def fake():
    server = FakeFeishu()
    await server.start()
    yield server
    await server.close()


class Bot:
    """What the bot would do: collect events; optionally block or answer cards."""

    def __init__(self) -> None:
        self.events: asyncio.Queue = asyncio.Queue()
        self.gate: asyncio.Event | None = None
        self.card_answer: dict | None = {"toast": {"type": "success", "content": "已选择"}}
        self.card_delay = 0.0

    async def on_event(self, event: dict) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if event.get("boom"):
            raise RuntimeError("handler bug")
        await self.events.put(event)

    async def on_card(self, event: dict) -> dict | None:
        await asyncio.sleep(self.card_delay)
        return self.card_answer

    async def next(self, timeout: float = 5.0) -> dict:
        return await asyncio.wait_for(self.events.get(), timeout)


async def until(predicate, timeout: float = 10.0) -> None:
    """Poll a condition the fake cannot signal (the client's own state)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running(fake: FakeFeishu, bot: Bot, **kwargs):
    kwargs.setdefault("initial_backoff", 0.01)
    client = FeishuLongConnection(kwargs.pop("app_id", fake.app_id), kwargs.pop("app_secret", fake.app_secret),
                                  bot.on_event, on_card=bot.on_card, domain=fake.url, **kwargs)
    task = asyncio.create_task(client.run())
    try:
        yield client, task
    finally:
        await client.stop()
        with contextlib.suppress(FeishuCredentialError):
            await asyncio.wait_for(task, 10)


# --- pure parts ----------------------------------------------------------------------------------

def test_frames_round_trip_and_match_the_fakes_independent_codec() -> None:
    frame = Frame(3, 2**40, 33554678, 1, [("type", "event"), ("message_id", "m")], "提醒".encode(), [(7, b"json")])
    theirs = fake_decode(encode_frame(frame))
    assert (theirs.seq_id, theirs.log_id, theirs.service, theirs.method) == (3, 2**40, 33554678, 1)
    assert theirs.headers == frame.headers and theirs.payload == "提醒".encode() and theirs.payload_type == "json"
    ours = decode_frame(fake_encode(FakeFrame(seq_id=0, log_id=0, service=-1, method=0, headers=[("type", "pong")])))
    assert ours.service == -1 and ours.header("type") == "pong" and ours.payload is None


def test_frames_agree_with_the_sdk_protobuf() -> None:
    pytest.importorskip("lark_oapi")
    from lark_oapi.ws.pb.pbbp2_pb2 import Frame as SdkFrame

    sdk = SdkFrame()
    sdk.ParseFromString(encode_frame(Frame(1, 2, 3, 1, [("sum", "2")], b"x")))
    assert (sdk.SeqID, sdk.service, sdk.headers[0].value, sdk.payload) == (1, 3, "2", b"x")


@pytest.mark.parametrize("data", [b"", b"\x08\x01", b"\x42\x09short", b"\x0f", b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"])
def test_malformed_frames_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError):
        decode_frame(data)


def test_fragments_join_in_any_order_and_stale_ones_expire() -> None:
    now = [0.0]
    parts = Reassembler(clock=lambda: now[0])
    assert parts.add("m", 3, 2, b"c") is None and parts.add("m", 3, 0, b"a") is None
    assert parts.add("m", 3, 1, b"b") == b"abc"
    assert parts.add("single", 1, 0, b"whole") == b"whole"
    assert parts.add("late", 2, 0, b"x") is None
    now[0] = 6.0
    assert parts.add("late", 2, 1, b"y") is None  # its first half expired after 5 s
    with pytest.raises(ValueError):
        parts.add("bad", 2, 5, b"z")


@pytest.mark.parametrize(("attempt", "rand", "expected"),
                         [(0, 0.0, 0.5), (0, 1.0, 1.0), (3, 0.0, 4.0), (3, 1.0, 8.0), (20, 1.0, 60.0), (20, 0.0, 30.0)])
def test_backoff_doubles_with_jitter_up_to_a_cap(attempt: int, rand: float, expected: float) -> None:
    assert backoff_delay(attempt, initial=1.0, maximum=60.0, rand=lambda: rand) == expected


def test_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.office:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://plain.office:8080")
    monkeypatch.setenv("NO_PROXY", "intranet.gov.cn")
    assert env_proxy_for("wss://msg-frontier.feishu.cn/ws/v2?x=1") == "http://proxy.office:3128"
    assert env_proxy_for("https://open.feishu.cn/callback/ws/endpoint") == "http://proxy.office:3128"
    assert env_proxy_for("ws://feishu.example/ws") == "http://plain.office:8080"
    assert env_proxy_for("https://intranet.gov.cn/open-apis") is None


def test_ack_payload_is_what_the_sdk_sends() -> None:
    assert json.loads(ack_payload(200)) == {"code": 200}
    assert json.loads(ack_payload(200, {"toast": {"content": "好"}}))["data"] == "eyJ0b2FzdCI6IHsiY29udGVudCI6ICLlpb0ifX0="


# --- against the fake ------------------------------------------------------------------------

async def test_the_endpoint_call_goes_through_the_environments_proxy(fake: FakeFeishu,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readline())
        writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    try:
        async with running(fake, Bot(), initial_backoff=600.0) as (client, _):
            await until(lambda: client.state == "reconnecting")
            api = FeishuApi(fake.app_id, fake.app_secret, domain=fake.url)
            with pytest.raises(FeishuApiError):
                await api.send("oc_group0001", "text", {"text": "x"})
            await api.close()
    finally:
        server.close()
    assert seen[0].startswith(f"POST {fake.url}/callback/ws/endpoint ".encode())
    assert seen[1].startswith(f"POST {fake.url}/open-apis/auth/v3/tenant_access_token/internal ".encode())
    assert fake.endpoint_calls == [] and fake.api_calls == []


async def test_acks_at_once_and_hands_the_event_over_after(fake: FakeFeishu) -> None:
    bot = Bot()
    bot.gate = asyncio.Event()  # the bot is busy: its handler does not return yet
    async with running(fake, bot):
        await fake.wait_connected()
        message_id = await fake.push_event(message_event("十四五 节能目标", fake=fake))
        ack = await fake.wait_ack(message_id)
        assert ack.code == 200 and ack.data is None and ack.headers["message_id"] == message_id
        assert bot.events.empty()
        bot.gate.set()
        event = await bot.next()
        assert event["header"]["event_type"] == "im.message.receive_v1"
        assert json.loads(event["event"]["message"]["content"])["text"] == "@_user_1 十四五 节能目标"


async def test_a_card_click_is_answered_in_its_ack(fake: FakeFeishu) -> None:
    bot = Bot()
    async with running(fake, bot, card_timeout=0.5):
        await fake.wait_connected()
        answered = await fake.wait_ack(await fake.push_event(card_action_event({"choice": "1"})))
        assert answered.code == 200 and answered.data == {"toast": {"type": "success", "content": "已选择"}}
        bot.card_delay = 2.0
        late = await fake.wait_ack(await fake.push_event(card_action_event({"choice": "2"})))
        assert late.code == 200 and late.data is None  # acked in time, without an answer


async def test_fragments_malformed_frames_and_handler_errors_do_not_break_the_connection(fake: FakeFeishu) -> None:
    bot = Bot()
    async with running(fake, bot):
        await fake.wait_connected()
        await fake.send_raw(b"\xff\xfe garbage")
        await fake.send_raw("text frame")
        bad_json = await fake.push(b"{not json")
        boom = await fake.push_event({"boom": True, "header": {"event_type": "im.message.receive_v1"}})
        text = "附件：重点任务清单" * 300
        big = await fake.push_event(message_event(text, fake=fake), fragments=4)
        event = await bot.next()
        assert json.loads(event["event"]["message"]["content"])["text"].endswith(text)
        assert (await fake.wait_ack(big)).code == 200 and (await fake.wait_ack(boom)).code == 200
        assert (await fake.wait_ack(bad_json)).code == 500
        assert len(fake.connections) == 1 and fake.connection is not None


async def test_pings_carry_the_service_id_and_a_pong_can_change_the_interval(fake: FakeFeishu) -> None:
    fake.client_config["PingInterval"] = 1
    async with running(fake, Bot()) as (client, _):
        await fake.wait_connected()
        fake.client_config["PingInterval"] = 42
        await fake.wait_for(lambda: len(fake.pings) >= 2)
        assert fake.pings[0].service == fake.service_id and fake.pings[0].header("type") == "ping"
        await until(lambda: client.config.ping_interval == 42)


@pytest.mark.parametrize("clean", [True, False], ids=["close-1000", "socket-cut"])
async def test_reconnects_after_a_drop_with_one_log_line_per_state(fake: FakeFeishu, clean: bool,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.feishu.client")
    bot = Bot()
    async with running(fake, bot):
        await fake.wait_connected()
        await fake.drop(clean=clean)
        await fake.wait_connected(2)
        await fake.push_event(message_event("断线之后", fake=fake))
        assert (await bot.next())["event"]["message"]["chat_id"] == "oc_group0001"
        assert len(fake.endpoint_calls) == 2
    states = [r.getMessage().split(": ", 1)[1].split(" (")[0] for r in caplog.records]
    assert states == ["connecting", "connected", "reconnecting", "connected", "stopped"]


async def test_a_link_that_stops_answering_is_given_up_and_reopened(fake: FakeFeishu) -> None:
    fake.answer_ws_pings = False
    async with running(fake, Bot(), heartbeat=0.2):
        first = await fake.wait_connected()
        await fake.wait_connected(2)
    assert not first.open


async def test_a_busy_endpoint_is_retried_with_growing_delays(fake: FakeFeishu) -> None:
    fake.endpoint_code = ENDPOINT_BUSY
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 4:
            fake.endpoint_code = ENDPOINT_OK

    async with running(fake, Bot(), sleep=sleep, rand=lambda: 1.0, initial_backoff=1.0):
        await fake.wait_connected()
    assert delays == [1.0, 2.0, 4.0, 8.0] and len(fake.endpoint_calls) == 5


async def test_a_wrong_secret_stops_with_one_line_naming_the_setting(fake: FakeFeishu,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.feishu.client")
    client = FeishuLongConnection(fake.app_id, "wrong", Bot().on_event, domain=fake.url)
    with pytest.raises(FeishuCredentialError, match="app_secret"):
        await asyncio.wait_for(client.run(), 10)
    assert len(fake.endpoint_calls) == 1 and fake.endpoint_calls[0].code == BAD_CREDENTIAL
    stopped = [r for r in caplog.records if "stopped" in r.getMessage()]
    assert len(stopped) == 1 and "[feishu] app_id and app_secret" in stopped[0].getMessage()


async def test_a_secret_revoked_while_connected_ends_run_instead_of_hanging(fake: FakeFeishu) -> None:
    async with running(fake, Bot()) as (_, task):
        await fake.wait_connected()
        fake.app_secret = "rotated"
        await fake.drop()
        with pytest.raises(FeishuCredentialError):
            await asyncio.wait_for(task, 10)
    assert len(fake.endpoint_calls) == 2


async def test_stop_during_a_backoff_returns_at_once(fake: FakeFeishu) -> None:
    fake.endpoint_code = ENDPOINT_BUSY
    client = FeishuLongConnection(fake.app_id, fake.app_secret, Bot().on_event, domain=fake.url,
                                  initial_backoff=600.0)
    task = asyncio.create_task(client.run())
    await fake.wait_for(lambda: len(fake.endpoint_calls) == 1)
    await until(lambda: client.state == "reconnecting")
    await client.stop()
    await asyncio.wait_for(task, 5)
    assert client.state == "stopped" and fake.connections == []


async def test_stop_while_the_endpoint_answers_does_not_connect() -> None:
    fake = FakeFeishu()
    stopping: list[FeishuLongConnection] = []
    original = fake._endpoint

    async def endpoint_meanwhile_stopped(request):
        await stopping[0].stop()  # stop() lands while the endpoint call is under way
        return await original(request)

    fake._endpoint = endpoint_meanwhile_stopped  # type: ignore[method-assign]
    await fake.start()
    try:
        client = FeishuLongConnection(fake.app_id, fake.app_secret, Bot().on_event, domain=fake.url)
        stopping.append(client)
        await asyncio.wait_for(client.run(), 5)
        assert client.connections == 0 and client.state == "stopped" and len(fake.endpoint_calls) == 1
        await fake.wait_for(lambda: all(not c.open for c in fake.connections))
    finally:
        await fake.close()


async def test_stop_closes_the_socket_and_run_returns(fake: FakeFeishu) -> None:
    client = FeishuLongConnection(fake.app_id, fake.app_secret, Bot().on_event, domain=fake.url)
    task = asyncio.create_task(client.run())
    conn = await fake.wait_connected()
    await client.stop()
    await asyncio.wait_for(task, 10)
    await fake.wait_for(lambda: not conn.open)
    assert client.state == "stopped" and len(fake.connections) == 1


# --- the message APIs ------------------------------------------------------------------------------

class Clock:
    """One clock for the fake's limits and the client's token; sleeping moves it on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
async def api(fake: FakeFeishu):
    clock = Clock()
    fake.clock = clock
    client = FeishuApi(fake.app_id, fake.app_secret, domain=fake.url, sleep=clock.sleep, clock=clock)
    yield client, clock
    await client.close()


async def test_api_replies_and_sends_text_and_cards(fake: FakeFeishu, api) -> None:
    client, _ = api
    event = message_event("问题", fake=fake)
    asked = event["event"]["message"]["message_id"]
    reply_id = await client.reply(asked, "text", {"text": "答案"})
    card = {"elements": [{"tag": "markdown", "content": "**提醒**"}]}
    sent_id = await client.send("oc_group0002", "interactive", card, uuid="r-1")
    assert [(m.message_id, m.chat_id, m.reply_to, m.content) for m in fake.sent] == [
        (reply_id, "oc_group0001", asked, {"text": "答案"}), (sent_id, "oc_group0002", None, card)]
    assert sum(c.path.endswith("tenant_access_token/internal") for c in fake.api_calls) == 1  # cached
    assert await client.send("oc_group0002", "interactive", card, uuid="r-1") == sent_id and len(fake.sent) == 2


async def test_api_waits_out_the_per_chat_limit(fake: FakeFeishu, api) -> None:
    client, clock = api
    for n in range(6):
        await client.send("oc_group0001", "text", {"text": f"提醒 {n}"})
    assert len(fake.sent) == 6 and clock.slept == [1.0]
    assert [c.code for c in fake.api_calls if c.path == "/open-apis/im/v1/messages"].count(CHAT_TOO_FAST) == 1


async def test_api_waits_out_the_per_app_limit_for_the_reset_it_is_told(fake: FakeFeishu, api) -> None:
    client, clock = api
    for n in range(51):
        await client.send(f"oc_chat{n:04d}", "text", {"text": "提醒"})
    assert len(fake.sent) == 51 and clock.slept == [1.0]
    assert any(c.status == 429 for c in fake.api_calls)


async def test_api_gives_up_after_its_retries(fake: FakeFeishu) -> None:
    async def no_time_passes(_: float) -> None:
        return None

    fake.clock = lambda: 5.0
    client = FeishuApi(fake.app_id, fake.app_secret, domain=fake.url, sleep=no_time_passes, retries=2)
    try:
        for n in range(5):
            await client.send("oc_group0001", "text", {"text": f"{n}"})
        with pytest.raises(FeishuApiError) as refused:
            await client.send("oc_group0001", "text", {"text": "第六条"})
        assert refused.value.code == CHAT_TOO_FAST and len(fake.sent) == 5
    finally:
        await client.close()


async def test_api_renews_a_token_feishu_no_longer_takes(fake: FakeFeishu, api) -> None:
    client, _ = api
    await client.send("oc_group0001", "text", {"text": "一"})
    fake.expire_tokens()
    await client.send("oc_group0001", "text", {"text": "二"})
    assert len(fake.sent) == 2
    assert sum(c.path.endswith("tenant_access_token/internal") for c in fake.api_calls) == 2


async def test_api_with_a_wrong_secret_names_the_setting(fake: FakeFeishu) -> None:
    client = FeishuApi(fake.app_id, "wrong", domain=fake.url)
    try:
        with pytest.raises(FeishuCredentialError, match="app_secret"):
            await client.send("oc_group0001", "text", {"text": "x"})
        assert fake.sent == []
    finally:
        await client.close()


async def test_api_refuses_what_feishu_refuses(fake: FakeFeishu, api) -> None:
    client, _ = api
    with pytest.raises(FeishuApiError) as refused:
        await client.reply("om_unknown", "text", {"text": "x"})
    assert refused.value.code == 230001
