"""Admin commands that curate the knowledge base from the chat. Each checks the user first; anyone
else gets a refusal and nothing changes. Every change is one transaction and lands in the change log."""

from __future__ import annotations

import html
import logging
import re
from datetime import datetime
from urllib.parse import urlparse

import aiohttp
from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from handlers import admin_texts as t
from handlers import texts
from handlers.ask import services
from handlers.render import Callback, lines_to_html
from knowledge.answer import Line, format_deadline, format_departments
from knowledge.base import rows_to_jsonl
from knowledge.curation import CurationError, add_items, delete_item, edit_item, mark_done, postpone, undo_last
from knowledge.documents import DocumentError
from knowledge.formats import file_text
from knowledge.importer import apply_import, prepare
from knowledge.models import Item
from knowledge.regions import canonical_region

log = logging.getLogger(__name__)
_REGION_ARG = re.compile(r"^(?:地区|region)[=＝:：](?P<region>\S+)\s+")
ADD_PROMPT_MARK = "【新增条目】"


def actor(update: Update) -> str:
    return f"admin:{update.effective_user.id}" if update.effective_user else "admin:?"


async def require_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    if services(context).is_admin(user.id if user else None):
        return True
    if update.callback_query:
        await update.callback_query.answer(texts.NOT_ADMIN, show_alert=True)
    elif update.effective_message:
        await update.effective_message.reply_text(texts.NOT_ADMIN)
    return False


def command_rest(message: Message, parts: int = 1) -> list[str]:
    """The words after the command, the last one keeping its spaces: '/edit 12 新 文本' -> ['12', '新 文本']."""
    text = message.text or message.caption or ""
    return text.split(maxsplit=parts)[1:]


def item_summary(item: Item, today) -> list[Line]:  # type: ignore[no-untyped-def]
    lines = [Line(f"#{item.id} {item.text}", strong=True)]
    lines += [Line("期限：" + format_deadline(d, today)) for d in item.deadlines[:3]]
    if item.departments:
        lines.append(Line(format_departments(item.departments)))
    if item.targets:
        lines.append(Line("目标：" + "；".join(x.describe() for x in item.targets[:4])))
    if not (item.deadlines or item.departments or item.targets):
        lines.append(Line(t.NOTHING_EXTRACTED))
    return lines


async def reply_lines(message: Message, lines: list[Line], markup: InlineKeyboardMarkup | None = None) -> None:
    await message.reply_text(lines_to_html(lines), parse_mode=ParseMode.HTML, reply_markup=markup,
                             disable_web_page_preview=True)


def _item_id(text: str) -> int | None:
    text = text.strip().lstrip("#")
    return int(text) if text.isdigit() and len(text) <= 9 else None


async def item_argument(message: Message, usage: str) -> int | None:
    """The item id after the command, or None after replying with the usage line."""
    rest = command_rest(message)
    item_id = _item_id(rest[0]) if rest else None
    if item_id is None:
        await message.reply_text(usage)
    return item_id


async def run_curation(update: Update, context: ContextTypes.DEFAULT_TYPE, change, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Run a curation change on the store's thread; if it is refused, say why and return None."""
    svc = services(context)
    try:
        return await svc.worker.run(change, svc.kb.store, *args, actor=actor(update), **kwargs)
    except CurationError as e:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"{t.NOT_DONE}{e}")
        return None


# ---------------------------------------------------------------------- /add /edit /delete /undo /history


async def on_add(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not await require_admin(update, context):
        return
    rest = command_rest(message)
    await add_from_text(update, context, rest[0] if rest else "")


async def add_from_text(update: Update, context: ContextTypes.DEFAULT_TYPE, sentence: str) -> None:
    message = update.effective_message
    assert message is not None
    region = "国家"
    if m := _REGION_ARG.match(sentence):
        found = canonical_region(m["region"])
        if found is None:
            await message.reply_text(t.UNKNOWN_REGION.format(region=m["region"][:20]))
            return
        region, sentence = found, sentence[m.end():]
    if not sentence.strip():
        await message.reply_text(t.ADD_USAGE)
        return
    svc = services(context)
    try:
        items = await svc.worker.run(add_items, svc.kb.store, sentence, actor=actor(update), region=region)
    except CurationError as e:
        await message.reply_text(f"{t.NOT_DONE}{e}")
        return
    svc.kb.searcher.invalidate()
    lines = [Line(t.ADDED.format(n=len(items)))]
    for item in items:
        lines += item_summary(item, svc.today())
    await reply_lines(message, lines)


async def item_change(update: Update, context: ContextTypes.DEFAULT_TYPE, usage: str, change,  # type: ignore[no-untyped-def]
                      with_text: bool = False, **kwargs) -> Item | None:
    """`/<command> <id> [text]` by an admin: run the change on that item (with the text after the id);
    None after replying why not."""
    message = update.effective_message
    if message is None or not await require_admin(update, context):
        return None
    rest = command_rest(message, 2 if with_text else 1)
    item_id = _item_id(rest[0]) if rest else None
    if item_id is None or (with_text and len(rest) < 2):
        await message.reply_text(usage)
        return None
    return await run_curation(update, context, change, item_id, *rest[1:2] if with_text else (), **kwargs)


async def on_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    item = await item_change(update, context, t.EDIT_USAGE, edit_item, with_text=True)
    if item is not None and update.effective_message is not None:
        await reply_lines(update.effective_message, [Line(t.EDITED), *item_summary(item, services(context).today())])


async def on_delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    item = await item_change(update, context, t.DELETE_USAGE, delete_item)
    if item is not None and update.effective_message is not None:
        await reply_lines(update.effective_message, [Line(t.DELETED.format(id=item.id)), Line(item.text)])


async def on_undo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not await require_admin(update, context):
        return
    svc = services(context)
    try:
        result = await svc.worker.run(undo_last, svc.kb.store, actor=actor(update))
    except CurationError as e:
        await message.reply_text(f"{t.NOT_DONE}{e}")
        return
    state = "已删除" if result.item.status == "deleted" else "已恢复"
    await reply_lines(message, [Line(t.UNDONE.format(action=t.ACTION_NAMES.get(result.action, result.action),
                                                     id=result.item.id, state=state)), Line(result.item.text)])


async def on_history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not await require_admin(update, context):
        return
    item_id = await item_argument(message, t.HISTORY_USAGE)
    if item_id is None:
        return
    svc = services(context)
    changes = await svc.worker.run(svc.kb.store.history, item_id)
    if not changes:
        await message.reply_text(t.NO_HISTORY.format(id=item_id))
        return
    lines = [Line(t.HISTORY_TITLE.format(id=item_id), strong=True)]
    for c in changes[-10:]:
        after = (c["after"] or {}).get("text", "")
        status = (c["after"] or {}).get("status", "")
        what = t.ACTION_NAMES.get(c["action"], c["action"])
        lines.append(Line(f"{c['at'][:16].replace('T', ' ')} {c['actor']} {what}"
                          + (f"：{after[:60]}" if after else "") + (f"（{status}）" if status == "deleted" else "")))
    await reply_lines(message, lines)


async def on_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    item = await item_change(update, context, t.DONE_USAGE, mark_done)
    if item is not None and update.effective_message is not None:
        lines = [Line(t.MARKED_DONE.format(id=item.id)), *item_summary(item, services(context).today())]
        await reply_lines(update.effective_message, lines)


async def on_postpone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    today = services(context).today()
    item = await item_change(update, context, t.POSTPONE_USAGE, postpone, with_text=True, today=today)
    if item is not None and update.effective_message is not None:
        await reply_lines(update.effective_message, [Line(t.POSTPONED.format(id=item.id)), *item_summary(item, today)])


# ---------------------------------------------------------------------- /import


async def on_import(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A document sent with caption /import, or /import <URL>: parse, preview, wait for Confirm."""
    message = update.effective_message
    if message is None or not await require_admin(update, context):
        return
    svc = services(context)
    limit = svc.config.telegram.max_import_bytes
    try:
        if message.document:
            if (message.document.file_size or 0) > limit:
                raise DocumentError(t.TOO_BIG.format(mb=limit // 1024 // 1024))
            file = await message.document.get_file()
            data = bytes(await file.download_as_bytearray())
            name = message.document.file_name or "document.txt"
            source = name
        else:
            rest = command_rest(message)
            url = rest[0].strip() if rest else ""
            if not url:
                await message.reply_text(t.IMPORT_USAGE)
                return
            data, name = await fetch(svc.http, url, limit)
            source = url
        text = file_text(data, name)
        document, items = await svc.worker.run(prepare, text, source)
    except DocumentError as e:
        await message.reply_text(f"{t.NOT_IMPORTED}{e}")
        return
    token = svc.park_import(_pending(document, items, update))
    await reply_lines(message, preview_lines(document, items, svc.today()), InlineKeyboardMarkup([[
        InlineKeyboardButton(t.CONFIRM, callback_data=f"im:{token}:y"),
        InlineKeyboardButton(t.CANCEL, callback_data=f"im:{token}:n"),
    ]]))


def _pending(document, items, update: Update):  # type: ignore[no-untyped-def]
    from bot.services import PendingImport

    return PendingImport(document, items, update.effective_user.id if update.effective_user else 0)


async def fetch(http: aiohttp.ClientSession, url: str, limit: int) -> tuple[bytes, str]:
    """Download a document over http(s) within the size limit; errors become DocumentError."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise DocumentError(t.BAD_URL)
    try:
        async with http.get(url, allow_redirects=True, max_redirects=5) as response:
            if response.status != 200:
                raise DocumentError(t.HTTP_STATUS.format(status=response.status))
            if (response.content_length or 0) > limit:
                raise DocumentError(t.TOO_BIG.format(mb=limit // 1024 // 1024))
            data = await response.content.read(limit + 1)
            if len(data) > limit:
                raise DocumentError(t.TOO_BIG.format(mb=limit // 1024 // 1024))
            content_type = response.headers.get("Content-Type", "")
    except (aiohttp.ClientError, TimeoutError) as e:
        raise DocumentError(t.FETCH_FAILED.format(error=type(e).__name__)) from None
    name = parsed.path.rsplit("/", 1)[-1] or "index.html"
    if "." not in name:
        name += ".pdf" if "pdf" in content_type else ".docx" if "wordprocessing" in content_type else \
            ".html" if "html" in content_type else ".txt"
    return data, name


def preview_lines(document, items: list[Item], today) -> list[Line]:  # type: ignore[no-untyped-def]
    with_deadline = sum(1 for i in items if i.deadlines)
    with_departments = sum(1 for i in items if i.departments)
    with_targets = sum(1 for i in items if i.targets)
    departments = sorted({d for i in items for d in i.departments.all()})
    lines = [
        Line(t.PREVIEW_TITLE.format(title=document.title), strong=True),
        Line(t.PREVIEW_META.format(region=document.region, date=document.date or "不详",
                                   number=document.doc_number or "无")),
        Line(t.PREVIEW_COUNTS.format(n=len(items), deadlines=with_deadline, departments=with_departments,
                                     targets=with_targets)),
    ]
    if departments:
        lines.append(Line("部门：" + "、".join(departments[:12]) + (f"等{len(departments)}个" if len(departments) > 12 else "")))
    lines.append(Line(t.PREVIEW_SAMPLE))
    for item in [i for i in items if i.deadlines or i.departments][:5] or items[:5]:
        line = "· " + item.text[:60]
        if item.deadline:
            line += f"（{format_deadline(item.deadline, today)}）"
        lines.append(Line(line))
    return lines


async def on_import_button(update: Update, context: ContextTypes.DEFAULT_TYPE, callback: Callback) -> None:
    query = update.callback_query
    assert query is not None
    if not await require_admin(update, context):
        return
    svc = services(context)
    pending = svc.pending_imports.get(callback.token)
    if pending is None or pending.admin_id != query.from_user.id:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    del svc.pending_imports[callback.token]
    await query.answer()
    if not callback.confirm:
        await query.edit_message_text(t.IMPORT_CANCELLED)
        return
    report = await svc.worker.run(apply_import, svc.kb.store, pending.document, pending.items,
                                  actor=actor(update))
    svc.kb.searcher.invalidate()
    await query.edit_message_text(html.escape(report.summary()), parse_mode=ParseMode.HTML)


# ---------------------------------------------------------------------- /export /stats


async def on_export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not await require_admin(update, context):
        return
    svc = services(context)
    today = svc.today()

    def build() -> bytes:
        return "".join(rows_to_jsonl(svc.kb.export_rows(today))).encode("utf-8")

    data = await svc.worker.run(build)
    name = f"policybot-export-{datetime.now(svc.config.tz):%Y%m%d}.jsonl"
    await message.reply_document(document=data, filename=name, caption=t.EXPORT_CAPTION.format(n=data.count(b"\n")))


async def on_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not await require_admin(update, context):
        return
    svc = services(context)
    stats = await svc.worker.run(svc.kb.store.stats)
    unanswered = await svc.worker.run(svc.kb.store.unanswered_questions, 8)
    lines = [Line(t.STATS_TITLE, strong=True), Line(t.STATS_BODY.format(**stats))]
    rows = []
    if unanswered:
        lines.append(Line(t.UNANSWERED_TITLE, strong=True))
        for i, (qid, question, n) in enumerate(unanswered, 1):
            lines.append(Line(f"{i}. {question[:60]}（{n} 次）"))
            rows.append([InlineKeyboardButton(t.MAKE_ITEM.format(i=i), callback_data=f"mk:{qid}")])
    await reply_lines(message, lines, InlineKeyboardMarkup(rows) if rows else None)


async def on_make_item_button(update: Update, context: ContextTypes.DEFAULT_TYPE, callback: Callback) -> None:
    query = update.callback_query
    assert query is not None
    if not await require_admin(update, context):
        return
    svc = services(context)
    question = await svc.worker.run(svc.kb.store.question_text, callback.question_id)
    if question is None:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    await query.answer()
    chat_id = query.message.chat.id if query.message else query.from_user.id
    await context.bot.send_message(chat_id, f"{ADD_PROMPT_MARK}{t.MAKE_ITEM_PROMPT}\n「{question[:200]}」",
                                   reply_markup=ForceReply(selective=True))


def is_add_prompt_reply(message: Message, bot_id: int) -> bool:
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == bot_id
                and (replied.text or "").startswith(ADD_PROMPT_MARK))
