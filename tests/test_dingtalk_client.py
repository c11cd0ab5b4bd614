"""Our 钉钉 Stream client against the fake DingTalk (which the official SDK was first shown to work with)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from fakes.dingtalk import CARD_TOPIC, FakeDingTalk
from fakes.proxy import ForwardProxy

from bot.dingtalk.client import (
    BOT_TOPIC,
    Backoff,
    CredentialsRejected,
    StreamClient,
    StreamEvent,
    ack,
    parse_frame,
    proxy_for,
)

FAST = Backoff(initial=0.02, maximum=0.1)


class Inbox:
    """A handler that records events and, for robot messages, replies through the session webhook."""

    def __init__(self) -> None:
        self.events: list[StreamEvent] = []
        self.replies: list[dict] = []
        self.gate: asyncio.Event | None = None

    async def __call__(self, event: StreamEvent) -> None:
        self.events.append(event)
        if self.gate is not None:
            await self.gate.wait()
        if event.data.get("text", {}).get("content", "").strip() == "boom":
            raise RuntimeError("handler bug")
        if "sessionWebhook" in event.data:
            body = {"msgtype": "markdown", "markdown": {"title": "回复", "text": "收到 " + event.data["text"]["content"]}}
            async with aiohttp.ClientSession() as s, s.post(event.data["sessionWebhook"], json=body) as resp:
                self.replies.append(await resp.json())

    async def wait(self, count: int = 1) -> list[StreamEvent]:
        async with asyncio.timeout(10):
            while len(self.events) < count:
                await asyncio.sleep(0.01)
        return self.events


@pytest.fixture
async def dingtalk():
    async with FakeDingTalk() as fake:
        yield fake


@contextlib.asynccontextmanager
async def running(fake: FakeDingTalk, inbox: Inbox, **options) -> AsyncIterator[tuple[StreamClient, asyncio.Task]]:
    options.setdefault("backoff", FAST)
    client = StreamClient(fake.client_id, options.pop("secret", fake.client_secret), inbox,
                          endpoint=fake.base_url, topics=(BOT_TOPIC, CARD_TOPIC), rand=lambda: 0.5, **options)
    task = asyncio.create_task(client.run())
    try:
        yield client, task
    finally:
        await client.stop()
        with contextlib.suppress(CredentialsRejected):
            await asyncio.wait_for(task, 10)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


async def test_receives_acks_and_replies_in_private_and_group_chats(dingtalk):
    inbox = Inbox()
    async with running(dingtalk, inbox):
        await dingtalk.wait_connected()
        private = await dingtalk.push_message("碳达峰目标", staff_id="u1")
        group = await dingtalk.push_message("截止日期", group=True, staff_id="u2", conversation_id="cidG==")
        events = await inbox.wait(2)
        acks = [await dingtalk.wait_for_ack(private), await dingtalk.wait_for_ack(group)]
        await dingtalk.wait_for("webhook", 2)
    assert [(e.type, e.topic, e.data["conversationType"]) for e in events] == [("CALLBACK", BOT_TOPIC, "1"),
                                                                              ("CALLBACK", BOT_TOPIC, "2")]
    assert [e.message_id for e in events] == [private, group]
    assert all(a.parsed["code"] == 200 and a.data == {"response": None} for a in acks)
    assert [c.body["_conversation"] for c in dingtalk.delivered("webhook")] == ["cidp2pu1==", "cidG=="]
    assert inbox.replies == [{"errcode": 0, "errmsg": "ok"}] * 2
    opened = dingtalk.sent("open")[0].body
    assert opened["subscriptions"] == [{"type": "CALLBACK", "topic": BOT_TOPIC}, {"type": "CALLBACK", "topic": CARD_TOPIC}]


async def test_answers_ping_with_its_opaque_even_while_a_handler_is_slow(dingtalk):
    inbox = Inbox()
    inbox.gate = asyncio.Event()
    async with running(dingtalk, inbox):
        await dingtalk.wait_connected()
        await dingtalk.push_message("慢问题")
        await inbox.wait()
        ping_id, opaque = await dingtalk.ping()
        ping_ack = await dingtalk.wait_for_ack(ping_id)  # the handler is still waiting on its gate
        inbox.gate.set()
    assert ping_ack.parsed["code"] == 200 and ping_ack.data == {"opaque": opaque}


async def test_reconnects_at_once_when_dingtalk_announces_a_disconnect(dingtalk):
    dingtalk.disconnect_grace = 30.0  # we must not wait for the server to close
    inbox = Inbox()
    async with running(dingtalk, inbox, backoff=Backoff(initial=60, maximum=60)) as (client, _):
        first = await dingtalk.wait_connected()
        await dingtalk.disconnect()
        await dingtalk.wait_connected(2)
        await asyncio.wait_for(first.closed.wait(), 10)
        await dingtalk.push_message("还在吗")
        await inbox.wait()
    assert ("reconnecting", "in 0s after DingTalk asked to reconnect") in client.history


@pytest.mark.parametrize("abrupt", [False, True])
async def test_reconnects_with_backoff_when_the_server_drops_the_connection(dingtalk, abrupt):
    inbox = Inbox()
    async with running(dingtalk, inbox) as (client, _):
        await dingtalk.wait_connected()
        await dingtalk.drop(abrupt=abrupt)
        await dingtalk.wait_connected(2)
        await dingtalk.push_message("断线后")
        await inbox.wait()
    waits = [detail for state, detail in client.history if state == "reconnecting"]
    assert len(waits) == 1 and waits[0].startswith("in 0.015s after")  # the first backoff delay, not at once


async def test_ignores_malformed_and_unknown_frames_and_keeps_the_connection(dingtalk, caplog):
    inbox = Inbox()
    async with running(dingtalk, inbox):
        conn = await dingtalk.wait_connected()
        await dingtalk.send_raw("{not json")
        await dingtalk.send_raw(json.dumps({"type": "CALLBACK", "headers": {"messageId": "m-bad", "topic": BOT_TOPIC},
                                            "data": "not json"}))
        await dingtalk.send_raw(json.dumps({"type": "CALLBACK", "headers": {"messageId": "m-odd", "topic": "/v1.0/x"},
                                            "data": "{}"}))
        await dingtalk.send_raw(json.dumps({"type": "NEWTYPE", "headers": {"messageId": "m-new"}, "data": "{}"}))
        bad, odd = await dingtalk.wait_for_ack("m-bad"), await dingtalk.wait_for_ack("m-odd")
        await dingtalk.push_message("之后的问题")
        await inbox.wait()
    assert len(dingtalk.connections) == 1 and conn.number == 1
    assert (bad.parsed["code"], odd.parsed["code"]) == (400, 404)
    assert [e.data["text"]["content"] for e in inbox.events] == ["之后的问题"]
    assert sum("ignored" in r.getMessage() for r in caplog.records) == 4


async def test_an_oversized_frame_costs_one_reconnect_and_nothing_else(dingtalk, caplog):
    inbox = Inbox()
    async with running(dingtalk, inbox, max_frame=64 * 1024) as (client, _):
        await dingtalk.wait_connected()
        await dingtalk.send_raw(json.dumps({"type": "CALLBACK", "headers": {"messageId": "big"}, "data": "x" * 100_000}))
        await dingtalk.wait_connected(2)
        await dingtalk.push_message("之后")
        await inbox.wait()
    assert [e.data["text"]["content"] for e in inbox.events] == ["之后"]
    assert [state for state, _ in client.history].count("reconnecting") == 1


async def test_a_failing_handler_is_logged_and_the_next_message_still_handled(dingtalk, caplog):
    inbox = Inbox()
    async with running(dingtalk, inbox):
        await dingtalk.wait_connected()
        await dingtalk.push_message("boom")
        await dingtalk.push_message("正常")
        await dingtalk.wait_for("webhook")
    assert any(r.getMessage().endswith("the handler failed") and r.exc_info for r in caplog.records)


async def test_a_wrong_secret_stops_with_one_error_line_naming_the_setting(dingtalk, caplog):
    caplog.set_level(logging.INFO, logger="bot.dingtalk.client")
    client = StreamClient(dingtalk.client_id, "wrong", Inbox(), endpoint=dingtalk.base_url, backoff=FAST)
    with pytest.raises(CredentialsRejected):
        await asyncio.wait_for(client.run(), 10)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(dingtalk.sent("open")) == 1 and len(errors) == 1
    assert "authFailed" in errors[0] and "[dingtalk] client_id and client_secret" in errors[0]
    assert client.state == "stopped"


async def test_retries_a_failing_gateway_with_growing_jittered_delays(dingtalk):
    dingtalk.gateway_failures = 3
    async with running(dingtalk, Inbox()) as (client, _):
        await dingtalk.wait_connected()
    waits = [detail.split(" after ")[0] for state, detail in client.history if state == "reconnecting"]
    assert waits == ["in 0.015s", "in 0.03s", "in 0.06s"]  # rand 0.5, initial 0.02
    assert [c.status for c in dingtalk.sent("open")] == [503, 503, 503, 200]


async def test_stop_interrupts_a_backoff_wait_and_cancellation_propagates(dingtalk):
    dingtalk.gateway_failures = 100
    client = StreamClient(dingtalk.client_id, dingtalk.client_secret, Inbox(), endpoint=dingtalk.base_url,
                          backoff=Backoff(initial=300, maximum=300))
    task = asyncio.create_task(client.run())
    await dingtalk.wait_for("open")
    async with asyncio.timeout(10):
        while client.state != "reconnecting":
            await asyncio.sleep(0.01)
    await client.stop()
    await asyncio.wait_for(task, 5)
    assert client.state == "stopped"

    connected = StreamClient(dingtalk.client_id, dingtalk.client_secret, Inbox(), endpoint=dingtalk.base_url)
    dingtalk.gateway_failures = 0
    task = asyncio.create_task(connected.run())
    conn = await dingtalk.wait_connected()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(conn.closed.wait(), 5)


def test_backoff_doubles_to_its_cap_with_half_of_it_random():
    backoff = Backoff(initial=1, maximum=60)
    assert [backoff.delay(n, 0.0) for n in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert [backoff.delay(n, 1.0) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff.delay(10_000, 1.0) == 60


def test_frames_are_parsed_strictly_and_acks_follow_the_protocol():
    assert parse_frame('{"type":"SYSTEM","headers":{"messageId":"m1","topic":"ping"},"data":"{}"}')["type"] == "SYSTEM"
    for raw in ("", "[]", "null", '{"headers":{}}', '{"headers":{"messageId":1}}', '{"headers":{"messageId":"m"},"data":{}}'):
        assert parse_frame(raw) is None
    assert json.loads(ack("m1", '{"opaque":"x"}')) == {
        "code": 200, "headers": {"messageId": "m1", "contentType": "application/json"}, "message": "OK",
        "data": '{"opaque":"x"}'}


def test_proxy_for_follows_the_standard_variables(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.office:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://plain.office:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,.internal.gov.cn")
    assert proxy_for("https://api.dingtalk.com/v1.0/gateway/connections/open") == "http://proxy.office:3128"
    assert proxy_for("wss://wss-open-connection.dingtalk.com/connect?ticket=t") == "http://proxy.office:3128"
    assert proxy_for("ws://example.com/connect") == "http://plain.office:3128"
    assert proxy_for("http://127.0.0.1:8080/connect") is None
    assert proxy_for("https://api.internal.gov.cn") is None


async def test_gateway_and_socket_go_through_the_configured_proxy(dingtalk, monkeypatch):
    proxy = ForwardProxy()
    monkeypatch.setenv("HTTP_PROXY", await proxy.start())
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    inbox = Inbox()
    try:
        async with running(dingtalk, inbox):
            await dingtalk.wait_connected()
            await dingtalk.push_message("经代理")
            await inbox.wait()
    finally:
        await proxy.close()
    assert [r.split(" ")[0] for r in proxy.requests[:2]] == ["POST", "GET"]
    assert proxy.requests[0].startswith(f"POST {dingtalk.base_url}/v1.0/gateway/connections/open ")
    ws_url = dingtalk.base_url.replace("http://", "ws://")
    assert proxy.requests[1].startswith(f"GET {ws_url}/connect?ticket=")
