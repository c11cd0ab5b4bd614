"""The fake Feishu platform, proven against Feishu's own SDK (lark-oapi), and the SDK's pitfalls shown on it.

Each SDK test runs `lark_oapi.ws.Client` on its own thread with a fresh event loop — which takes
replacing the loop the SDK's ws module grabbed at import (`lark_oapi.ws.client.loop`) — and hands
what the handler receives to the test's loop, as the bot would have to.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import textwrap
import threading
from collections.abc import Callable
from typing import Any

import pytest
from fakes.feishu import (
    APP_ID,
    APP_SECRET,
    APP_TOO_FAST,
    BAD_CREDENTIAL,
    BOT_OPEN_ID,
    CHAT_TOO_FAST,
    ENDPOINT_BUSY,
    ENDPOINT_OK,
    FRAME_DATA,
    NO_CREDENTIAL,
    TOKEN_BAD_SECRET,
    FakeFeishu,
    Frame,
    card_action_event,
    decode_frame,
    encode_frame,
    message_event,
)

lark = pytest.importorskip("lark_oapi")
import lark_oapi.ws.client as lark_ws  # noqa: E402  (after the skip: the SDK is a test-only dependency)
from lark_oapi.api.im.v1 import (  # noqa: E402
    CreateMessageRequest,
    CreateMessageRequestBody,
    ReplyMessageRequest,
    ReplyMessageRequestBody,
)
from lark_oapi.core.cache.local_cache import LocalCache  # noqa: E402
from lark_oapi.core.exception import ObtainAccessTokenException  # noqa: E402
from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTriggerResponse  # noqa: E402
from lark_oapi.ws.exception import ClientException  # noqa: E402
from lark_oapi.ws.pb.pbbp2_pb2 import Frame as SdkFrame  # noqa: E402


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def fake():
    server = FakeFeishu()
    await server.start()
    yield server
    await server.close()


class SdkWs:
    """lark_oapi.ws.Client on a thread of its own; what its handlers get lands in `received` on the test's loop."""

    def __init__(self, fake: FakeFeishu, *, app_secret: str = APP_SECRET,
                 on_message: Callable[[Any], None] | None = None,
                 card_response: dict | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self.received: asyncio.Queue = asyncio.Queue()
        self.error: BaseException | None = None
        self.sdk_loop = asyncio.new_event_loop()

        def on_msg(data: Any) -> None:
            if on_message is not None:
                on_message(data)
            self.loop.call_soon_threadsafe(self.received.put_nowait, data)

        def on_card(data: Any) -> P2CardActionTriggerResponse:
            self.loop.call_soon_threadsafe(self.received.put_nowait, data)
            return P2CardActionTriggerResponse(card_response or {})

        handler = (lark.EventDispatcherHandler.builder("", "")
                   .register_p2_im_message_receive_v1(on_msg)
                   .register_p2_card_action_trigger(on_card)
                   .build())
        self.client = lark.ws.Client(APP_ID, app_secret, event_handler=handler, domain=fake.url,
                                     log_level=lark.LogLevel.WARNING)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> SdkWs:
        self.thread.start()
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self.sdk_loop)
        lark_ws.loop = self.sdk_loop  # without this, start() uses whatever loop existed at import
        try:
            self.client.start()
        except BaseException as exc:  # the thread reports whatever ended it
            self.error = exc

    async def stop(self) -> None:
        """The SDK has no stop(): switch off its reconnect, close its socket, cancel its tasks, stop its loop."""
        if self.thread.is_alive():
            async def shut() -> None:
                self.client._auto_reconnect = False
                if self.client._conn is not None:
                    await asyncio.wait_for(self.client._disconnect(), 2)
                tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                blocking = [t for t in tasks if t.get_coro().__name__ == "_select"]  # what start() runs until
                for task in tasks:
                    if task not in blocking:
                        task.cancel()
                await asyncio.gather(*(t for t in tasks if t not in blocking), return_exceptions=True)
                for task in blocking:
                    task.cancel()  # start() returns; its loop stops

            with contextlib.suppress(Exception):  # a client already dead has nothing to shut
                await asyncio.wait_for(asyncio.wrap_future(asyncio.run_coroutine_threadsafe(shut(), self.sdk_loop)), 5)
            await asyncio.to_thread(self.thread.join, 5)
        if not self.thread.is_alive() and not self.sdk_loop.is_running():
            self.sdk_loop.close()

    async def next(self, timeout: float = 5.0) -> Any:
        return await asyncio.wait_for(self.received.get(), timeout)


@pytest.fixture
async def sdk_ws(fake: FakeFeishu):
    started: list[SdkWs] = []

    def make(**kwargs: Any) -> SdkWs:
        client = SdkWs(fake, **kwargs).start()
        started.append(client)
        return client

    yield make
    for client in started:
        await client.stop()


def api_client(fake: FakeFeishu, secret: str = APP_SECRET):
    """The SDK's API client. Its token cache is one per process, keyed by app_id alone: give each test a new one."""
    return lark.Client.builder().app_id(APP_ID).app_secret(secret).domain(fake.url).cache(LocalCache()).build()


def text_reply(message_id: str, text: str) -> ReplyMessageRequest:
    body = ReplyMessageRequestBody.builder().msg_type("text").content(json.dumps({"text": text})).build()
    return ReplyMessageRequest.builder().message_id(message_id).request_body(body).build()


def create(chat_id: str, msg_type: str, content: dict) -> CreateMessageRequest:
    body = (CreateMessageRequestBody.builder().receive_id(chat_id).msg_type(msg_type)
            .content(json.dumps(content, ensure_ascii=False)).build())
    return CreateMessageRequest.builder().receive_id_type("chat_id").request_body(body).build()


# --- the frame codec agrees with the SDK's protobuf -------------------------------------------

def test_frames_round_trip_through_the_sdk_protobuf() -> None:
    ours = Frame(seq_id=7, log_id=2**40, service=33554678, method=FRAME_DATA, payload="中文".encode(),
                 headers=[("type", "event"), ("message_id", "m1"), ("sum", "1"), ("seq", "0")])
    sdk = SdkFrame()
    sdk.ParseFromString(encode_frame(ours))
    assert (sdk.SeqID, sdk.LogID, sdk.service, sdk.method) == (7, 2**40, 33554678, 1)
    assert [(h.key, h.value) for h in sdk.headers] == ours.headers and sdk.payload == "中文".encode()
    sdk.payload_type = "json"
    back = decode_frame(sdk.SerializeToString())
    assert back.headers == ours.headers and back.payload_type == "json" and back.seq_id == 7


def test_a_frame_without_its_required_fields_is_refused() -> None:
    with pytest.raises(ValueError):
        decode_frame(b"\x08\x01")           # SeqID only
    with pytest.raises(ValueError):
        decode_frame(b"\x42\x05ab")          # payload cut short


# --- the SDK against the fake -----------------------------------------------------------------

async def test_sdk_connects_receives_a_group_mention_acks_and_replies(fake: FakeFeishu, sdk_ws) -> None:
    client = sdk_ws()
    conn = await fake.wait_connected()
    assert fake.endpoint_calls[0].body == {"AppID": APP_ID, "AppSecret": APP_SECRET}
    assert conn.service_id == fake.service_id and conn.device_id

    message_id = await fake.push_event(message_event("碳达峰的目标是什么？", fake=fake))
    event = await client.next()
    message = event.event.message
    assert (message.chat_type, message.message_type, message.chat_id) == ("group", "text", "oc_group0001")
    assert json.loads(message.content)["text"] == "@_user_1 碳达峰的目标是什么？"
    assert message.mentions[0].key == "@_user_1" and message.mentions[0].id.open_id == BOT_OPEN_ID
    assert event.event.sender.sender_id.open_id == "ou_user0001"
    assert event.header.event_type == "im.message.receive_v1"
    ack = await fake.wait_ack(message_id)
    assert ack.code == 200 and ack.data is None and "biz_rt" in ack.headers

    resp = await asyncio.to_thread(api_client(fake).im.v1.message.reply, text_reply(message.message_id, "答：2030 年前"))
    assert resp.code == 0 and resp.data.message_id.startswith("om_")
    assert fake.sent[-1].reply_to == message.message_id and fake.sent[-1].content == {"text": "答：2030 年前"}
    assert fake.api_calls[0].path == "/open-apis/auth/v3/tenant_access_token/internal"
    assert fake.api_calls[1].headers["Authorization"].startswith("Bearer t-")


async def test_sdk_pings_with_the_service_id_and_takes_the_config_from_the_pong(fake: FakeFeishu, sdk_ws) -> None:
    fake.client_config["PingInterval"] = 1
    client = sdk_ws()
    await fake.wait_connected()
    fake.client_config["PingInterval"] = 99  # only a pong can carry this to the client now
    await fake.wait_for(lambda: len(fake.pings) >= 2)
    ping = fake.pings[0]
    assert (ping.method, ping.service, ping.header("type")) == (0, fake.service_id, "ping")
    async with asyncio.timeout(10):  # the SDK's state: polled, the fake cannot signal it
        while client.client._ping_interval != 99:
            await asyncio.sleep(0.01)


async def test_sdk_answers_a_card_click_over_the_connection(fake: FakeFeishu, sdk_ws) -> None:
    client = sdk_ws(card_response={"toast": {"type": "success", "content": "已选择"}})
    await fake.wait_connected()
    card_type_id = await fake.push(card_action_event({"choice": "2"}), type="card")  # SDK 1.7.5 drops these
    message_id = await fake.push_event(card_action_event({"choice": "1"}, chat_id="oc_group0002"))
    click = await client.next()
    assert click.event.action.value == {"choice": "1"} and click.event.context.open_chat_id == "oc_group0002"
    ack = await fake.wait_ack(message_id)
    assert ack.code == 200 and ack.data == {"toast": {"type": "success", "content": "已选择"}}
    assert card_type_id not in fake.acks and client.received.empty()


async def test_sdk_reassembles_a_fragmented_payload(fake: FakeFeishu, sdk_ws) -> None:
    client = sdk_ws()
    await fake.wait_connected()
    text = "《2030年前碳达峰行动方案》" * 200
    message_id = await fake.push_event(message_event(text, fake=fake), fragments=3)
    event = await client.next()
    assert json.loads(event.event.message.content)["text"].endswith(text)
    assert (await fake.wait_ack(message_id)).code == 200


async def test_sdk_survives_malformed_frames(fake: FakeFeishu, sdk_ws) -> None:
    client = sdk_ws()
    await fake.wait_connected()
    await fake.send_raw(b"\xff\xff\xff not protobuf")
    await fake.send_raw("a text frame")
    await fake.push(b"{not json", type="event")
    message_id = await fake.push_event(message_event("还在吗", fake=fake))
    assert (await client.next()).event.message.chat_id == "oc_group0001"
    assert (await fake.wait_ack(message_id)).code == 200
    assert len(fake.connections) == 1 and fake.connection is not None


@pytest.mark.parametrize("clean", [True, False], ids=["close-1000", "socket-cut"])
async def test_sdk_reconnects_after_the_server_drops_it(fake: FakeFeishu, sdk_ws, clean: bool) -> None:
    client = sdk_ws()
    await fake.wait_connected()
    await fake.drop(clean=clean)
    await fake.wait_connected(2)
    assert len(fake.endpoint_calls) == 2  # a fresh endpoint (and ticket) per connection
    message_id = await fake.push_event(message_event("重连后", fake=fake))
    assert (await client.next()).event.message.chat_type == "group"
    assert (await fake.wait_ack(message_id)).code == 200


# --- the SDK's pitfalls, with evidence --------------------------------------------------------

async def test_pitfall_a_slow_handler_holds_the_ack_and_every_other_frame(fake: FakeFeishu, sdk_ws) -> None:
    """The handler runs inside the socket's loop: until it returns, no ack and no other event."""
    release = threading.Event()
    entered = threading.Event()

    def slow(_: Any) -> None:
        entered.set()
        release.wait(10)

    client = sdk_ws(on_message=slow)
    await fake.wait_connected()
    first = await fake.push_event(message_event("第一条", fake=fake))
    await asyncio.to_thread(entered.wait, 5)
    second = await fake.push_event(message_event("第二条", fake=fake))
    with pytest.raises(asyncio.TimeoutError):
        await fake.wait_ack(first, timeout=1.0)
    assert second not in fake.acks and client.received.empty()
    release.set()
    assert (await fake.wait_ack(first)).delay >= 1.0  # past a slow handler's time: Feishu allows 3 s
    await fake.wait_ack(second)


async def test_pitfall_a_wrong_secret_stops_start_with_client_exception(fake: FakeFeishu, sdk_ws) -> None:
    client = sdk_ws(app_secret="wrong")
    await asyncio.to_thread(client.thread.join, 10)
    assert isinstance(client.error, ClientException) and client.error.code == BAD_CREDENTIAL
    assert len(fake.endpoint_calls) == 1
    empty = sdk_ws(app_secret="")
    await asyncio.to_thread(empty.thread.join, 10)
    assert isinstance(empty.error, ClientException) and empty.error.code == NO_CREDENTIAL
    assert len(fake.endpoint_calls) == 1  # refused locally, before any request


async def test_pitfall_a_busy_endpoint_is_retried_without_end(fake: FakeFeishu, sdk_ws) -> None:
    fake.endpoint_code = ENDPOINT_BUSY
    fake.client_config["ReconnectInterval"] = 1
    client = SdkWs(fake)
    # Before any ClientConfig arrives the SDK waits up to 30 s (nonce) then 120 s between tries; shortened here.
    client.client._reconnect_nonce, client.client._reconnect_interval = 0, 0
    client.start()
    try:
        await fake.wait_for(lambda: len(fake.endpoint_calls) >= 3)
        fake.endpoint_code = ENDPOINT_OK
        await fake.wait_connected()
    finally:
        await client.stop()


async def test_pitfall_a_secret_revoked_while_connected_leaves_a_dead_client(fake: FakeFeishu, sdk_ws) -> None:
    """Reconnecting with a now-wrong secret raises inside a task: no connection, no retry, start() still blocks."""
    client = sdk_ws()
    await fake.wait_connected()
    fake.app_secret = "rotated"
    await fake.drop()
    await fake.wait_for(lambda: len(fake.endpoint_calls) == 2)
    assert fake.endpoint_calls[1].code == BAD_CREDENTIAL
    await asyncio.sleep(2.5)  # more than two ReconnectIntervals (1 s): nothing more happens
    assert len(fake.endpoint_calls) == 2 and len(fake.connections) == 1
    assert client.thread.is_alive() and client.error is None and client.client._conn is None


PITFALL_IMPORT = textwrap.dedent("""
    import asyncio, sys, threading

    async def main(url):
        import lark_oapi as lark          # first imported inside a running loop, as a lazy import would be
        import lark_oapi.ws.client as ws
        outcome = []

        def run(patch):
            fresh = asyncio.new_event_loop()
            asyncio.set_event_loop(fresh)  # a fresh loop on this thread ...
            if patch:
                ws.loop = fresh            # ... is used only once the module's own global is replaced
            client = lark.ws.Client("{app_id}", "{secret}", domain=url, auto_reconnect=False,
                                    log_level=lark.LogLevel.CRITICAL)
            try:
                client.start()
            except RuntimeError as exc:
                outcome.append(str(exc))

        thread = threading.Thread(target=run, args=(False,))
        thread.start()
        thread.join(10)
        print("UNPATCHED:", outcome, flush=True)
        threading.Thread(target=run, args=(True,), daemon=True).start()
        await asyncio.sleep(30)

    asyncio.run(main(sys.argv[1]))
""")


async def test_pitfall_imported_inside_a_running_loop_start_fails_on_any_thread(fake: FakeFeishu, tmp_path) -> None:
    script = tmp_path / "import_in_loop.py"
    script.write_text(PITFALL_IMPORT.format(app_id=APP_ID, secret=APP_SECRET))
    proc = await asyncio.create_subprocess_exec(sys.executable, "-W", "ignore", str(script), fake.url,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert b"UNPATCHED: ['This event loop is already running']" in line
        assert fake.endpoint_calls == []
        await fake.wait_connected(timeout=20)  # the same process connects once the global is replaced
    finally:
        proc.kill()
        await proc.wait()


# --- the HTTP APIs through the SDK's API client -----------------------------------------------

async def test_sdk_creates_text_and_card_messages_and_the_fake_enforces_five_per_second_per_chat(fake: FakeFeishu) -> None:
    now = [1000.0]
    fake.clock = lambda: now[0]
    api = api_client(fake)
    card = {"header": {"title": {"tag": "plain_text", "content": "请选择"}},
            "elements": [{"tag": "action", "actions": [{"tag": "button", "text": {"tag": "plain_text", "content": "1"},
                                                        "value": {"choice": "1"}}]}]}
    codes = []
    for i in range(6):
        kind, content = ("interactive", card) if i == 0 else ("text", {"text": f"提醒 {i}"})
        codes.append((await asyncio.to_thread(api.im.v1.message.create, create("oc_group0001", kind, content))).code)
    assert codes == [0, 0, 0, 0, 0, CHAT_TOO_FAST]
    other = await asyncio.to_thread(api.im.v1.message.create, create("oc_group0002", "text", {"text": "别的群"}))
    assert other.code == 0
    now[0] += 1.0
    again = await asyncio.to_thread(api.im.v1.message.create, create("oc_group0001", "text", {"text": "一秒后"}))
    assert again.code == 0
    assert fake.sent[0].msg_type == "interactive" and fake.sent[0].content == card
    assert [c.code for c in fake.api_calls if c.path == "/open-apis/im/v1/messages"].count(CHAT_TOO_FAST) == 1


async def test_the_fake_enforces_fifty_per_second_per_app_with_429(fake: FakeFeishu) -> None:
    fake.clock = lambda: 5.0
    api = api_client(fake)
    for n in range(50):
        resp = await asyncio.to_thread(api.im.v1.message.create, create(f"oc_chat{n:04d}", "text", {"text": "提醒"}))
        assert resp.code == 0
    resp = await asyncio.to_thread(api.im.v1.message.create, create("oc_chat9999", "text", {"text": "提醒"}))
    assert resp.code == APP_TOO_FAST
    assert fake.api_calls[-1].status == 429 and len(fake.sent) == 50


async def test_the_fake_refuses_a_wrong_secret_bad_content_and_stale_tokens(fake: FakeFeishu) -> None:
    with pytest.raises(ObtainAccessTokenException) as refused:
        await asyncio.to_thread(api_client(fake, "wrong").im.v1.message.create,
                                create("oc_group0001", "text", {"text": "x"}))
    assert refused.value.code == TOKEN_BAD_SECRET and fake.api_calls[0].code == TOKEN_BAD_SECRET and fake.sent == []
    api = api_client(fake)
    bad = await asyncio.to_thread(api.im.v1.message.create, create("oc_group0001", "text", {"txt": "x"}))
    assert bad.code == 230001
    fake.expire_tokens()
    stale = await asyncio.to_thread(api.im.v1.message.create, create("oc_group0001", "text", {"text": "x"}))
    assert stale.code == 99991663  # the SDK caches its token for its lifetime: the caller must refresh


async def test_the_fake_sends_a_message_once_per_uuid() -> None:
    fake = FakeFeishu()
    await fake.start()
    try:
        api = api_client(fake)
        body = (CreateMessageRequestBody.builder().receive_id("oc_group0001").msg_type("text")
                .content(json.dumps({"text": "提醒"})).uuid("reminder-42").build())
        request = CreateMessageRequest.builder().receive_id_type("chat_id").request_body(body).build()
        first = await asyncio.to_thread(api.im.v1.message.create, request)
        second = await asyncio.to_thread(api.im.v1.message.create, request)
        assert first.code == second.code == 0 and first.data.message_id == second.data.message_id
        assert len(fake.sent) == 1
    finally:
        await fake.close()


def test_endpoint_codes_are_the_sdks() -> None:
    assert (lark_ws.OK, lark_ws.SYSTEM_BUSY, lark_ws.NO_CREDENTIAL) == (ENDPOINT_OK, ENDPOINT_BUSY, NO_CREDENTIAL)
