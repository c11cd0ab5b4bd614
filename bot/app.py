"""The composition root for `policybot run`: the PTB Application, the shared services, the
conversation, the reminder scheduler, and the Telegram adapter's handlers."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder
from telegram.request import BaseRequest

from bot.config import Config
from bot.services import SERVICES_KEY, attach_reminders, close_services, open_services
from bot.telegram_adapter import APP, CONVERSATION_KEY, register
from bot.telegram_channel import TelegramChannel
from handlers.commands import public_commands
from handlers.core import Conversation
from handlers.services import Services
from reminders.schedule import start_scheduler

log = logging.getLogger(__name__)


SCHEDULER_KEY = "reminder_scheduler"
# Telegram allows about 30 messages/s overall. A limiter of one message per 1/28 s spaces them out
# evenly (no bursts for a strict window to refuse) with a little room for network jitter.
MESSAGES_PER_SECOND = 28


def rate_limiter() -> AIORateLimiter:
    return AIORateLimiter(overall_max_rate=1, overall_time_period=1 / MESSAGES_PER_SECOND, max_retries=3)


class MissingToken(RuntimeError):
    """No Telegram token configured."""


def build_application(config: Config, *, request: BaseRequest | None = None) -> Application:
    """The bot, ready for run_polling(): services open in post_init and close in post_shutdown.
    Updates of different chats are handled side by side; the conversation keeps each chat's order."""
    token = config.telegram_token
    if not token:
        raise MissingToken("缺少 Telegram token：请设置环境变量 POLICYBOT_TELEGRAM_TOKEN，或在配置文件 [telegram] token 中填写")
    builder: ApplicationBuilder = (
        ApplicationBuilder().token(token).post_init(_post_init).post_shutdown(_post_shutdown)
        .rate_limiter(rate_limiter()).concurrent_updates(True)
    )
    if config.telegram.base_url:
        builder = builder.base_url(config.telegram.base_url)
    if config.telegram.base_file_url:
        builder = builder.base_file_url(config.telegram.base_file_url)
    if request is not None:
        builder = builder.request(request)
    app = builder.build()
    app.bot_data["config"] = config
    register(app)
    return app


async def check_token(config: Config) -> None:
    """Ask Telegram who we are before starting, so a bad token is one clear error, not a traceback."""
    base_url = config.telegram.base_url or "https://api.telegram.org/bot"
    async with Bot(config.telegram_token, base_url=base_url) as bot:
        await bot.get_me()


async def _post_init(app: Application) -> None:
    config: Config = app.bot_data["config"]
    services = app.bot_data[SERVICES_KEY] = await open_services(config)
    reminders = await attach_reminders(services, config, {APP: TelegramChannel(app.bot)})
    app.bot_data[CONVERSATION_KEY] = Conversation(services)
    if config.reminders.enabled:
        app.bot_data[SCHEDULER_KEY] = start_scheduler(reminders, reminders.settings.send_at,
                                                      config.reminders.retry_minutes)
    await app.bot.set_my_commands([BotCommand(c.name, c.description) for c in public_commands()])
    log.info("PolicyBot @%s ready", app.bot.username)


async def _post_shutdown(app: Application) -> None:
    scheduler = app.bot_data.pop(SCHEDULER_KEY, None)
    if scheduler is not None:
        scheduler.shutdown(wait=False)
    services: Services | None = app.bot_data.pop(SERVICES_KEY, None)
    if services is not None:
        await close_services(services)
