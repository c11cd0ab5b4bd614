"""The 飞书 adapter: parsing and rendering (tables), then the adapter in-process against the fake."""

from __future__ import annotations

import contextlib
import json
import logging
import re

import pytest
from fakes.feishu import CHAT_TOO_FAST, FakeFeishu, card_action_event, message_event

from bot.adapters import AdapterStopped
from bot.config import parse_config
from bot.feishu.adapter import MAX_TEXT, FeishuAdapter, message_text, parse_message, without_mentions
from bot.feishu.render import (
    MAX_CARD_BYTES,
    RECEIVED,
    button_value,
    card,
    clicked,
    escape,
    lines_to_markdown,
    numbered_card,
    reply_card,
)
from bot.services import attach_reminders, close_services, open_services
from handlers import texts
from handlers.core import Conversation
from handlers.messages import GROUP, PRIVATE, Choice, OutFile, Reply
from knowledge.answer import Line
from reminders.models import Subscription, SubscriptionFilter

ADMIN = "ou_admin0001"
USER = "ou_user0001"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "POLICYBOT_FEISHU_APP_ID", "POLICYBOT_FEISHU_APP_SECRET"):
        monkeypatch.delenv(name, raising=False)


# --- parsing -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "keys", "expected"), [
    ("@_user_1 碳减排支持工具", ["@_user_1"], ("碳减排支持工具", True)),
    ("请问 @_user_1 谁牵头？", ["@_user_1"], ("请问 谁牵头？", True)),
    ("@_user_12 @_user_1 问题", ["@_user_1", "@_user_12"], ("问题", True)),  # not "2 问题"
    ("没有提到谁", [], ("没有提到谁", False)),
    ("@_user_2 你好", ["@_user_1"], ("@_user_2 你好", False)),
])
def test_mentions_are_taken_out_of_the_text(text, keys, expected) -> None:
    assert without_mentions(text, [{"key": k, "name": "x"} for k in keys]) == expected


def test_post_messages_give_their_text_and_other_kinds_none() -> None:
    post = {"title": "问题", "content": [[{"tag": "at", "user_id": "@_user_1"}, {"tag": "text", "text": " 谁牵头"}],
                                          [{"tag": "a", "text": "链接", "href": "https://x"}, {"tag": "img"}]]}
    assert message_text("post", post) == "问题\n@_user_1 谁牵头\n链接"
    assert message_text("post", {"zh_cn": post}) == "问题\n@_user_1 谁牵头\n链接"
    assert message_text("image", {"image_key": "img_1"}) is None
    for kind, content in (("text", {}), ("text", {"text": 1}), ("post", [])):
        with pytest.raises(ValueError):
            message_text(kind, content)


def _event(text: str, **kwargs) -> dict:
    return message_event(text, **kwargs)["event"]


def test_group_and_private_messages_become_neutral_ones() -> None:
    incoming, message_id = parse_message(_event("谁牵头？", message_id="om_1"))
    assert (incoming.app, incoming.chat_id, incoming.chat_kind, incoming.sender_id, incoming.text,
            incoming.addressed, message_id) == ("feishu", "oc_group0001", GROUP, USER, "谁牵头？", True, "om_1")
    assert incoming.check_manager is None  # Feishu does not say who manages a group here
    assert not parse_message(_event("大家好", mention_bot=False))[0].addressed
    assert parse_message(_event("/help", mention_bot=False))[0].addressed
    private = parse_message(_event("你好", chat_type="p2p", chat_id="oc_p2p0001"))[0]
    assert private.chat_kind == PRIVATE and private.addressed and private.text == "你好"


def test_media_other_senders_and_malformed_events() -> None:
    picture = _event("x")
    picture["message"].update(message_type="image", content=json.dumps({"image_key": "img_1"}))
    assert parse_message(picture)[0].has_media
    from_app = _event("x")
    from_app["sender"]["sender_type"] = "app"
    assert parse_message(from_app) is None
    broken = [None, {}, {"sender": {}, "message": {}}]
    for change in ({"content": "{not json"}, {"chat_type": "topic"}, {"chat_id": ""},
                   {"content": json.dumps({"text": "问" * (MAX_TEXT + 1)})}):
        event = _event("x")
        event["message"].update(change)
        broken.append(event)
    for event in broken:
        with pytest.raises(ValueError):
            parse_message(event)


# --- rendering -----------------------------------------------------------------------------------

def test_lines_become_markdown_with_strong_bold_and_syntax_escaped() -> None:
    lines = [Line("到期提醒", strong=True), Line("a*b* <x> [y](z) ~~s~~ `c` & #12")]
    assert lines_to_markdown(lines) == ("**到期提醒**\n"
                                        "a&#42;b&#42; &lt;x&gt; &#91;y&#93;(z) &#126;&#126;s&#126;&#126; &#96;c&#96; &amp; #12")
    assert escape("普通文字") == "普通文字"


def test_a_long_reply_is_cut_at_a_line_within_the_card_limit() -> None:
    lines = [Line(f"第{n}行 " + "政策" * 200) for n in range(100)]
    choices = [[Choice("很长的按钮文字" * 10, f"it:{n}{m}") for m in range(5)] for n in range(10)]
    content = card(lines, reply_card(Reply(lines, choices))["elements"][1:])
    size = len(json.dumps(content, ensure_ascii=False).encode())
    markdown = content["elements"][0]["content"]
    assert size <= MAX_CARD_BYTES and markdown.endswith("\n…") and markdown.split("\n")[-2].startswith("第")
    assert len(content["elements"]) == 11


def test_buttons_carry_the_payload_and_a_private_chat_is_signed() -> None:
    group = reply_card(Reply([Line("选一个")], [[Choice("#14", "it:14"), Choice("下一页", "pg:ab:1")]]))
    assert [b["value"] for b in group["elements"][1]["actions"]] == [{"choice": "it:14"}, {"choice": "pg:ab:1"}]
    private = button_value("it:14", secret="s", private_chat="oc_p")
    assert clicked(private, "oc_p", "s") == ("it:14", True)
    assert clicked(private, "oc_other", "s") == ("it:14", False)  # copied into another chat: not private
    assert clicked({"choice": "it:14", "p2p": "forged"}, "oc_p", "s") == ("it:14", False)
    for forged in (None, [], {"choice": 1}, {"x": "it:1"}, {"choice": ""}, {"choice": "x" * 65}):
        assert clicked(forged, "oc_p", "s") is None


def test_numbered_choices_and_files_as_lines() -> None:
    reply = Reply([Line("您是不是想问：")], [[Choice("#14", "it:14", "增加充电桩")], [Choice("#313", "it:313")]],
                  file=OutFile("deadlines.ics", b"x", "日历"))
    content, choices = numbered_card(reply)
    assert content["elements"][0]["content"].split("\n") == [
        "您是不是想问：", "文件“deadlines.ics”（日历）无法在飞书中发送；请在 Telegram 或 policybot 命令行中获取。",
        "&#91;1&#93; 增加充电桩", "&#91;2&#93; #313"]
    assert [c.payload for c in choices] == ["it:14", "it:313"] and len(content["elements"]) == 1


# --- the adapter, in-process -----------------------------------------------------------------------

@pytest.fixture
async def fake():
    server = FakeFeishu()
    await server.start()
    yield server
    await server.close()


@contextlib.asynccontextmanager
async def running(fake: FakeFeishu, db_path, *, secret: str | None = None, **adapter_kwargs):
    config = parse_config({"storage": {"path": str(db_path)}, "reminders": {"enabled": False},
                           "feishu": {"app_id": fake.app_id, "app_secret": secret or fake.app_secret,
                                      "domain": fake.url, "admins": [ADMIN]}})
    services = await open_services(config)
    adapter = FeishuAdapter(config, services, **adapter_kwargs)
    await attach_reminders(services, config, {"feishu": adapter.channel()})
    try:
        await adapter.start(Conversation(services))
        await fake.wait_connected()
        yield adapter, services
    finally:
        await adapter.stop()
        await close_services(services)


def markdown(message) -> str:
    return message.content["elements"][0]["content"]


def values(message) -> list[dict]:
    return [b["value"] for e in message.content["elements"][1:] for b in e["actions"]]


async def ask(fake: FakeFeishu, text: str, count: int, **kwargs):
    """Push a message and wait for the fake to hold `count` sent messages; return the newest."""
    await fake.push_event(message_event(text, fake=fake, **kwargs))
    return (await fake.wait_sent(count))[-1]


async def test_a_group_mention_gets_the_answer_as_a_reply_card(fake: FakeFeishu, db_path) -> None:
    async with running(fake, db_path):
        event = message_event("碳减排支持工具什么时候出台？谁牵头？", fake=fake)
        await fake.push_event(event)
        [answer] = await fake.wait_sent(1)
    assert answer.reply_to == event["event"]["message"]["message_id"] and answer.msg_type == "interactive"
    assert "2021-06-30" in markdown(answer) and "牵头：人民银行" in markdown(answer)
    [related] = values(answer)  # one related item's button
    assert re.fullmatch(r"it:\d+", related["choice"])


async def test_only_addressed_group_messages_are_answered(fake: FakeFeishu, db_path) -> None:
    async with running(fake, db_path):
        await fake.push_event(message_event("大家好", fake=fake, mention_bot=False))
        answer = await ask(fake, "谁负责碳减排支持工具？", 1)
    assert len(fake.sent) == 1 and "人民银行" in markdown(answer)


async def test_a_choice_round_trip_answers_the_click_in_its_ack(fake: FakeFeishu, db_path) -> None:
    async with running(fake, db_path):
        suggestions = await ask(fake, "充电桩补贴标准", 1, chat_type="p2p", chat_id="oc_p2p0001")
        first = values(suggestions)[0]
        assert first["choice"] == "it:14" and "p2p" in first
        click = await fake.push_event(card_action_event(first, chat_id="oc_p2p0001",
                                                        message_id=suggestions.message_id))
        ack = await fake.wait_ack(click)
        answer = (await fake.wait_sent(2))[-1]
    assert ack.code == 200 and ack.data == {"toast": {"type": "info", "content": RECEIVED}}
    assert answer.chat_id == "oc_p2p0001" and answer.reply_to is None and "#14" not in markdown(suggestions)[:0]
    assert "增加停车场、充电桩、换电站等设施" in markdown(answer)


async def test_a_forged_click_gets_a_toast_and_changes_nothing(fake: FakeFeishu, db_path, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="bot.feishu.adapter")
    async with running(fake, db_path):
        forged = await fake.push_event(card_action_event({"choice": "zz:nothing"}))
        refused = await fake.wait_ack(forged)
        odd = await fake.push_event(card_action_event({"url": "https://example.com"}))
        ignored = await fake.wait_ack(odd)
        answer = await ask(fake, "谁负责碳减排支持工具？", 1)
    assert refused.data == {"toast": {"type": "warning", "content": texts.INVALID_BUTTON}}
    assert ignored.code == 200 and ignored.data is None
    assert fake.sent == [answer]
    assert sum("not one of our buttons" in r.message for r in caplog.records) == 1


async def test_a_slow_click_is_acked_at_once_and_answered_by_message(fake: FakeFeishu, db_path) -> None:
    async with running(fake, db_path, card_wait=0.0):
        gone = await fake.push_event(card_action_event({"choice": "it:999999"}))  # looked up in the store
        ack = await fake.wait_ack(gone)
        [late] = await fake.wait_sent(1)
    assert ack.data == {"toast": {"type": "info", "content": RECEIVED}}
    assert late.chat_id == "oc_group0001" and late.reply_to is None and texts.ITEM_GONE in markdown(late)


async def test_a_popup_ready_as_the_wait_ends_is_never_lost(fake: FakeFeishu, db_path) -> None:
    async with running(fake, db_path, card_wait=0.0):
        forged = await fake.push_event(card_action_event({"choice": "zz:nothing"}))  # refused without a real wait
        ack = await fake.wait_ack(forged)
        if ack.data["toast"]["content"] != texts.INVALID_BUTTON:  # not in the ack: then as a message
            [late] = await fake.wait_sent(1)
            assert texts.INVALID_BUTTON in markdown(late)


class NoButtonsFeishu(FakeFeishu):
    """A deployment that refuses cards with buttons (code 230099, card content failed)."""

    async def _send(self, call, chat_id, body, *, reply_to):
        if '"action"' in str(body.get("content", "")):
            return await self._answer(call, 400, {"code": 230099, "msg": "Failed to create card content"})
        return await super()._send(call, chat_id, body, reply_to=reply_to)


async def test_numbered_choices_where_buttons_are_refused(db_path) -> None:
    fake = NoButtonsFeishu()
    await fake.start()
    try:
        async with running(fake, db_path):
            suggestions = await ask(fake, "充电桩补贴标准", 1)
            answer = await ask(fake, "1", 2)
            other = await ask(fake, "1", 3, open_id="ou_other0001")  # someone else's "1" is a question
    finally:
        await fake.close()
    assert "&#91;1&#93; " in markdown(suggestions) and len(suggestions.content["elements"]) == 1
    assert "增加停车场、充电桩、换电站等设施" in markdown(answer)
    assert "增加停车场、充电桩、换电站等设施" not in markdown(other)


async def test_a_non_admin_add_is_refused_and_changes_nothing(fake: FakeFeishu, db_path) -> None:
    async with running(fake, db_path) as (_, services):
        before = await services.worker.run(services.kb.store.count_items)
        refusal = await ask(fake, "/add 完成全省充电桩布局规划。（省能源局牵头，2027年6月底前完成）", 1)
        after = await services.worker.run(services.kb.store.count_items)
    assert texts.NOT_ADMIN in markdown(refusal) and before == after


async def test_bad_frames_and_events_are_logged_once_and_ignored(fake: FakeFeishu, db_path, caplog) -> None:
    caplog.set_level(logging.WARNING)
    async with running(fake, db_path):
        await fake.send_raw(b"\xff\xff\xff garbage")
        await fake.send_raw("a text frame")
        await fake.push(b"{not json")
        await fake.push_event({"schema": "2.0", "header": {"event_type": "im.chat.updated_v1", "event_id": "e1"}})
        bad = message_event("x", fake=fake)
        bad["event"]["message"]["content"] = "{oops"
        await fake.push_event(bad)
        await fake.push_event(message_event("问" * (MAX_TEXT + 10), fake=fake))
        twice = message_event("谁负责碳减排支持工具？", fake=fake)
        await fake.push_event(twice)
        await fake.push_event(twice)  # Feishu delivers an event again when it missed the ack
        answer = await ask(fake, "碳减排支持工具什么时候出台？", 2)
        assert fake.connection is not None and len(fake.connections) == 1
    assert [m.reply_to for m in fake.sent] == [twice["event"]["message"]["message_id"], answer.reply_to]
    assert sum(c.path.endswith("/reply") for c in fake.api_calls) == 2  # the event delivered twice: handled once
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    for what in ("malformed frame", "text frame", "event that is not JSON", "'im.chat.updated_v1'", "content is not JSON",
                 "characters"):
        assert sum(what in w for w in warnings) == 1, (what, warnings)


async def test_the_next_message_after_a_drop_is_answered(fake: FakeFeishu, db_path) -> None:
    async with running(fake, db_path):
        await fake.drop(clean=False)
        await fake.wait_connected(2)
        answer = await ask(fake, "谁负责碳减排支持工具？", 1)
    assert "人民银行" in markdown(answer)


async def test_a_wrong_secret_stops_the_app_with_one_line_naming_the_setting(fake: FakeFeishu, db_path) -> None:
    with pytest.raises(AdapterStopped, match=r"\[feishu\] app_id 和 app_secret") as stopped:
        async with running(fake, db_path, secret="wrong"):
            pass
    assert "\n" not in str(stopped.value) and fake.connections == []


# --- the channel ---------------------------------------------------------------------------------

def _subscription(n: int, chat_id: str) -> Subscription:
    from datetime import UTC, datetime

    return Subscription(n, chat_id, "feishu", SubscriptionFilter(), datetime(2026, 1, 1, tzinfo=UTC))


async def test_the_channel_keeps_to_five_per_chat_and_knows_a_chat_it_left(fake: FakeFeishu, db_path) -> None:
    fake.chats = {"oc_group0001"}
    async with running(fake, db_path) as (adapter, _):
        channel = adapter.channel()
        results = [await channel.send(_subscription(n, "oc_group0001"), [Line(f"提醒 {n}", strong=True)])
                   for n in range(7)]
        again = await channel.send(_subscription(0, "oc_group0001"), [Line("提醒 0", strong=True)])
        gone = await channel.send(_subscription(9, "oc_gone0001"), [Line("提醒")])
    assert all(r.ok for r in results) and again.ok and len(fake.sent) == 7  # the same uuid: delivered once
    assert [markdown(m) for m in fake.sent] == [f"**提醒 {n}**" for n in range(7)]
    assert not any(c.code == CHAT_TOO_FAST for c in fake.api_calls)
    assert gone.permanent and gone.disable and "230002" in gone.detail


async def test_the_pace_is_an_even_grid_under_the_limit_that_does_not_slip() -> None:
    from bot.feishu.channel import HEADROOM, Pace

    now, slept = [100.0], []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))

    pace = Pace(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):  # three senders at once: the 2nd and 3rd wait one and two steps
        await pace.wait()
    step = 1 / (10 * HEADROOM)
    assert slept == [round(step, 6), round(2 * step, 6)] and step > 0.1
    now[0] += 2 * step + 0.05  # the 3rd woke late; the next slot is still on the grid, not a step after the wake-up
    await pace.wait()
    assert slept[-1] == round(step - 0.05, 6)


async def test_an_unreachable_or_busy_feishu_is_retried_in_the_background(fake: FakeFeishu, db_path, caplog) -> None:
    from fakes.feishu import ENDPOINT_BUSY, ENDPOINT_OK

    caplog.set_level(logging.WARNING, logger="bot.feishu.adapter")
    config = parse_config({"storage": {"path": str(db_path)}, "reminders": {"enabled": False},
                           "feishu": {"app_id": "a", "app_secret": "b", "domain": "http://127.0.0.1:9"}})
    services = await open_services(config)
    try:
        nowhere = FeishuAdapter(config, services)
        await nowhere.start(Conversation(services))  # no AdapterStopped: the network may come back
        await nowhere.stop()
    finally:
        await close_services(services)
    assert any("will keep trying" in r.message for r in caplog.records)
    fake.endpoint_code = ENDPOINT_BUSY
    async with running_busy(fake, db_path):
        await fake.wait_for(lambda: len(fake.endpoint_calls) >= 2)
        fake.endpoint_code = ENDPOINT_OK
        await fake.wait_connected()
        answer = await ask(fake, "谁负责碳减排支持工具？", 1)
    assert "人民银行" in markdown(answer)


@contextlib.asynccontextmanager
async def running_busy(fake: FakeFeishu, db_path):
    """The adapter started while Feishu's endpoint is busy (no connection yet), with quick retries."""
    config = parse_config({"storage": {"path": str(db_path)}, "reminders": {"enabled": False},
                           "feishu": {"app_id": fake.app_id, "app_secret": fake.app_secret, "domain": fake.url}})
    services = await open_services(config)
    adapter = FeishuAdapter(config, services, initial_backoff=0.01)
    try:
        await adapter.start(Conversation(services))
        yield adapter
    finally:
        await adapter.stop()
        await close_services(services)
