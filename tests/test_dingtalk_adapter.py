"""The 钉钉 adapter in-process against the fake DingTalk: questions, choices, webhook fallback, reminders, bad frames."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from urllib.parse import unquote

import pytest
from fakes.dingtalk import FakeDingTalk

from bot.adapters import AdapterStopped
from bot.config import parse_config
from bot.dingtalk.adapter import DingTalkAdapter
from bot.dingtalk.channel import DingTalkChannel
from bot.dingtalk.client import Backoff
from bot.dingtalk.render import _FULL_WIDTH as FULL_WIDTH
from bot.dingtalk.render import SEND_LINK
from bot.services import attach_reminders, close_services, open_services
from handlers import texts
from handlers.core import Conversation
from knowledge.answer import Line
from reminders.filters import SubscriptionFilter

ADMIN = "admin01"
FAST = Backoff(initial=0.05, maximum=0.2)


@pytest.fixture
async def dingtalk():
    async with FakeDingTalk() as fake:
        yield fake


def config_for(db_path, fake: FakeDingTalk, secret: str | None = None):
    return parse_config({"storage": {"path": str(db_path)}, "reminders": {"enabled": False},
                         "dingtalk": {"client_id": fake.client_id, "client_secret": secret or fake.client_secret,
                                      "endpoint": fake.base_url, "admins": [ADMIN]}})


@pytest.fixture
async def running(db_path, dingtalk, monkeypatch):
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    config = config_for(db_path, dingtalk)
    services = await open_services(config)
    adapter = DingTalkAdapter(config, services, backoff=FAST)
    await attach_reminders(services, config, {"dingtalk": adapter.channel()})
    await adapter.start(Conversation(services))
    await dingtalk.wait_connected()
    try:
        yield adapter, services
    finally:
        await adapter.stop()
        await close_services(services)


def markdown(call) -> str:
    return call.body["markdown"]["text"] if "markdown" in call.body else json.loads(call.body["msgParam"])["text"]


async def ask(dingtalk: FakeDingTalk, text: str, api: str = "webhook", **fields) -> str:
    before = len(dingtalk.sent(api))
    await dingtalk.push_message(text, **fields)
    calls = await dingtalk.wait_for(api, before + 1)
    return markdown(calls[before])


async def test_a_group_question_is_answered_through_its_session_webhook(running, dingtalk):
    answer = await ask(dingtalk, "碳减排支持工具什么时候出台？谁牵头？", group=True, conversation_id="cidG1==")
    assert "人民银行" in answer and "2021-06-30" in answer
    call = dingtalk.delivered("webhook")[0]
    assert call.body["_conversation"] == "cidG1==" and call.body["msgtype"] == "markdown"
    assert call.body["markdown"]["title"]


async def test_a_list_page_is_chosen_by_link_text_or_by_number(running, dingtalk):
    first = await ask(dingtalk, "哪些任务是年内持续推进的")
    links = re.findall(re.escape(SEND_LINK) + r"([^)]+)\)", first)
    more = next(unquote(link) for link in links if "#pg:" in unquote(link))
    number = next(n for n, link in enumerate(links, 1) if "#pg:" in unquote(link))
    by_link = await ask(dingtalk, more)
    again = await ask(dingtalk, "哪些任务是年内持续推进的")
    assert again.split("\n\n")[0] == first.split("\n\n")[0]
    by_number = await ask(dingtalk, str(number))
    assert re.match(r"\*\*(?:“[^”]+”均为\d{4}年期限：)?共找到 \d+ 条，第 \d+–\d+ 条", by_link)
    assert by_link.split("\n\n")[0] == by_number.split("\n\n")[0] != first.split("\n\n")[0]


async def test_a_forged_choice_gets_a_polite_line_and_changes_nothing(running, dingtalk, caplog):
    _, services = running
    store = services.reminders.store
    await ask(dingtalk, "/subscribe", group=True, conversation_id="cidG9==", staff_id=ADMIN)
    [sub] = await services.worker.run(store.for_chat, "cidG9==", "dingtalk")
    answer = await ask(dingtalk, f"退订 #us:{sub.id}", staff_id="intruder")  # another chat's subscription
    assert "没有编号为" in answer
    assert await services.worker.run(store.for_chat, "cidG9==", "dingtalk") == [sub]
    answer = await ask(dingtalk, "点我 #zz:1")
    assert answer == texts.INVALID_BUTTON.translate(FULL_WIDTH)
    assert [r.message for r in caplog.records].count(
        "dingtalk: a choice with data this bot never made from staff001: 'zz:1'") == 1


async def test_an_expired_webhook_falls_back_to_the_robot_api(running, dingtalk):
    dingtalk.groups.add("cidG2==")
    answer = await ask(dingtalk, "碳减排支持工具谁牵头", api="group", group=True, conversation_id="cidG2==",
                       webhook_ttl_ms=0)
    assert "人民银行" in answer and dingtalk.delivered("group")
    await dingtalk.push_message("碳减排支持工具谁牵头", staff_id="p1")
    dingtalk.expire_webhooks()
    private = await ask(dingtalk, "碳减排支持工具谁牵头", api="oto", staff_id="p1", webhook_ttl_ms=5_400_000)
    assert "人民银行" in private


async def test_a_non_admin_cannot_add_and_an_admin_subscribes_a_group(running, dingtalk):
    _, services = running
    store = services.reminders.store
    refused = await ask(dingtalk, "/add 完成全省充电桩布局规划。（省能源局牵头，2027年6月底前完成）", staff_id="someone")
    assert "管理员" in refused
    refused = await ask(dingtalk, "/subscribe", group=True, conversation_id="cidG3==", staff_id="someone", is_admin=True)
    assert "管理员" in refused and not await services.worker.run(store.for_chat, "cidG3==", "dingtalk")
    await ask(dingtalk, "/subscribe 部门=发改委", group=True, conversation_id="cidG3==", staff_id=ADMIN)
    subs = await services.worker.run(store.for_chat, "cidG3==", "dingtalk")
    assert [(s.channel, s.chat_id) for s in subs] == [("dingtalk", "cidG3==")]
    await ask(dingtalk, "/subscribe", staff_id="0042")  # a private chat; an all-digit staff id stays a string
    assert await services.worker.run(store.for_chat, "u:0042", "dingtalk")


async def test_the_connection_drops_and_the_next_message_is_answered(running, dingtalk):
    await dingtalk.drop(abrupt=True)
    await dingtalk.wait_connected(2)
    assert "人民银行" in await ask(dingtalk, "碳减排支持工具谁牵头")


async def test_bad_frames_are_logged_once_and_ignored(running, dingtalk, caplog):
    await dingtalk.send_raw("{not json")
    await dingtalk.push_callback("/v1.0/im/bot/messages/get", {"conversationType": "9"})
    data = dingtalk.robot_message("x")
    data["msgtype"] = "hologram"
    await dingtalk.push_callback("/v1.0/im/bot/messages/get", data)
    assert "人民银行" in await ask(dingtalk, "碳减排支持工具谁牵头")
    warnings = [r.message for r in caplog.records if r.levelname == "WARNING"]
    assert len([w for w in warnings if "malformed" in w]) == 1
    assert len([w for w in warnings if "without a usable conversation" in w]) == 1
    assert len([w for w in warnings if "of type 'hologram'" in w]) == 1
    assert len(dingtalk.connections) == 1 and len(dingtalk.sent("webhook")) == 1


async def test_a_rejected_secret_stops_the_app_with_one_line(db_path, dingtalk):
    config = config_for(db_path, dingtalk, secret="wrong")
    services = await open_services(config)
    adapter = DingTalkAdapter(config, services, backoff=FAST)
    try:
        with pytest.raises(AdapterStopped, match="client_secret"):
            await adapter.start(Conversation(services))
    finally:
        await adapter.stop()
        await close_services(services)
    assert not dingtalk.connections


async def test_reminders_go_to_groups_and_private_chats_and_a_lost_group_is_disabled(dingtalk, monkeypatch):
    import aiohttp

    from bot.dingtalk.api import DingTalkApi
    from reminders.models import Subscription

    async with aiohttp.ClientSession() as session:
        api = DingTalkApi(dingtalk.client_id, dingtalk.client_secret, session, endpoint=dingtalk.base_url)
        channel = DingTalkChannel(api, 20)
        dingtalk.groups.add("cidIn==")

        def sub(chat_id):
            return Subscription(id=1, chat_id=chat_id, channel="dingtalk", filter=SubscriptionFilter(),
                                created_at=datetime.now(UTC))

        lines = [Line("政策截止提醒（2026-11-21）", strong=True), Line("⏰ 某任务 — 还剩7天")]
        assert (await channel.send(sub("cidIn=="), lines)).ok
        assert (await channel.send(sub("u:0042"), lines)).ok
        gone = await channel.send(sub("cidOut=="), lines)
        assert (gone.ok, gone.permanent, gone.disable) == (False, True, True)
        group, private = dingtalk.delivered("group")[0].body, dingtalk.delivered("oto")[0].body
        assert group["msgKey"] == "sampleMarkdown" and json.loads(group["msgParam"])["text"].startswith("**政策截止提醒")
        assert private["userIds"] == ["0042"]


async def test_too_fast_is_retried_after_the_window(dingtalk):
    import aiohttp

    from bot.dingtalk.api import DingTalkApi

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        dingtalk.qps_per_api = None  # the window passed
        await asyncio.sleep(0)

    async with aiohttp.ClientSession() as session:
        api = DingTalkApi(dingtalk.client_id, dingtalk.client_secret, session, endpoint=dingtalk.base_url)
        channel = DingTalkChannel(api, 1000, sleep=sleep)
        dingtalk.groups.add("cidIn==")
        dingtalk.qps_per_api = 0  # everything is too fast
        await channel.push("cidIn==", "t", "x")
    assert waits == [1.0] and [c.status for c in dingtalk.sent("group")] == [403, 200]


async def test_a_used_up_monthly_quota_is_retried_later_and_says_so(dingtalk):
    import aiohttp

    from bot.dingtalk.api import DingTalkApi, Refused
    from reminders.models import Subscription

    async def used_up(*args, **kwargs):
        raise Refused(403, "Forbidden.AccessDenied.ApiCountLimitForOrg", "您的企业本月api调用量已超过限制")

    async with aiohttp.ClientSession() as session:
        api = DingTalkApi(dingtalk.client_id, dingtalk.client_secret, session, endpoint=dingtalk.base_url)
        api.send_group = used_up  # type: ignore[method-assign]
        sub = Subscription(id=1, chat_id="cidIn==", channel="dingtalk", filter=SubscriptionFilter(),
                           created_at=datetime.now(UTC))
        result = await DingTalkChannel(api).send(sub, [Line("提醒")])
    assert (result.ok, result.permanent, result.disable) == (False, False, False)
    assert "monthly DingTalk API quota" in result.detail


async def test_a_busy_session_webhook_hands_the_reply_to_the_robot_api(running, dingtalk):
    dingtalk.webhook_per_minute = 0  # every webhook answers 130101 "send too fast"
    answer = await ask(dingtalk, "碳减排支持工具谁牵头", api="group", group=True, conversation_id="cidBusy==")
    assert "人民银行" in answer
    assert [c.answer.get("errcode") for c in dingtalk.sent("webhook")] == [130101]
