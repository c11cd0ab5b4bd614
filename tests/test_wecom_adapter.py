"""The 企业微信 adapter and channel in-process, against the loopback fake long connection."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime

import pytest
from fakes.wecom import ERR_TOO_FAST, FakeWeCom
from reminder_fixtures import TZ, at, make_item, store_with_items
from test_one_conversation import CHOOSE_FIRST, SCRIPT, facts, through_core

from bot.adapters import AdapterStopped
from bot.config import parse_config
from bot.services import attach_reminders, close_services, open_services
from bot.wecom.adapter import WeComAdapter, wecom_chat
from bot.wecom.channel import MARGIN, SlidingWindow, WeComChannel
from bot.wecom.client import MAX_FRAME_CHARS, WeComClient, WeComRequestError
from bot.wecom.protocol import Backoff
from handlers import texts
from handlers.core import Conversation
from handlers.services import Services
from knowledge.answer import Line
from knowledge.base import KnowledgeBase
from knowledge.store import StoreWorker
from reminders.calendar import WorkdayCalendar
from reminders.channels import SendResult
from reminders.models import Subscription, SubscriptionFilter
from reminders.planner import ReminderSettings
from reminders.service import ReminderService

BOT, SECRET = "aibTESTBOT", "test-secret"
ADMIN, BOB, GROUP = "admin01", "bob", "wrGROUP0001"


@dataclass
class Running:
    fake: FakeWeCom
    adapter: WeComAdapter
    services: Services

    def answers(self) -> list[str]:
        """The markdown of every accepted reply and push, in order."""
        out = []
        for frame in self.fake.frames:
            body = frame.body if isinstance(frame.body, dict) else {}
            if frame.cmd == "aibot_respond_msg" and frame.errcode == 0:
                out.append(body.get("stream", {}).get("content", ""))
            elif frame.cmd == "aibot_send_msg" and frame.errcode == 0 and body.get("msgtype") == "markdown":
                out.append(body["markdown"]["content"])
        return out

    def cards(self) -> list[dict]:
        return [f.body["template_card"] for f in self.fake.frames
                if f.cmd in ("aibot_respond_msg", "aibot_send_msg") and f.errcode == 0 and "template_card" in f.body]

    async def ask(self, text: str, **kwargs) -> str:
        """Send a message and wait for its answer (a reply, or a push after a click)."""
        before = len(self.answers())
        await self.fake.push_text(text, **kwargs)
        return await self.next_answer(before)

    async def next_answer(self, before: int) -> str:
        await self.fake.wait_for(predicate=lambda f: len(self.answers()) > before, timeout=10)
        return self.answers()[before]


@contextlib.asynccontextmanager
async def running(db_path, fake: FakeWeCom | None = None, *, secret: str = SECRET, **wecom) -> AsyncIterator[Running]:
    own = fake is None
    if fake is None:
        fake = FakeWeCom(BOT, SECRET)
        await fake.start()
    config = parse_config({"storage": {"path": str(db_path)}, "reminders": {"enabled": False},
                           "wecom": {"bot_id": BOT, "secret": secret, "ws_url": fake.ws_url, "admins": [ADMIN], **wecom}})
    services = await open_services(config)
    adapter = WeComAdapter(config, services)
    adapter.client._backoff = Backoff(base=0.01, cap=0.05)  # reconnect at once in tests
    await attach_reminders(services, config, {"wecom": adapter.channel()})
    try:
        await adapter.start(Conversation(services))
        yield Running(fake, adapter, services)
    finally:
        await adapter.stop()
        await close_services(services)
        if own:
            await fake.close()


async def test_the_script_gives_the_same_facts_as_the_core(seeded_db_file, tmp_path):
    core_db, wecom_db = tmp_path / "core.db", tmp_path / "wecom.db"
    shutil.copy(seeded_db_file, core_db)
    shutil.copy(seeded_db_file, wecom_db)
    core = await through_core(core_db)
    got: list[str] = []
    async with running(wecom_db, admins=[ADMIN, "7001"]) as r:
        for step in SCRIPT:
            if step is CHOOSE_FIRST:  # the suggestions' labels are too long for buttons: numbered lines
                got.append(await r.ask("1", userid="7001"))
            else:
                got.append(await r.ask(step, userid="7001"))
    for step, (a, b) in enumerate(zip(core, got, strict=True)):
        b = re.sub(r"(?m)^\[\d+\] .*$", "", b.replace("**", ""))
        assert facts(step, a) == facts(step, b), (SCRIPT[step], a, b)


async def test_group_question_is_answered_in_the_group_without_the_mention(db_path):
    async with running(db_path) as r:
        answer = await r.ask("碳减排支持工具什么时候出台？谁牵头？", chattype="group", chatid=GROUP, userid=BOB)
        assert "2021-06-30" in answer and "人民银行" in answer
        frame = r.fake.accepted("aibot_respond_msg")[-1]
        assert r.fake.open_req_ids[frame.req_id] == "message"  # answered under the message's own req_id


async def test_a_list_page_is_a_card_and_its_click_pushes_the_next_page(db_path):
    async with running(db_path) as r:
        first = await r.ask("工业领域碳达峰有哪些任务", chattype="group", chatid=GROUP, userid=BOB)
        assert "第 1–5 条" in first
        card = r.cards()[-1]
        assert card["card_type"] == "button_interaction" and r.fake.accepted("aibot_respond_msg")[-1].body[
            "msgtype"] == "stream_with_template_card"
        nxt = next(b for b in card["button_list"] if "下一页" in b["text"])
        before = len(r.answers())
        await r.fake.push_card_click(nxt["key"], card["task_id"], chattype="group", chatid=GROUP, userid=BOB)
        second = await r.next_answer(before)
        assert "第 6–6 条" in second and "6. #" in second
        push = r.fake.accepted("aibot_send_msg")[-1]
        assert push.body["chatid"] == GROUP


async def test_numbered_choices_belong_to_the_person_who_saw_them(db_path):
    async with running(db_path) as r:
        shown = await r.ask("充电桩补贴标准", userid=BOB)
        assert "[1] " in shown
        picked = await r.ask("1", userid=BOB)
        assert "#" in picked and "[1] " not in picked.split("\n")[0]
        other = await r.ask("1", userid="carol")  # carol saw no choices: "1" is a question for her
        assert other != picked


async def test_non_admin_add_is_refused_and_changes_nothing(db_path):
    async with running(db_path) as r:
        count = await r.services.worker.run(r.services.kb.store.count_items)
        answer = await r.ask("/add 完成全省充电桩布局规划。（省能源局牵头，2027年6月底前完成）",
                             chattype="group", chatid=GROUP, userid=BOB)
        assert texts.NOT_ADMIN in answer
        assert await r.services.worker.run(r.services.kb.store.count_items) == count
        refused = await r.ask("/subscribe", chattype="group", chatid=GROUP, userid=BOB)
        assert "管理员" in refused
        assert await r.services.worker.run(r.services.reminders.store.active) == []


async def test_forged_clicks_bad_frames_and_unknown_events_are_logged_and_ignored(db_path, caplog):
    caplog.set_level(logging.INFO)
    async with running(db_path) as r:
        await r.fake.push_card_click("it:../../etc", "t1", userid=BOB)
        await r.fake.push_card_click("", "t1", userid=BOB)
        await r.fake.push_raw("{not json")
        await r.fake.push_unknown_cmd()
        await r.fake.push_raw(json.dumps(r.fake._event_frame("feedback_event", BOB, "single", {"x": 1})))
        await r.fake.push_oversized(MAX_FRAME_CHARS + 1000)
        answer = await r.ask("碳减排支持工具什么时候出台？", userid=BOB)
        assert "2021-06-30" in answer
        assert r.fake.received("aibot_send_msg") == [] and r.fake.received("aibot_respond_update_msg") == []
        assert len(r.answers()) == 1
    logged = [rec.getMessage() for rec in caplog.records if rec.name.startswith("bot.wecom")]
    assert sum("unknown data" in m for m in logged) == 2
    assert sum("not JSON" in m for m in logged) == 1 and sum("unknown cmd" in m for m in logged) == 1
    assert sum("feedback_event" in m for m in logged) == 1
    assert sum("dropped a frame of" in m for m in logged) == 1
    assert not any(rec.exc_info for rec in caplog.records)


async def test_after_a_dropped_connection_the_next_message_is_answered(db_path):
    async with running(db_path) as r:
        await r.fake.drop()
        await r.fake.wait_subscribed(after=1)
        assert "2021-06-30" in await r.ask("碳减排支持工具什么时候出台？")


async def test_welcome_on_enter_chat(db_path):
    async with running(db_path) as r:
        await r.fake.push_enter_chat(BOB)
        frames = await r.fake.wait_for("aibot_respond_welcome_msg")
        assert frames[0].errcode == 0 and frames[0].body["text"]["content"]


async def test_a_rejected_secret_stops_the_app_with_one_line(db_path):
    with pytest.raises(AdapterStopped) as stopped:
        async with running(db_path, secret="wrong"):
            pass
    assert "POLICYBOT_WECOM_SECRET" in str(stopped.value) and stopped.value.exit_code == 2


async def test_an_unreachable_server_does_not_stop_the_start_and_is_retried(db_path, caplog):
    caplog.set_level(logging.INFO, logger="bot.wecom.client")
    fake = FakeWeCom(BOT, SECRET)
    await fake.start()
    url = fake.ws_url
    await fake.close()  # nobody listens there now
    config = parse_config({"storage": {"path": str(db_path)}, "reminders": {"enabled": False},
                           "wecom": {"bot_id": BOT, "secret": SECRET, "ws_url": url}})
    services = await open_services(config)
    adapter = WeComAdapter(config, services, start_wait=0.2)
    adapter.client._backoff = Backoff(base=0.05, cap=0.1)
    try:
        await adapter.start(Conversation(services))  # returns: the connection keeps trying in the background
        await asyncio.sleep(0.5)
        assert adapter.client.state == "reconnecting"
    finally:
        await adapter.stop()
        await close_services(services)
    states = [r.getMessage() for r in caplog.records
              if r.name == "bot.wecom.client" and r.levelno >= logging.INFO and "reconnecting" in r.getMessage()]
    assert len(states) == 1  # one line per state change, not one per attempt


# ---------------------------------------------------------------- the channel


def subscription(chat: str | int) -> Subscription:
    return Subscription(1, chat, "wecom", SubscriptionFilter(), datetime.now().astimezone())


class Clock:
    """A shared fake clock: sleeping moves it on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(seconds, 0)
        await asyncio.sleep(0)


async def test_sliding_window_keeps_count_in_any_period():
    clock = Clock()
    window = SlidingWindow(3, 1.0, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(7):
        await window.acquire()
        stamps.append(clock.now)
    for i in range(len(stamps) - 3):
        assert stamps[i + 3] - stamps[i] >= 1.0 + MARGIN
    assert stamps[:3] == [1000.0] * 3  # a burst within the limit is not held back


@contextlib.asynccontextmanager
async def channel_on_fake(clock: Clock, fake: FakeWeCom, per_second: int, per_minute: int,
                          request_timeout: float = 5.0) -> AsyncIterator[WeComChannel]:
    async def ignore(message) -> None:
        pass

    client = WeComClient(BOT, SECRET, ignore, ws_url=fake.ws_url, request_timeout=request_timeout)
    client.start()
    await client.wait_connected(5)
    try:
        yield WeComChannel(client, per_second, per_minute, clock=clock, sleep=clock.sleep, chat_key=wecom_chat)
    finally:
        await client.stop()


async def test_the_channel_keeps_the_per_chat_limit_and_retries_too_fast_after_the_window():
    clock = Clock()
    fake = FakeWeCom(BOT, SECRET, per_chat_per_minute=3, per_bot_per_second=None, clock=clock)
    await fake.start()
    try:
        async with channel_on_fake(clock, fake, 100, 3) as channel:
            results = [await channel.send(subscription(GROUP), [Line(f"提醒 {n}")]) for n in range(5)]
            assert all(r.ok for r in results)
            assert not [f for f in fake.received("aibot_send_msg") if f.errcode == ERR_TOO_FAST]  # waited, not refused
        async with channel_on_fake(clock, fake, 100, 10) as channel:  # configured above what the server allows
            results = [await channel.send(subscription(GROUP), [Line(f"再一条 {n}")]) for n in range(2)]
            assert all(r.ok for r in results)
            assert [f.errcode for f in fake.received("aibot_send_msg")][-4:] == [0, ERR_TOO_FAST, ERR_TOO_FAST, 0]
            assert any(s >= 60 for s in clock.slept)  # the second 45009 waits out the minute
    finally:
        await fake.close()


async def test_an_unanswered_send_is_unconfirmed_and_not_resent_in_the_run():
    fake = FakeWeCom(BOT, SECRET)
    await fake.start()
    fake.silent_cmds = {"aibot_send_msg"}
    try:
        async with channel_on_fake(Clock(), fake, 10, 20, request_timeout=0.2) as channel:
            result = await channel.send(subscription("#0012"), [Line("提醒")])
        assert not result.ok and result.unconfirmed and not result.permanent
        sent = fake.received("aibot_send_msg")
        assert len(sent) == 1 and sent[0].body["chatid"] == "0012"
    finally:
        await fake.close()


class StubClient:
    def __init__(self, errcode: int) -> None:
        self.errcode = errcode

    async def send_markdown(self, chat_id: str, text: str) -> dict:
        raise WeComRequestError("aibot_send_msg", self.errcode, "refused")


@pytest.mark.parametrize(("errcode", "disable"), [(86003, True), (40058, False)])
async def test_a_refused_send_is_failed_for_good_and_a_missing_chat_disabled(errcode, disable):
    channel = WeComChannel(StubClient(errcode), 10, 20)  # type: ignore[arg-type]
    result = await channel.send(subscription(GROUP), [Line("提醒")])
    assert (result.ok, result.permanent, result.disable) == (False, True, disable)


async def test_an_unconfirmed_reminder_keeps_its_claim_and_is_resent_marked_at_the_next_run(tmp_path):
    kb = KnowledgeBase(store_with_items(str(tmp_path / "r.db"), [make_item(due=date(2026, 6, 30))]))
    worker = StoreWorker()

    class Unanswered:
        def __init__(self) -> None:
            self.sent: list[list[Line]] = []

        async def send(self, sub, lines):
            self.sent.append(lines)
            return SendResult(False, unconfirmed=True) if len(self.sent) == 1 else SendResult.sent()

    channel = Unanswered()
    try:
        svc = ReminderService(kb, worker, ReminderSettings(digest_weekday=None), WorkdayCalendar(), TZ,
                              {"wecom": channel}, robots={})
        svc.store.add(chat_id=GROUP, filter=SubscriptionFilter(), created_by="test", created_at=at("2026-01-01"),
                      channel="wecom")
        first = await svc.run_due(at("2026-06-23"))
        assert svc.store.log_counts() == {"sending": 1}  # not released: it may have arrived
        second = await svc.run_due(at("2026-06-23", "09:10"))
        third = await svc.run_due(at("2026-06-23", "09:20"))
    finally:
        worker.shutdown()
        kb.close()
    assert (first.retry_later, second.sent, third.sent) == (1, 1, 0)
    assert not any("未确认" in x.text for x in channel.sent[0]) and any("未确认" in x.text for x in channel.sent[1])
