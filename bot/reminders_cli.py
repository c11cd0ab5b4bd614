"""`policybot reminders preview|send`: what the scheduler would send, or send what is due now (ops, tests)."""

from __future__ import annotations

import sys
from datetime import datetime, time, timedelta

from telegram.error import InvalidToken, NetworkError
from telegram.ext import ExtBot

from bot.config import Config
from bot.services import attach_reminders, close_services, open_services
from reminders.models import CHANNEL_NAMES, TELEGRAM, Delivery
from reminders.service import RunReport

NOTHING_SUBSCRIBED = ("没有任何订阅，所以不会发送提醒：在群里或私聊中发送 /subscribe，"
                      "或用 policybot subscriptions add 添加订阅。")


def in_zone(at: datetime | None, config: Config) -> datetime | None:
    """--now as given; a naive time is in [reminders] timezone."""
    if at is None:
        return None
    return at if at.tzinfo else at.replace(tzinfo=config.reminders.tz)


def next_slot(now: datetime, send_at: time) -> datetime:
    """The first daily slot at or after `now` (08:00 → 09:00 that day; 09:00 → itself)."""
    slot = datetime.combine(now.date(), send_at, tzinfo=now.tzinfo)
    return slot if slot >= now else slot + timedelta(days=1)


def summary(report: RunReport) -> str:
    """已发送 1 条，稍后重试 0 条，… — the run's counts for the operator."""
    counts = [("已发送", report.sent), ("稍后重试", report.retry_later), ("失败", report.failed),
              ("停用订阅", report.disabled), ("群迁移", report.migrated), ("无发送渠道", report.skipped)]
    return "，".join(f"{name} {n} 条" for name, n in counts)


def destination(delivery: Delivery) -> str:
    sub = delivery.subscription
    if not sub.to_robot:
        return f"{CHANNEL_NAMES.get(sub.channel, sub.channel)} chat {sub.chat_id}"
    return f"{CHANNEL_NAMES[sub.channel]}机器人（订阅 #{sub.id}）"


async def preview(config: Config, now: datetime | None, days: int) -> int:
    """The next `days` slots from the first one at or after `now`; nothing is sent or recorded."""
    services = await open_services(config)
    try:
        reminders = await attach_reminders(services, config)
        if not await services.worker.run(reminders.store.active):
            print(NOTHING_SUBSCRIBED)
            return 0
        first = next_slot((now or reminders.now()).astimezone(reminders.tz), reminders.settings.send_at)
        planned = await reminders.preview(first, days)
        if not planned:
            print(f"从 {first.isoformat(timespec='minutes')} 起的 {days} 个提醒时段没有要发送的提醒。")
        for at, delivery, lines in planned:
            print(f"== {at.isoformat(timespec='minutes')} → {destination(delivery)}")
            print("\n".join(line.text for line in lines))
            print()
        return 0
    finally:
        await close_services(services)


async def send(config: Config, now: datetime | None) -> int:
    from bot.telegram.adapter import rate_limiter
    from bot.telegram.channel import TelegramChannel

    services = await open_services(config)
    base_url = config.telegram.base_url or "https://api.telegram.org/bot"
    bot = ExtBot(config.telegram_token, base_url=base_url, rate_limiter=rate_limiter()) if config.telegram_token else None
    try:
        if bot is not None:
            try:
                await bot.initialize()
            except InvalidToken:
                print("Telegram 拒绝了这个 token：请检查 POLICYBOT_TELEGRAM_TOKEN 或 [telegram] token", file=sys.stderr)
                return 2
            except NetworkError as e:  # includes TimedOut
                print(f"无法连接 Telegram Bot API（{e}）：检查网络、代理或 [telegram] base_url；"
                      "没有发送任何提醒，下次运行会补发", file=sys.stderr)
                return 1
        reminders = await attach_reminders(services, config, {TELEGRAM: TelegramChannel(bot)} if bot else None)
        report = await reminders.run_due(now)
        print(summary(report))
        if report.skipped:
            print("没有 Telegram token，发往 Telegram 的提醒未发送（设置 POLICYBOT_TELEGRAM_TOKEN）", file=sys.stderr)
        return 1 if report.retry_later or report.skipped else 0
    finally:
        if bot is not None:
            await bot.shutdown()
        await close_services(services)
