"""Reminders to Telegram chats: the reminder service's channel for the Telegram app."""

from __future__ import annotations

import asyncio

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

from bot.telegram.html import lines_to_html
from knowledge.answer import Line
from reminders.channels import ATTEMPTS, BACKOFF, SendResult, Sleep
from reminders.models import Subscription


class TelegramChannel:
    """Sends through the application's Bot, whose rate limiter (bot/telegram/limits.py) keeps to Telegram's flood limits."""

    def __init__(self, bot: Bot, sleep: Sleep = asyncio.sleep) -> None:
        self.bot = bot
        self.sleep = sleep

    async def send(self, subscription: Subscription, lines: list[Line]) -> SendResult:
        assert subscription.chat_id is not None
        text = lines_to_html(lines)
        delay = BACKOFF
        detail = ""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await self.bot.send_message(subscription.chat_id, text, parse_mode=ParseMode.HTML,
                                            disable_web_page_preview=True)
                return SendResult.sent()
            except ChatMigrated as e:
                return SendResult(False, detail="group migrated", migrated_to=e.new_chat_id)
            except Forbidden as e:
                return SendResult(False, permanent=True, disable=True, detail=f"forbidden: {e.message}")
            except RetryAfter as e:
                wait = e.retry_after if isinstance(e.retry_after, int | float) else e.retry_after.total_seconds()
                detail = f"rate limited ({wait:.0f}s)"
                if attempt < ATTEMPTS:
                    await self.sleep(float(wait) + 0.1)
            except BadRequest as e:
                gone = "chat not found" in e.message.lower()
                return SendResult(False, permanent=True, disable=gone, detail=f"bad request: {e.message}")
            except NetworkError as e:  # includes TimedOut
                detail = f"network: {e.message}"
                if attempt < ATTEMPTS:
                    await self.sleep(delay)
                    delay *= 2
        return SendResult(False, detail=detail)
