"""Admin commands that curate the knowledge base from the chat: /add /edit /delete /undo /history /done
/postpone, and the answer to a "new item" prompt. Each checks the sender first; anyone else is refused
and nothing changes. Every change is one transaction and lands in the change log."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from handlers import admin_texts as t
from handlers import texts
from handlers.messages import Reply, say
from handlers.turn import Turn
from knowledge.answer import Line, format_deadline, format_departments
from knowledge.curation import CurationError, add_items, delete_item, edit_item, mark_done, postpone, undo_last
from knowledge.models import Item
from knowledge.regions import canonical_region

_REGION_ARG = re.compile(r"^(?:地区|region)[=＝:：](?P<region>\S+)(?:\s+|$)")
ADD_PROMPT_MARK = "【新增条目】"


def item_summary(item: Item, today: date) -> list[Line]:
    lines = [Line(f"#{item.id} {item.text}", strong=True)]
    lines += [Line("期限：" + format_deadline(d, today)) for d in item.deadlines[:3]]
    if item.departments:
        lines.append(Line(format_departments(item.departments)))
    if item.targets:
        lines.append(Line("目标：" + "；".join(x.describe() for x in item.targets[:4])))
    if not (item.deadlines or item.departments or item.targets):
        lines.append(Line(t.NOTHING_EXTRACTED))
    return lines


def item_id_argument(text: str) -> int | None:
    text = text.strip().lstrip("#")
    return int(text) if text.isdigit() and len(text) <= 9 else None


async def run_curation(turn: Turn, change: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, list[Reply]]:
    """Run a curation change on the store's writer: (its result, []) or (None, [why it was refused])."""
    svc = turn.services
    try:
        return await svc.worker.write(change, svc.kb.store, *args, actor=turn.actor, **kwargs), []
    except CurationError as e:
        return None, [say(f"{t.NOT_DONE}{e}")]


# ---------------------------------------------------------------------- /add and the "new item" prompt


async def on_add(turn: Turn) -> list[Reply]:
    return turn.not_admin() or await add_from_text(turn, turn.args)


async def add_from_text(turn: Turn, sentence: str) -> list[Reply]:
    region = "国家"
    if m := _REGION_ARG.match(sentence):
        found = canonical_region(m["region"])
        if found is None:
            return [say(t.UNKNOWN_REGION.format(region=m["region"][:20]))]
        region, sentence = found, sentence[m.end():]
    if not sentence.strip():
        return [say(t.ADD_USAGE)]
    items, refused = await run_curation(turn, add_items, sentence, region=region)
    if refused:
        return refused
    lines = [Line(t.ADDED.format(n=len(items)))]
    for item in items:
        lines += item_summary(item, turn.services.today())
    return [Reply(lines)]


def ask_for_new_item(turn: Turn, question: str) -> Reply:
    """Prompt this admin for the text of a new item; their next message in this chat is taken as it."""
    turn.state.prompt_for_add = time.monotonic()
    return Reply([Line(f"{ADD_PROMPT_MARK}{t.MAKE_ITEM_PROMPT}"), Line(f"「{question[:200]}」")], expects_reply=True)


async def on_prompted_add(turn: Turn, text: str) -> list[Reply]:
    """The answer to a "new item" prompt: an /add of that text, or 取消."""
    turn.state.prompt_for_add = 0.0
    if text.strip().lower() in texts.CANCEL_WORDS:
        return [say(texts.ADD_PROMPT_CANCELLED)]
    return turn.not_admin() or await add_from_text(turn, text)


# ---------------------------------------------------------------------- changes to one item


async def item_change(turn: Turn, usage: str, change: Callable[..., Any], with_text: bool = False,
                      **kwargs: Any) -> tuple[Item | None, list[Reply]]:
    """`/<command> <id> [text]` by an admin: run the change on that item (with the text after the id)."""
    if refused := turn.not_admin():
        return None, refused
    rest = turn.args.split(maxsplit=1 if with_text else 0)
    item_id = item_id_argument(rest[0]) if rest else None
    if item_id is None or (with_text and len(rest) < 2):
        return None, [say(usage)]
    return await run_curation(turn, change, item_id, *rest[1:2] if with_text else (), **kwargs)


async def on_edit(turn: Turn) -> list[Reply]:
    item, refused = await item_change(turn, t.EDIT_USAGE, edit_item, with_text=True)
    if item is None:
        return refused
    return [Reply([Line(t.EDITED), *item_summary(item, turn.services.today())])]


async def on_delete(turn: Turn) -> list[Reply]:
    item, refused = await item_change(turn, t.DELETE_USAGE, delete_item)
    if item is None:
        return refused
    return [Reply([Line(t.DELETED.format(id=item.id)), Line(item.text)])]


async def on_done(turn: Turn) -> list[Reply]:
    item, refused = await item_change(turn, t.DONE_USAGE, mark_done)
    if item is None:
        return refused
    return [Reply([Line(t.MARKED_DONE.format(id=item.id)), *item_summary(item, turn.services.today())])]


async def on_postpone(turn: Turn) -> list[Reply]:
    today = turn.services.today()
    item, refused = await item_change(turn, t.POSTPONE_USAGE, postpone, with_text=True, today=today)
    if item is None:
        return refused
    return [Reply([Line(t.POSTPONED.format(id=item.id)), *item_summary(item, today)])]


async def on_undo(turn: Turn) -> list[Reply]:
    if refused := turn.not_admin():
        return refused
    result, refused = await run_curation(turn, undo_last)
    if refused:
        return refused
    if result.item is None:  # an import undone: its summary says what changed
        return [say(result.summary)]
    state = "已删除" if result.item.status == "deleted" else "已恢复"
    action = t.ACTION_NAMES.get(result.action, result.action)
    return [Reply([Line(t.UNDONE.format(action=action, id=result.item.id, state=state)), Line(result.item.text)])]


async def on_history(turn: Turn) -> list[Reply]:
    if refused := turn.not_admin():
        return refused
    item_id = item_id_argument(turn.args.split()[0]) if turn.args else None
    if item_id is None:
        return [say(t.HISTORY_USAGE)]
    svc = turn.services
    changes = await svc.worker.run(svc.kb.store.history, item_id)
    if not changes:
        return [say(t.NO_HISTORY.format(id=item_id))]
    lines = [Line(t.HISTORY_TITLE.format(id=item_id), strong=True)]
    for c in changes[-10:]:
        after = (c["after"] or {}).get("text", "")
        status = (c["after"] or {}).get("status", "")
        what = t.ACTION_NAMES.get(c["action"], c["action"])
        lines.append(Line(f"{c['at'][:16].replace('T', ' ')} {c['actor']} {what}"
                          + (f"：{after[:60]}" if after else "") + (f"（{status}）" if status == "deleted" else "")))
    return [Reply(lines)]
