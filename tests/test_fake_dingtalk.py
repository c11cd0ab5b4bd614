"""The fake 钉钉 answers as DingTalk does, shown first with the official SDK `dingtalk-stream` as the client.

The SDK reads DINGTALK_OPENAPI_ENDPOINT once, at import, and makes blocking `requests` calls on the event loop
(they would deadlock against a fake in the same loop), so it runs in a subprocess that reports what it sees as JSON
lines. Those tests also pin the SDK's misbehaviours the README's choice of our own client rests on.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest
from fakes.dingtalk import BOT_TOPIC, CARD_TOPIC, FakeDingTalk
from fakes.proxy import ForwardProxy

needs_sdk = pytest.mark.skipif(importlib.util.find_spec("dingtalk_stream") is None,
                               reason="the official SDK is an optional extra: pip install dingtalk-stream")

SDK_CLIENT = r"""
import asyncio, json, os, sys
import dingtalk_stream
from dingtalk_stream import AckMessage, CallbackHandler, CardCallbackMessage, ChatbotMessage


def emit(**fields):
    print(json.dumps(fields, ensure_ascii=False, default=str), flush=True)


class Replier(dingtalk_stream.ChatbotHandler):
    async def process(self, callback):
        msg = ChatbotMessage.from_dict(callback.data)
        text = msg.text.content.strip()
        emit(event="message", text=text, conversation=msg.conversation_id, type=msg.conversation_type,
             staff=msg.sender_staff_id, at=msg.is_in_at_list, admin=msg.is_admin, expires=msg.session_webhook_expired_time)
        if text == "卡片":
            emit(event="card", biz=self.reply_card({"config": {"autoLayout": True}, "header": {"title": {"type": "text", "text": "请选择"}}}, msg))
        elif text == "纯文本":
            emit(event="replied", result=self.reply_text("收到", msg))
        else:
            emit(event="replied", result=self.reply_markdown("回复", "**收到** " + text, msg))
        return AckMessage.STATUS_OK, "OK"


class Clicks(CallbackHandler):
    async def process(self, callback):
        card = CardCallbackMessage.from_dict(callback.data)
        emit(event="click", user=card.user_id, track=card.card_instance_id, content=card.content)
        return AckMessage.STATUS_OK, {}


async def main():
    client = dingtalk_stream.DingTalkStreamClient(
        dingtalk_stream.Credential(os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"]))
    client.register_callback_handler(ChatbotMessage.TOPIC, Replier())
    client.register_callback_handler(dingtalk_stream.Card_Callback_Router_Topic, Clicks())
    emit(event="gateway", url=client.OPEN_CONNECTION_API)
    task = asyncio.create_task(client.start())
    if os.environ.get("PROBE") == "cancel":
        while client.websocket is None:
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.sleep(0.5)
        emit(event="cancelled", done=task.done())
    await asyncio.Event().wait()


asyncio.run(main())
"""


class SdkProcess:
    """The SDK client running in a subprocess; `events` are its JSON lines, `log` its stderr."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.events: list[dict] = []
        self.log: list[str] = []
        self._readers = [asyncio.create_task(self._read(proc.stdout, self.events.append, json.loads)),
                         asyncio.create_task(self._read(proc.stderr, self.log.append, str))]

    @staticmethod
    async def _read(stream, sink, parse) -> None:
        while line := await stream.readline():
            sink(parse(line.decode().rstrip()))

    async def event(self, name: str, count: int = 1, timeout: float = 10.0) -> dict:
        async with asyncio.timeout(timeout):
            while len(found := [e for e in self.events if e["event"] == name]) < count:
                await asyncio.sleep(0.01)
        return found[count - 1]

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
        await asyncio.gather(*self._readers)


@contextlib.asynccontextmanager
async def sdk_client(fake: FakeDingTalk, *, secret: str | None = None, probe: str = "",
                     proxy: str = "") -> AsyncIterator[SdkProcess]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    if proxy:
        env.update(HTTP_PROXY=proxy, HTTPS_PROXY=proxy)
    env.update(DINGTALK_OPENAPI_ENDPOINT=fake.base_url, CLIENT_ID=fake.client_id,
               CLIENT_SECRET=fake.client_secret if secret is None else secret, PROBE=probe, NO_PROXY="" if proxy else "127.0.0.1")
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", SDK_CLIENT, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    client = SdkProcess(proc)
    try:
        yield client
    finally:
        await client.stop()


@pytest.fixture
async def dingtalk():
    async with FakeDingTalk() as fake:
        yield fake


# ---------------------------------------------------------------------- the official SDK against the fake


@needs_sdk
async def test_sdk_connects_through_the_endpoint_variable_and_registers_its_topics(dingtalk):
    async with sdk_client(dingtalk) as sdk_proc:
        await dingtalk.wait_connected()
        assert (await sdk_proc.event("gateway"))["url"] == dingtalk.base_url + "/v1.0/gateway/connections/open"
    opened = dingtalk.sent("open")[0]
    assert opened.status == 200
    assert opened.body["clientId"] == dingtalk.client_id and opened.body["ua"].startswith("dingtalk-sdk-python/")
    assert {"type": "CALLBACK", "topic": BOT_TOPIC} in opened.body["subscriptions"]
    assert {"type": "CALLBACK", "topic": CARD_TOPIC} in opened.body["subscriptions"]
    assert "localIp" in opened.body  # found by a UDP "connect" towards 8.8.8.8 (no packet is sent)


@needs_sdk
async def test_sdk_receives_a_private_message_acks_it_and_replies_by_session_webhook(dingtalk):
    async with sdk_client(dingtalk) as sdk_proc:
        await dingtalk.wait_connected()
        message_id = await dingtalk.push_message("碳达峰的目标是什么", staff_id="u100")
        seen = await sdk_proc.event("message")
        ack = await dingtalk.wait_for_ack(message_id)
        reply = (await dingtalk.wait_for("webhook"))[0]
        assert (await sdk_proc.event("replied"))["result"] == {"errcode": 0, "errmsg": "ok"}
    assert seen | {"expires": 0} == {"event": "message", "text": "碳达峰的目标是什么", "conversation": "cidp2pu100==",
                                     "type": "1", "staff": "u100", "at": None, "admin": False, "expires": 0}
    assert ack.parsed["code"] == 200 and ack.parsed["headers"]["contentType"] == "application/json"
    assert ack.data == {"response": "OK"}
    assert reply.accepted and reply.body["_conversation"] == "cidp2pu100=="
    assert reply.body["msgtype"] == "markdown" and reply.body["markdown"] == {"title": "回复", "text": "**收到** 碳达峰的目标是什么"}
    assert reply.body["at"] == {"atUserIds": ["u100"]}


@needs_sdk
async def test_sdk_receives_a_group_at_message_with_the_leading_space_and_admin_flag(dingtalk):
    async with sdk_client(dingtalk) as sdk_proc:
        await dingtalk.wait_connected()
        await dingtalk.push_message("纯文本", group=True, staff_id="u7", is_admin=True, conversation_id="cidG1==")
        seen = await sdk_proc.event("message")
        reply = (await dingtalk.wait_for("webhook", conversation="cidG1=="))[0]
    assert (seen["type"], seen["conversation"], seen["at"], seen["admin"]) == ("2", "cidG1==", True, True)
    assert reply.accepted and reply.body["text"] == {"content": "收到"}


@needs_sdk
async def test_sdk_answers_system_ping_with_the_opaque_and_reconnects_on_disconnect(dingtalk):
    async with sdk_client(dingtalk):
        await dingtalk.wait_connected()
        message_id, opaque = await dingtalk.ping()
        ack = await dingtalk.wait_for_ack(message_id)
        await dingtalk.disconnect()
        await dingtalk.wait_connected(2)
    assert ack.parsed["code"] == 200 and ack.data == {"opaque": opaque}
    assert len(dingtalk.sent("open")) == 2


@needs_sdk
async def test_sdk_sends_an_interactive_card_by_openapi_and_receives_its_click(dingtalk):
    async with sdk_client(dingtalk) as sdk_proc:
        await dingtalk.wait_connected()
        await dingtalk.push_message("卡片", group=True, conversation_id="cidG2==")
        biz = (await sdk_proc.event("card"))["biz"]
        card = (await dingtalk.wait_for("card"))[0]
        click_id = await dingtalk.push_callback(CARD_TOPIC, dingtalk.card_callback(biz, "choice_2", {"n": "2"}))
        click = await sdk_proc.event("click")
        ack = await dingtalk.wait_for_ack(click_id)
    assert dingtalk.sent("token")[0].accepted
    assert card.accepted and card.body["openConversationId"] == "cidG2==" and card.body["cardBizId"] == biz
    assert click["track"] == biz and click["content"] == {"cardPrivateData": {"actionIds": ["choice_2"], "params": {"n": "2"}}}
    assert ack.parsed["code"] == 200


@needs_sdk
async def test_sdk_reply_to_an_expired_session_webhook_gets_dingtalks_error(dingtalk):
    async with sdk_client(dingtalk) as sdk_proc:
        await dingtalk.wait_connected()
        await dingtalk.push_message("你好", webhook_ttl_ms=-1)
        replied = await sdk_proc.event("replied")
    assert replied["result"] == {"errcode": 300001, "errmsg": "session 不存在"}
    assert not dingtalk.sent("webhook")[0].accepted


# ---------------------------------------------------------------------- the SDK's misbehaviours, pinned


@needs_sdk
async def test_sdk_reply_blocks_the_event_loop_so_pings_wait_for_it(dingtalk):
    """reply_markdown is a blocking requests.post without timeout inside an async handler."""
    dingtalk.hold_webhooks = asyncio.Event()
    async with sdk_client(dingtalk):
        await dingtalk.wait_connected()
        await dingtalk.push_message("你好")
        await dingtalk.wait_for("webhook")  # the SDK is now inside requests.post, the fake holds the answer
        ping_id, _ = await dingtalk.ping()
        await asyncio.sleep(0.5)
        acked_while_blocked = bool(dingtalk.acks(ping_id))
        dingtalk.hold_webhooks.set()
        await dingtalk.wait_for_ack(ping_id)
    assert not acked_while_blocked


@needs_sdk
async def test_sdk_drops_the_connection_on_one_malformed_frame(dingtalk):
    async with sdk_client(dingtalk) as sdk_proc:
        first = await dingtalk.wait_connected()
        await dingtalk.send_raw("{not json")
        await asyncio.wait_for(first.closed.wait(), 10)
        await dingtalk.wait_connected(2)  # after a fixed 3 s pause
    assert any("Logging error" in line for line in sdk_proc.log)  # logger.exception('unknown exception', e)


@needs_sdk
async def test_sdk_reconnects_at_once_after_a_clean_server_close(dingtalk):
    async with sdk_client(dingtalk):
        await dingtalk.wait_connected()
        await dingtalk.drop()
        await dingtalk.wait_connected(2)
    assert len(dingtalk.sent("open")) == 2


@needs_sdk
async def test_sdk_swallows_the_first_cancellation(dingtalk):
    async with sdk_client(dingtalk, probe="cancel") as sdk_proc:
        await dingtalk.wait_connected()
        cancelled = await sdk_proc.event("cancelled")
    assert cancelled["done"] is False
    assert any("network exception" in line for line in sdk_proc.log)


@needs_sdk
async def test_sdk_keeps_retrying_a_wrong_secret_with_only_log_lines(dingtalk):
    async with sdk_client(dingtalk, secret="wrong") as sdk_proc:
        await dingtalk.wait_for("open")
        async with asyncio.timeout(10):
            while not any("open connection failed" in line for line in sdk_proc.log):
                await asyncio.sleep(0.01)
        assert sdk_proc.proc.returncode is None  # still running; it sleeps 10 s and asks again, forever
    assert dingtalk.sent("open")[0].status == 401
    assert dingtalk.sent("open")[0].answer["code"] == "authFailed"


@needs_sdk
async def test_sdk_sends_gateway_webhook_and_socket_through_proxy_variables(dingtalk):
    """requests and websockets both read HTTP(S)_PROXY / NO_PROXY: fine for offices, so tests must clear them."""
    proxy = ForwardProxy()
    try:
        async with sdk_client(dingtalk, proxy=await proxy.start()) as sdk_proc:
            await dingtalk.wait_connected()
            await dingtalk.push_message("经代理")
            await sdk_proc.event("replied")
    finally:
        await proxy.close()
    methods = [r.split(" ")[0] for r in proxy.requests]
    assert methods[:3] == ["POST", "CONNECT", "POST"]  # gateway, WebSocket tunnelled by CONNECT, session webhook


# ---------------------------------------------------------------------- the fake's own answers


async def post(url: str, body: object, token: str | None = None) -> tuple[int, dict]:
    headers = {"x-acs-dingtalk-access-token": token} if token else {}
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def token(fake: FakeDingTalk) -> str:
    status, body = await post(fake.base_url + "/v1.0/oauth2/accessToken",
                              {"appKey": fake.client_id, "appSecret": fake.client_secret})
    assert status == 200 and body["expireIn"] == 7200
    return body["accessToken"]


async def test_fake_refuses_wrong_secrets_and_tokens_with_dingtalks_codes(dingtalk):
    status, body = await post(dingtalk.base_url + "/v1.0/oauth2/accessToken",
                              {"appKey": dingtalk.client_id, "appSecret": "wrong"})
    assert (status, body["code"]) == (400, "invalidClientIdOrSecret")
    status, body = await post(dingtalk.base_url + "/v1.0/gateway/connections/open",
                              {"clientId": dingtalk.client_id, "clientSecret": "wrong", "subscriptions": []})
    assert (status, body["code"]) == (401, "authFailed")
    status, body = await post(dingtalk.base_url + "/v1.0/robot/groupMessages/send", {}, token="forged")
    assert (status, body["code"]) == (400, "InvalidAuthentication")


async def test_fake_ticket_opens_one_connection_only(dingtalk):
    status, opened = await post(dingtalk.base_url + "/v1.0/gateway/connections/open",
                                {"clientId": dingtalk.client_id, "clientSecret": dingtalk.client_secret,
                                 "subscriptions": [{"type": "CALLBACK", "topic": BOT_TOPIC}]})
    assert status == 200 and opened["endpoint"].startswith("ws://127.0.0.1:")
    url = f"{opened['endpoint']}?ticket={opened['ticket']}"
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url):
            await dingtalk.wait_connected()
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url)
    assert refused.value.status == 401


async def test_fake_group_send_checks_group_robot_and_message(dingtalk):
    access = await token(dingtalk)
    url = dingtalk.base_url + "/v1.0/robot/groupMessages/send"
    dingtalk.groups.add("cidG==")
    good = {"robotCode": dingtalk.robot_code, "openConversationId": "cidG==", "msgKey": "sampleMarkdown",
            "msgParam": json.dumps({"title": "提醒", "text": "**明天截止**"})}
    assert (await post(url, good, access))[0] == 200
    assert (await post(url, good | {"openConversationId": "cidOther=="}, access))[1]["code"] == "invalid.openConversationId"
    assert (await post(url, good | {"msgKey": "markdown"}, access))[1]["code"] == "invalidParameter.msgKey.invalid"
    assert (await post(url, good | {"msgParam": "{"}, access))[1]["code"] == "invalidParameter.msgParam.invalid"
    assert (await post(url, good | {"msgParam": json.dumps({"text": "x" * 15001, "title": "t"})}, access))[0] == 400
    assert [c.accepted for c in dingtalk.sent("group")] == [True, False, False, False, False]


async def test_fake_limits_each_api_to_20_calls_a_second_per_app(dingtalk):
    access = await token(dingtalk)
    dingtalk.clock = lambda: 1000.0  # every call in the same second
    url = dingtalk.base_url + "/v1.0/robot/oToMessages/batchSend"
    body = {"robotCode": dingtalk.robot_code, "userIds": ["u1"], "msgKey": "sampleText",
            "msgParam": json.dumps({"content": "提醒"})}
    answers = [await post(url, body, access) for _ in range(21)]
    assert [s for s, _ in answers] == [200] * 20 + [403]
    assert answers[-1][1]["code"] == "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"
    dingtalk.clock = lambda: 1001.5
    assert (await post(url, body, access))[0] == 200


async def test_fake_batch_send_takes_at_most_20_users(dingtalk):
    access = await token(dingtalk)
    body = {"robotCode": dingtalk.robot_code, "userIds": [f"u{i}" for i in range(21)], "msgKey": "sampleText",
            "msgParam": json.dumps({"content": "提醒"})}
    status, answer = await post(dingtalk.base_url + "/v1.0/robot/oToMessages/batchSend", body, access)
    assert (status, answer["code"]) == (400, "invalidParameter.userIds.overMax")


async def test_fake_session_webhook_checks_body_and_rate(dingtalk):
    webhook = dingtalk.robot_message("你好")["sessionWebhook"]
    dingtalk.clock = lambda: 50.0
    assert (await post(webhook, {"msgtype": "markdown", "markdown": {"text": "无标题"}}))[1]["errcode"] == 40035
    card = {"msgtype": "actionCard", "actionCard": {"title": "选择", "text": "请选择",
                                                    "btns": [{"title": "1", "actionURL": "dtmd://dingtalkclient/sendMessage?content=1"}]}}
    answers = [(await post(webhook, card))[1]["errcode"] for _ in range(21)]
    assert answers == [0] * 20 + [130101]
    dingtalk.expire_webhooks()
    assert (await post(webhook, card))[1]["errcode"] == 300001
