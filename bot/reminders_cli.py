"""`policybot reminders preview|send`: what the scheduler would send, or send what is due now (ops, tests)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from telegram.ext import ExtBot

from bot.config import Config
from bot.services import attach_reminders, close_services, open_services
from reminders.models import CHANNEL_NAMES, TELEGRAM, Delivery


def parse_now(text: str | None, config: Config) -> datetime | None:
    """--now as ISO date or date-time; a naive time is in [reminders] timezone."""
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是有效时间：{text!r}（例如 2026-06-23T09:00）") from None
    return at if at.tzinfo else at.replace(tzinfo=config.reminders.tz)


def destination(delivery: Delivery) -> str:
    sub = delivery.subscription
    if not sub.to_robot:
        return f"{CHANNEL_NAMES.get(sub.channel, sub.channel)} chat {sub.chat_id}"
    return f"{CHANNEL_NAMES[sub.channel]}机器人（订阅 #{sub.id}）"


async def preview(config: Config, now: datetime | None, days: int) -> int:
    services = await open_services(config)
    try:
        reminders = await attach_reminders(services, config)
        planned = await reminders.preview(now, days)
        if not planned:
            print(f"未来 {days} 个提醒时段没有要发送的提醒。")
        for at, delivery, lines in planned:
            print(f"== {at.isoformat(timespec='minutes')} → {destination(delivery)}")
            print("\n".join(line.text for line in lines))
            print()
        return 0
    finally:
        await close_services(services)


async def send(config: Config, now: datetime | None) -> int:
    from bot.app import rate_limiter
    from bot.telegram_channel import TelegramChannel

    services = await open_services(config)
    bot = ExtBot(config.telegram_token, base_url=config.telegram.base_url or "https://api.telegram.org/bot",
                 rate_limiter=rate_limiter()) if config.telegram_token else None
    try:
        if bot is not None:
            await bot.initialize()
        reminders = await attach_reminders(services, config, {TELEGRAM: TelegramChannel(bot)} if bot else None)
        report = await reminders.run_due(now)
        print(report.summary())
        if report.skipped:
            print("没有 Telegram token，发往 Telegram 的提醒未发送（设置 POLICYBOT_TELEGRAM_TOKEN）", file=sys.stderr)
        return 1 if report.retry_later or report.skipped else 0
    finally:
        if bot is not None:
            await bot.shutdown()
        await close_services(services)
