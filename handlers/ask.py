"""Questions: private messages, /ask, @mentions and replies in groups, list pages and item buttons."""

from __future__ import annotations

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.services import SERVICES_KEY, Services
from handlers import texts
from handlers.render import answer_message, item_message, parse_callback
from knowledge.answer import LIST_PAGE, Answer

MORE_WORDS = {"更多", "下一页", "more"}


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data[SERVICES_KEY]


async def reply_answer(message: Message, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    svc = services(context)
    question = question.strip()
    note = ""
    if len(question) > texts.MAX_QUESTION_CHARS:
        question = question[: texts.MAX_QUESTION_CHARS]
        note = texts.TOO_LONG_NOTE.format(n=texts.MAX_QUESTION_CHARS) + "\n"
    answer, rewritten = await svc.ask(message.chat_id, question, message.chat.type)
    if rewritten:
        note += texts.REWRITTEN.format(question=rewritten) + "\n"
    await send_answer(message, svc, answer, prefix=note)


async def send_answer(message: Message, svc: Services, answer: Answer, prefix: str = "") -> None:
    """Reply with an answer as HTML with its buttons; a list is remembered so its buttons can page it."""
    list_id = svc.chat(message.chat_id).remember_list(answer) if answer.mode == "list" and answer.hits else ""
    text, keyboard = answer_message(answer, list_id, prefix=prefix)
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard,
                             disable_web_page_preview=True)


async def on_private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not message.text:
        return
    if message.text.strip().lower() in MORE_WORDS:
        await send_next_page(message, context)
        return
    if await answered_add_prompt(update, context):
        return
    await reply_answer(message, context, message.text)


async def on_group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups: answer only when addressed (an @mention or a reply to the bot); stay silent otherwise."""
    message = update.effective_message
    if message is None or not message.text:
        return
    if await answered_add_prompt(update, context):
        return
    question = addressed_question(message, context.bot.username, context.bot.id)
    if question is None:
        return
    if not question:
        await message.reply_text(texts.ASK_USAGE)
        return
    await reply_answer(message, context, question)


async def answered_add_prompt(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """An admin's reply to the bot's “new item” prompt (from /stats) is an /add."""
    from handlers.admin import add_from_text, is_add_prompt_reply, require_admin

    message = update.effective_message
    if message is None or not is_add_prompt_reply(message, context.bot.id):
        return False
    if await require_admin(update, context):
        await add_from_text(update, context, message.text or "")
    return True


def addressed_question(message: Message, username: str, bot_id: int) -> str | None:
    """The question if the message is meant for the bot, else None."""
    text = message.text or ""
    mention = f"@{username}".lower()
    mentioned = any(
        e.type == "mention" and message.parse_entity(e).lower() == mention for e in message.entities or ()
    )
    replied = bool(message.reply_to_message and message.reply_to_message.from_user
                   and message.reply_to_message.from_user.id == bot_id)
    if not (mentioned or replied):
        return None
    return text.replace(f"@{username}", "").strip()


async def on_ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    question = " ".join(context.args or [])
    if not question.strip():
        await message.reply_text(texts.ASK_USAGE)
        return
    await reply_answer(message, context, question)


async def send_next_page(message: Message, context: ContextTypes.DEFAULT_TYPE) -> None:
    state = services(context).chat(message.chat_id)
    if not state.lists:
        await message.reply_text("没有可以翻页的列表。")
        return
    list_id, answer = next(reversed(state.lists.items()))
    if (answer.page + 1) * LIST_PAGE >= len(answer.hits):
        await message.reply_text("没有更多了。")
        return
    answer.page += 1
    text, keyboard = answer_message(answer, list_id)
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    callback = parse_callback(query.data)
    if callback is None:
        await query.answer(texts.INVALID_BUTTON, show_alert=True)
        return
    if callback.kind == "import":
        from handlers.admin import on_import_button

        await on_import_button(update, context, callback)
        return
    if callback.kind == "make_item":
        from handlers.admin import on_make_item_button

        await on_make_item_button(update, context, callback)
        return
    if callback.kind == "unsubscribe":
        from handlers.subscriptions import on_unsubscribe_button

        await on_unsubscribe_button(update, context, callback)
        return
    svc = services(context)
    chat_id = query.message.chat.id if query.message else 0
    if callback.kind == "item":
        found = await svc.worker.run(svc.kb.item_with_document, callback.item_id)
        if found is None:
            await query.answer(texts.ITEM_GONE, show_alert=True)
            return
        await query.answer()
        item, doc = found
        await context.bot.send_message(chat_id, item_message(item, doc, svc.today()), parse_mode=ParseMode.HTML,
                                       disable_web_page_preview=True)
        return
    answer = svc.chat(chat_id).lists.get(callback.list_id)
    if answer is None or callback.page * LIST_PAGE >= max(len(answer.hits), 1):
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    await query.answer()
    answer.page = callback.page
    text, keyboard = answer_message(answer, callback.list_id)
    await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
