"""The one error handler: the traceback goes to the log, the user gets one polite line."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from handlers import texts

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat:
        try:
            await context.bot.send_message(update.effective_chat.id, texts.ERROR)
        except Exception:  # the chat may be unreachable; the log already has the story
            log.warning("could not tell chat %s about the error", update.effective_chat.id)
