"""/import by admins: a document sent with the caption /import (or a local file in the console), or
/import <URL>; parsed away from the answering path, previewed, and applied only on Confirm."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlparse

import aiohttp

from handlers import admin_texts as t
from handlers import texts
from handlers.callbacks import Callback, import_payload
from handlers.messages import Choice, Reply, say
from handlers.state import PendingImport
from handlers.turn import Turn
from knowledge.answer import Line, format_deadline
from knowledge.documents import DocumentError
from knowledge.importer import apply_import, prepare_file
from knowledge.models import Document, Item


def warm_up_parser() -> int:
    """Parse a one-line document, so that the worker process has its modules and word lists loaded
    before the first real import (run once at start, in the background)."""
    return len(prepare_file("完成全省充电桩布局规划。（省能源局牵头，2027年6月底前完成）".encode(), "warm-up.txt")[1])


async def on_import(turn: Turn) -> list[Reply]:
    if refused := turn.not_admin():
        return refused
    svc = turn.services
    limit = svc.settings.max_import_bytes
    file = turn.incoming.file
    try:
        if file is not None:
            if (file.size or 0) > limit:
                raise DocumentError(t.TOO_BIG.format(mb=limit // 1024 // 1024))
            data, name, source = await file.fetch(), file.name or "document.txt", file.name or "document.txt"
            if len(data) > limit:
                raise DocumentError(t.TOO_BIG.format(mb=limit // 1024 // 1024))
        else:
            url = turn.args.split()[0] if turn.args else ""
            if not url:
                return [say(t.IMPORT_USAGE)]
            data, name = await fetch(svc.http, url, limit)
            source = url
        document, items = await svc.worker.offload(prepare_file, data, name, None, source)
    except DocumentError as e:
        return [say(f"{t.NOT_IMPORTED}{e}")]
    token = svc.memory.park_import(PendingImport(document, items, (turn.incoming.app, turn.incoming.sender_id)))
    choices = [[Choice(t.CONFIRM, import_payload(token, True)), Choice(t.CANCEL, import_payload(token, False))]]
    return [Reply(preview_lines(document, items, svc.today()), choices)]


async def fetch(http: aiohttp.ClientSession, url: str, limit: int) -> tuple[bytes, str]:
    """Download a document over http(s) within the size limit; every failure is a DocumentError."""
    try:
        parsed = urlparse(url)
        ok = parsed.scheme in ("http", "https") and bool(parsed.hostname)
    except ValueError:  # e.g. an unclosed IPv6 bracket: http://[::1
        ok = False
    if not ok:
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
    except DocumentError:
        raise
    except (aiohttp.ClientError, TimeoutError, ValueError) as e:  # ValueError: a URL aiohttp cannot use
        raise DocumentError(t.FETCH_FAILED.format(error=type(e).__name__)) from None
    name = parsed.path.rsplit("/", 1)[-1] or "index.html"
    if "." not in name:
        name += ".pdf" if "pdf" in content_type else ".docx" if "wordprocessing" in content_type else \
            ".html" if "html" in content_type else ".txt"
    return data, name


def preview_lines(document: Document, items: list[Item], today: date) -> list[Line]:
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
        more = f"等{len(departments)}个" if len(departments) > 12 else ""
        lines.append(Line("部门：" + "、".join(departments[:12]) + more))
    lines.append(Line(t.PREVIEW_SAMPLE))
    for item in [i for i in items if i.deadlines or i.departments][:5] or items[:5]:
        line = "· " + item.text[:60]
        if item.deadline:
            line += f"（{format_deadline(item.deadline, today)}）"
        lines.append(Line(line))
    return lines


async def on_import_choice(turn: Turn, callback: Callback) -> list[Reply]:
    if refused := turn.not_admin():
        return refused
    svc = turn.services
    pending = svc.memory.pending_imports.get(callback.token)
    if pending is None or pending.admin != (turn.incoming.app, turn.incoming.sender_id):
        return [turn.refusal(texts.STALE_BUTTON)]
    del svc.memory.pending_imports[callback.token]
    if not callback.confirm:
        return [Reply([Line(t.IMPORT_CANCELLED)], replace=True)]
    report = await svc.worker.write(apply_import, svc.kb.store, pending.document, pending.items, actor=turn.actor)
    return [Reply([Line(report.summary())], replace=True)]
