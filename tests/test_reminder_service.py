"""The reminder service end to end: the real SQLite file, the real PTB Bot with its rate limiter
against the fake Bot API, and fake WeCom / DingTalk / Feishu robots — with an injected clock."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import aiohttp
import pytest
from fake_robots import ROBOT_SECRET, FakeRobots
from reminder_fixtures import TZ, at, make_item, store_with_items
from telegram.ext import ExtBot

from bot.telegram.adapter import rate_limiter
from bot.telegram.channel import TelegramChannel
from knowledge.base import KnowledgeBase
from knowledge.curation import postpone
from knowledge.store import StoreWorker
from reminders.calendar import WorkdayCalendar
from reminders.channels import RobotChannel
from reminders.models import SubscriptionFilter
from reminders.planner import ReminderSettings
from reminders.service import ReminderService

SETTINGS = ReminderSettings(digest_weekday=None)


class Crash(Exception):
    """Stands for the process dying at that point."""


async def no_sleep(_: float) -> None:
    return None


@pytest.fixture
async def telegram_bot(fake):
    bot = ExtBot(fake.token, base_url=fake.base_url, rate_limiter=rate_limiter())
    await bot.initialize()
    yield bot
    await bot.shutdown()


@pytest.fixture
async def robots():
    server = FakeRobots()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def world(tmp_path):
    """A knowledge base with one item due 2026-06-30, a store worker, and a way to (re)start the service."""
    path = str(tmp_path / "reminders.db")
    kb = KnowledgeBase(store_with_items(path, [make_item(due=date(2026, 6, 30))]))
    worker = StoreWorker()
    yield kb, worker
    worker.shutdown()
    kb.close()


def service(kb, worker, channels, settings=SETTINGS) -> ReminderService:
    return ReminderService(kb, worker, settings, WorkdayCalendar(), TZ, channels)


def subscribe(svc: ReminderService, chat_id: int = -100, created: datetime | None = None, **kw):
    return svc.store.add(chat_id=chat_id, filter=kw.pop("flt", SubscriptionFilter()), created_by="test",
                         created_at=created or at("2026-01-01"), **kw)


async def test_due_reminder_goes_out_once_and_not_again_after_a_restart(world, fake, telegram_bot):
    kb, worker = world
    svc = service(kb, worker, {"telegram": TelegramChannel(telegram_bot, sleep=no_sleep)})
    subscribe(svc, -100)
    report = await svc.run_due(at("2026-06-23"))
    assert report.sent == 1
    (call,) = fake.delivered(-100)
    assert "设立碳减排支持工具 — 还剩7天（6月底前出台相关政策，2026-06-30；人民银行牵头）" in call.params["text"]
    assert (await svc.run_due(at("2026-06-23", "09:10"))).sent == 0
    restarted = service(kb, worker, {"telegram": TelegramChannel(telegram_bot, sleep=no_sleep)})
    assert (await restarted.run_due(at("2026-06-23", "11:00"))).sent == 0
    assert len(fake.delivered(-100)) == 1
    assert svc.store.log_counts() == {"sent": 1}


async def test_crash_between_sending_and_recording_resends_once_with_a_note(world, fake, telegram_bot, monkeypatch):
    kb, worker = world
    svc = service(kb, worker, {"telegram": TelegramChannel(telegram_bot, sleep=no_sleep)})
    subscribe(svc, -100)
    real_record = svc.store.record

    def crash_on_confirm(entries, state, detail=""):
        if state == "sent":
            raise Crash("process killed after Telegram accepted the message")
        return real_record(entries, state, detail)

    monkeypatch.setattr(svc.store, "record", crash_on_confirm)
    with pytest.raises(Crash):
        await svc.run_due(at("2026-06-23"))
    assert len(fake.delivered(-100)) == 1 and svc.store.log_counts() == {"sending": 1}

    restarted = service(kb, worker, {"telegram": TelegramChannel(telegram_bot, sleep=no_sleep)})
    assert (await restarted.run_due(at("2026-06-23", "09:10"))).sent == 1
    assert (await restarted.run_due(at("2026-06-23", "09:20"))).sent == 0
    first, second = fake.delivered(-100)
    assert "上次发送未确认" not in first.params["text"] and "上次发送未确认" in second.params["text"]
    assert restarted.store.log_counts() == {"sent": 1}


async def test_bot_removed_from_a_group_disables_its_subscriptions(world, fake, telegram_bot):
    kb, worker = world
    svc = service(kb, worker, {"telegram": TelegramChannel(telegram_bot, sleep=no_sleep)})
    gone = subscribe(svc, -100)
    subscribe(svc, -200)
    fake.forbidden_chats.add(-100)
    report = await svc.run_due(at("2026-06-23"))
    assert (report.sent, report.failed, report.disabled) == (1, 1, 1)
    assert svc.store.get(gone.id).active is False and "forbidden" in svc.store.get(gone.id).disabled_reason
    await svc.run_due(at("2026-06-29"))  # the 1-day reminder: only -200 is asked
    assert len(fake.sent("sendMessage", -100)) == 1 and len(fake.delivered(-200)) == 2


async def test_a_migrated_group_keeps_its_subscriptions(world, fake, telegram_bot):
    kb, worker = world
    svc = service(kb, worker, {"telegram": TelegramChannel(telegram_bot, sleep=no_sleep)})
    sub = subscribe(svc, -100)
    fake.migrated_chats[-100] = -1001234
    report = await svc.run_due(at("2026-06-23"))
    assert (report.sent, report.migrated) == (1, 1)
    assert len(fake.delivered(-1001234)) == 1
    assert svc.store.get(sub.id).chat_id == -1001234 and svc.store.get(sub.id).active


async def test_network_trouble_releases_the_claim_and_the_next_run_sends(world, fake, telegram_bot):
    kb, worker = world
    svc = service(kb, worker, {"telegram": TelegramChannel(telegram_bot, sleep=no_sleep)})
    subscribe(svc, -100)
    fake.failures_to_serve = 10
    report = await svc.run_due(at("2026-06-23"))
    assert report.retry_later == 1 and svc.store.log_counts() == {}
    fake.failures_to_serve = 0
    assert (await svc.run_due(at("2026-06-23", "09:10"))).sent == 1


async def test_a_transient_error_is_retried_within_the_run(world, fake, telegram_bot):
    kb, worker = world
    svc = service(kb, worker, {"telegram": TelegramChannel(telegram_bot, sleep=no_sleep)})
    subscribe(svc, -100)
    fake.failures_to_serve = 2
    assert (await svc.run_due(at("2026-06-23"))).sent == 1


async def test_done_items_stop_reminding_and_postponed_ones_notify_the_change(world, fake, telegram_bot):
    kb, worker = world
    svc = service(kb, worker, {"telegram": TelegramChannel(telegram_bot, sleep=no_sleep)})
    now = datetime.now(TZ)  # the change log is stamped with the real clock
    subscribe(svc, -100, created=now - timedelta(days=1))
    item = next(kb.store.all_items())
    later = (now + timedelta(days=90)).date()
    postpone(kb.store, item.id, later.isoformat(), actor="admin:1", today=now.date())
    next_slot = (now + timedelta(days=1)).replace(hour=9, minute=30)
    await svc.run_due(next_slot)
    (call,) = fake.delivered(-100)
    assert "期限调整" in call.params["text"] and f"2026-06-30 → {later.isoformat()}" in call.params["text"]
    assert (await svc.run_due(next_slot + timedelta(minutes=10))).sent == 0


async def test_robots_get_their_own_formats_signed(world, robots):
    kb, worker = world
    clock = lambda: at("2026-06-23", "09:05")  # noqa: E731 - not on :00 or :30, so Feishu needs no wait
    async with aiohttp.ClientSession() as http:
        svc = service(kb, worker, {name: RobotChannel(http, sleep=no_sleep, clock=clock)
                                   for name in ("wecom", "dingtalk", "feishu")})
        subscribe(svc, None, channel="wecom", webhook_url=robots.url("wecom"))
        subscribe(svc, None, channel="dingtalk", webhook_url=robots.url("dingtalk"), secret=ROBOT_SECRET)
        subscribe(svc, None, channel="feishu", webhook_url=robots.url("feishu"), secret=ROBOT_SECRET)
        report = await svc.run_due(at("2026-06-23"))
    assert report.sent == 3
    (wecom,), (dingtalk,), (feishu,) = (robots.accepted(p) for p in ("wecom", "dingtalk", "feishu"))
    assert "**⏰ 设立碳减排支持工具 — 还剩7天" in wecom.body["markdown"]["content"]
    assert dingtalk.body["markdown"]["title"] == "政策截止提醒"
    assert "设立碳减排支持工具 — 还剩7天" in feishu.body["content"]["text"]


async def test_a_wrong_secret_or_a_deleted_robot_disables_the_subscription(world, robots):
    kb, worker = world
    async with aiohttp.ClientSession() as http:
        svc = service(kb, worker, {name: RobotChannel(http, sleep=no_sleep) for name in ("dingtalk", "wecom")})
        bad = subscribe(svc, None, channel="dingtalk", webhook_url=robots.url("dingtalk"), secret="wrong")
        robots.dead_keys.add("gone")
        dead = subscribe(svc, None, channel="wecom", webhook_url=robots.url("wecom", "gone"))
        report = await svc.run_due(at("2026-06-23"))
    assert (report.sent, report.disabled) == (0, 2)
    assert not svc.store.get(bad.id).active and not svc.store.get(dead.id).active
    assert "310000" in svc.store.get(bad.id).disabled_reason


async def test_a_robot_that_says_too_fast_is_retried_after_its_window(world, robots):
    kb, worker = world
    waits: list[float] = []

    async def window_passes(seconds: float) -> None:
        waits.append(seconds)
        robots._times.clear()  # the robot's minute has passed

    robots._times["wecom:k1"] = [time.monotonic()] * 20  # 20 pushes in the last minute
    async with aiohttp.ClientSession() as http:
        svc = service(kb, worker, {"wecom": RobotChannel(http, sleep=window_passes)})
        subscribe(svc, None, channel="wecom", webhook_url=robots.url("wecom"))
        assert (await svc.run_due(at("2026-06-23"))).sent == 1
    assert waits == [61.0]
    assert [p.accepted for p in robots.pushes] == [False, True]
