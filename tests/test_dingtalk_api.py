"""Our 钉钉 OpenAPI calls against the fake DingTalk: tokens, session-webhook replies, robot messages, error classes."""

from __future__ import annotations

import aiohttp
import pytest
from fakes.dingtalk import FakeDingTalk

from bot.dingtalk.api import DingTalkApi, Refused, SessionExpired, TooFast

MARKDOWN = {"title": "提醒", "text": "**报送截止** 12月1日"}


@pytest.fixture
async def dingtalk():
    async with FakeDingTalk() as fake:
        yield fake


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def api(dingtalk, session):
    return DingTalkApi(dingtalk.client_id, dingtalk.client_secret, session, endpoint=dingtalk.base_url)


async def test_group_and_private_sends_share_one_cached_token(dingtalk, api):
    dingtalk.groups.add("cidG==")
    key = await api.send_group("cidG==", "sampleMarkdown", MARKDOWN)
    answer = await api.send_private(["u1", "u2"], "sampleText", {"content": "你好"})
    assert key and answer["invalidStaffIdList"] == []
    assert len(dingtalk.sent("token")) == 1
    group, private = dingtalk.delivered("group")[0].body, dingtalk.delivered("oto")[0].body
    assert (group["robotCode"], group["openConversationId"], group["msgKey"]) == (dingtalk.client_id, "cidG==",
                                                                                 "sampleMarkdown")
    assert group["msgParam"] == '{"title": "提醒", "text": "**报送截止** 12月1日"}'
    assert private["userIds"] == ["u1", "u2"]


async def test_the_token_is_renewed_before_it_expires_and_after_it_is_refused(dingtalk, session):
    now = [0.0]
    api = DingTalkApi(dingtalk.client_id, dingtalk.client_secret, session, endpoint=dingtalk.base_url,
                      clock=lambda: now[0])
    first = await api.access_token()
    now[0] = 7200 - 301
    assert await api.access_token() == first
    now[0] = 7200 - 299
    second = await api.access_token()
    assert second != first
    dingtalk.groups.add("cidG==")
    dingtalk.revoke_tokens()
    await api.send_group("cidG==", "sampleText", {"content": "x"})
    assert [c.accepted for c in dingtalk.sent("group")] == [False, True]
    assert len(dingtalk.sent("token")) == 3


async def test_reply_through_the_session_webhook_and_its_expiry(dingtalk, api):
    message = dingtalk.robot_message("你好", group=True, conversation_id="cidG==")
    await api.reply(message["sessionWebhook"], {"msgtype": "markdown", "markdown": MARKDOWN})
    assert dingtalk.delivered("webhook", "cidG==")[0].body["markdown"] == MARKDOWN
    dingtalk.expire_webhooks()
    with pytest.raises(SessionExpired):
        await api.reply(message["sessionWebhook"], {"msgtype": "markdown", "markdown": MARKDOWN})


async def test_rate_limits_raise_too_fast(dingtalk, api):
    dingtalk.clock = lambda: 10.0
    dingtalk.groups.add("cidG==")
    for _ in range(20):
        await api.send_group("cidG==", "sampleText", {"content": "x"})
    with pytest.raises(TooFast) as too_fast:
        await api.send_group("cidG==", "sampleText", {"content": "x"})
    assert (too_fast.value.status, too_fast.value.code) == (403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi")
    webhook = dingtalk.robot_message("你好")["sessionWebhook"]
    for _ in range(20):
        await api.reply(webhook, {"msgtype": "text", "text": {"content": "x"}})
    with pytest.raises(TooFast):
        await api.reply(webhook, {"msgtype": "text", "text": {"content": "x"}})


async def test_refusals_carry_dingtalks_code(dingtalk, session, api):
    with pytest.raises(Refused) as unknown_group:
        await api.send_group("cidNotHere==", "sampleText", {"content": "x"})
    assert unknown_group.value.code == "invalid.openConversationId"
    wrong = DingTalkApi(dingtalk.client_id, "wrong", session, endpoint=dingtalk.base_url)
    with pytest.raises(Refused) as rejected:
        await wrong.send_group("cidG==", "sampleText", {"content": "x"})
    assert (rejected.value.status, rejected.value.code) == (400, "invalidClientIdOrSecret")
    with pytest.raises(ValueError):
        await api.send_private([f"u{i}" for i in range(21)], "sampleText", {"content": "x"})
    assert dingtalk.sent("oto") == []
