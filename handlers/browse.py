"""/start, /help, /deadlines, /dept, /search: browsing the knowledge base without a question."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers import texts
from handlers.ask import send_answer, services
from handlers.commands import help_lines

DEFAULT_DAYS = 30
MAX_DAYS = 3650


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message:
        await update.effective_message.reply_text(texts.WELCOME)


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    is_admin = services(context).is_admin(update.effective_user.id if update.effective_user else None)
    await message.reply_text("\n".join(help_lines(is_admin)))


async def on_deadlines(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    args = context.args or []
    days = DEFAULT_DAYS
    if args:
        if len(args) != 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= MAX_DAYS:
            await message.reply_text(texts.DEADLINES_USAGE)
            return
        days = int(args[0])
    svc = services(context)
    answer = await svc.worker.run(svc.kb.upcoming, svc.today(), days)
    if not answer.hits:
        await message.reply_text(texts.NO_DEADLINES.format(days=days))
        return
    await send_answer(message, svc, answer, prefix=texts.DEADLINES_TITLE.format(days=days, today=svc.today()) + "\n")


async def on_dept(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    name = " ".join(context.args or []).strip()
    if not name:
        await message.reply_text(texts.DEPT_USAGE)
        return
    svc = services(context)
    answer = await svc.worker.run(svc.kb.department_items, name[:50], svc.today())
    if answer is None or not answer.hits:
        examples = "、".join(await svc.worker.run(svc.kb.department_examples))
        await message.reply_text(texts.UNKNOWN_DEPARTMENT.format(name=name[:50], examples=examples))
        return
    await send_answer(message, svc, answer)


async def on_search(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    keywords = " ".join(context.args or []).strip()
    if not keywords:
        await message.reply_text(texts.SEARCH_USAGE)
        return
    svc = services(context)
    answer = await svc.worker.run(svc.kb.search_items, keywords[: texts.MAX_QUESTION_CHARS], svc.today())
    await send_answer(message, svc, answer)
