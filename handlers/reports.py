"""/export and /stats for admins, and the /stats choice that turns an unanswered question into an item."""

from __future__ import annotations

from datetime import datetime

from handlers import admin_texts as t
from handlers import texts
from handlers.admin import ask_for_new_item
from handlers.callbacks import Callback, make_item_payload
from handlers.messages import Choice, OutFile, Reply
from handlers.turn import Turn
from knowledge.answer import Line
from knowledge.base import rows_to_jsonl


async def on_export(turn: Turn) -> list[Reply]:
    if refused := turn.not_admin():
        return refused
    svc = turn.services
    today = svc.today()

    def build() -> bytes:
        return "".join(rows_to_jsonl(svc.kb.export_rows(today))).encode("utf-8")

    data = await svc.worker.run(build)
    name = f"policybot-export-{datetime.now(svc.settings.tz):%Y%m%d}.jsonl"
    return [Reply(file=OutFile(name, data, t.EXPORT_CAPTION.format(n=data.count(b"\n"))))]


async def on_stats(turn: Turn) -> list[Reply]:
    if refused := turn.not_admin():
        return refused
    svc = turn.services
    stats = await svc.worker.run(svc.kb.store.stats)
    unanswered = await svc.worker.run(svc.kb.store.unanswered_questions, 8)
    lines = [Line(t.STATS_TITLE, strong=True), Line(t.STATS_BODY.format(**stats))]
    rows = []
    if unanswered:
        lines.append(Line(t.UNANSWERED_TITLE, strong=True))
        for i, (qid, question, n) in enumerate(unanswered, 1):
            lines.append(Line(f"{i}. {question[:60]}（{n} 次）"))
            label = t.MAKE_ITEM.format(i=i)
            rows.append([Choice(label, make_item_payload(qid), label)])
    return [Reply(lines, rows)]


async def on_make_item_choice(turn: Turn, callback: Callback) -> list[Reply]:
    if refused := turn.not_admin():
        return refused
    svc = turn.services
    question = await svc.worker.run(svc.kb.store.question_text, callback.question_id)
    if question is None:
        return [turn.refusal(texts.STALE_BUTTON)]
    return [ask_for_new_item(turn, question)]
