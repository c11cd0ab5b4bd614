"""Admins' changes to the knowledge base: add, edit, delete, undo, progress. One transaction each,
every change in the change log (who, when, before, after)."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from knowledge.deadlines import parse_deadline
from knowledge.extract import extract_sentence
from knowledge.models import Deadline, Document, Item
from knowledge.store import KnowledgeStore, item_from_snapshot

MANUAL_DOC_ID = "manual"
MAX_SENTENCE_CHARS = 1000
MAX_YEARS_FROM_DOCUMENT = 50  # a new deadline further than this from the document's date is a typo
UNDOABLE = ("add", "edit", "delete", "progress", "import_document", "update_document")
IMPORTS = ("import_document", "update_document")
# An import's own item changes, whose `before` an undo of it restores.
IMPORT_ITEM_ACTIONS = ("reextract", "update", "retire")
_FULL_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:前|之前)?")


class CurationError(ValueError):
    """The change cannot be made; the message says why, for the admin."""


@dataclass
class UndoResult:
    item: Item | None  # the item changed back; None when an import was undone
    action: str
    summary: str = ""  # one line for the admin, e.g. 已撤销导入《…》：移除 12 条，恢复 3 条


def _manual_document(store: KnowledgeStore) -> None:
    if store.get_document(MANUAL_DOC_ID) is None:
        store.save_document(Document(doc_id=MANUAL_DOC_ID, source="chat", title="管理员添加的条目"))


def has_words(text: str) -> bool:
    """Whether the text has real words (Chinese characters or letters), not only punctuation,
    digits, spaces or invisible characters."""
    return any(unicodedata.category(c) in ("Lo", "Lu", "Ll", "Lt") for c in text)


def visible_text(text: str) -> str:
    """The text without invisible characters (zero-width spaces, joiners, BOMs, controls), its
    runs of white space made one space."""
    kept = "".join(c if unicodedata.category(c) not in ("Cf", "Cc", "Co", "Cs") or c in "\n\t" else ""
                   for c in text)
    return " ".join(kept.split())


def _check_text(text: str) -> str:
    text = visible_text(text)
    if not text:
        raise CurationError("内容不能为空")
    if not has_words(text):
        raise CurationError("内容里没有文字（只有标点、数字或不可见字符），未做修改")
    if len(text) > MAX_SENTENCE_CHARS:
        raise CurationError(f"内容太长（{len(text)} 字），上限 {MAX_SENTENCE_CHARS} 字")
    return text


def _active_item(store: KnowledgeStore, item_id: int) -> Item:
    item = store.get_item(item_id)
    if item is None or item.status != "active":
        raise CurationError(f"没有编号为 #{item_id} 的有效条目")
    return item


def add_items(store: KnowledgeStore, sentence: str, *, actor: str, region: str = "国家") -> list[Item]:
    """New items from a sentence in the documents' own style, with the same extraction as import."""
    items = extract_sentence(_check_text(sentence), region=region)
    if not items:
        raise CurationError("没有从这句话中识别出条目")
    with store.transaction():
        _manual_document(store)
        for item in items:
            item.doc_id = MANUAL_DOC_ID
            item.edited = True
            store.insert_item(item, actor=actor, action="add")
    return items


def edit_item(store: KnowledgeStore, item_id: int, text: str, *, actor: str) -> Item:
    """Replace an item's text and re-extract its fields; the section, region and source stay."""
    old = _active_item(store, item_id)
    fresh = extract_sentence(_check_text(text), region=old.region)
    if not fresh:
        raise CurationError("没有从新内容中识别出条目")
    new = fresh[0]
    if len(fresh) > 1:  # keep the admin's whole text as one item
        new.text = _check_text(text)
    new.id, new.doc_id, new.seq, new.section = old.id, old.doc_id, old.seq, old.section
    new.progress, new.edited = old.progress, True
    if not new.deadlines and not new.departments:
        new.deadlines, new.departments, new.clause = old.deadlines, old.departments, old.clause
    with store.transaction():
        store.update_item(new, actor=actor, action="edit")
    return new


def delete_item(store: KnowledgeStore, item_id: int, *, actor: str) -> Item:
    item = _active_item(store, item_id)
    item.status = "deleted"
    with store.transaction():
        store.update_item(item, actor=actor, action="delete")
    return item


def mark_done(store: KnowledgeStore, item_id: int, *, actor: str) -> Item:
    """Done items stop reminding and show 已完成 in answers."""
    item = _active_item(store, item_id)
    if item.progress == "done":
        raise CurationError(f"#{item_id} 已经标记为完成")
    item.progress = "done"
    with store.transaction():
        store.update_item(item, actor=actor, action="progress")
    return item


def postpone(store: KnowledgeStore, item_id: int, phrase: str, *, actor: str, today: date) -> Item:
    """Move an item's first dated deadline to a new one ('2027年3月31日', '2027-03-31', '明年6月底前')."""
    item = _active_item(store, item_id)
    new = _new_deadline(phrase, today)
    document = store.get_document(item.doc_id)
    anchor = document.date if document and document.date else today
    assert new.due is not None
    if abs(new.due.year - anchor.year) > MAX_YEARS_FROM_DOCUMENT:
        raise CurationError(f"新期限 {new.due.isoformat()} 离文件日期（{anchor.isoformat()}）超过 "
                            f"{MAX_YEARS_FROM_DOCUMENT} 年，请检查")
    dated = next((n for n, d in enumerate(item.deadlines) if d.due), None)
    deadlines = list(item.deadlines)
    if dated is None:
        deadlines.insert(0, new)
    else:
        deadlines[dated] = new
    item.deadlines, item.progress, item.edited = deadlines, "postponed", True
    with store.transaction():
        store.update_item(item, actor=actor, action="progress")
    return item


def _new_deadline(phrase: str, today: date) -> Deadline:
    phrase = " ".join(phrase.split())[:60]
    if not phrase:
        raise CurationError("请写出新的期限，如 2027年3月31日 或 2027-03-31")
    if m := _FULL_DATE.fullmatch(phrase):
        try:
            due = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise CurationError(f"日期 {phrase} 不存在，请检查") from None
        deadline = Deadline(f"延期至{due.year}年{due.month}月{due.day}日", due)
    else:
        parsed = parse_deadline(phrase, today.year)
        deadline = Deadline(phrase, parsed.due) if parsed and parsed.due else Deadline(phrase)
    if deadline.due is None:
        raise CurationError(f"看不懂新期限“{phrase}”，请写成 2027年3月31日 或 2027-03-31")
    if deadline.due < today:
        raise CurationError(f"新期限 {deadline.due.isoformat()} 早于今天，请检查")
    return deadline


def undo_last(store: KnowledgeStore, *, actor: str) -> UndoResult:
    """Revert this admin's most recent change that is not yet undone: an item's change, or a whole
    import (one transaction, logged)."""
    with store.transaction():
        undone = _undone(store)
        marks = ",".join("?" * len(UNDOABLE))
        rows = store.db.execute(
            f"SELECT id, action, item_id, before FROM changes WHERE actor = ? AND action IN ({marks}) ORDER BY id DESC",
            [actor, *UNDOABLE],
        ).fetchall()
        change = next((r for r in rows if r[0] not in undone), None)
        if change is None:
            raise CurationError("没有可以撤销的修改")
        change_id, action, item_id, before = change
        if action in IMPORTS:
            return _undo_import(store, change_id, actor, undone)
        current = store.get_item(item_id)
        if current is None:
            raise CurationError("要撤销的条目已不存在")
        if action == "add":
            current.status = "deleted"
            restored = current
        else:
            restored = item_from_snapshot(json.loads(before), current)
        store.update_item(restored, actor=actor, action="undo_apply")
        store.log(actor, "undo", item_id=item_id, after={"undid": change_id, "action": action})
    return UndoResult(restored, action)


def _undone(store: KnowledgeStore) -> set[int]:
    return {row[0] for row in store.db.execute(
        "SELECT CAST(json_extract(after, '$.undid') AS INTEGER) FROM changes WHERE action = 'undo'").fetchall()}


def _undo_import(store: KnowledgeStore, change_id: int, actor: str, undone: set[int]) -> UndoResult:
    """Put a document back as it was before an import: its new items removed, the items it changed
    or retired restored, the items it moved back in place, its row as it was (or gone)."""
    action, doc_id, after = store.db.execute("SELECT action, doc_id, after FROM changes WHERE id = ?",
                                             [change_id]).fetchone()
    record = json.loads(after or "{}")
    title = record.get("title", "")
    if "added" not in record or "document_before" not in record:
        raise CurationError(f"导入《{title}》时的记录不完整（较早的版本），无法撤销")
    later = [r for r in store.db.execute(
        "SELECT id, action FROM changes WHERE doc_id = ? AND id > ? AND action NOT IN ('undo', 'undo_apply')",
        [doc_id, change_id]).fetchall() if r[0] not in undone]
    if later:
        raise CurationError(f"导入《{title}》之后这份文件又有修改（共 {len(later)} 处），请先撤销那些修改")
    changed: list[int] = record.get("changed", [])
    befores = _befores(store, doc_id, change_id, changed)
    store.remove_items(record["added"])
    for item_id in changed:
        current, (change, before) = store.get_item(item_id), befores[item_id]
        if current is None:
            raise CurationError(f"导入《{title}》改过的条目 #{item_id} 已不存在，无法撤销")
        store.update_item(item_from_snapshot(before, current), actor=actor, action="undo_apply")
        if change == "update":  # the import replaced its source sentence too
            store.set_source_text(item_id, before["text"])
    for item_id, seq in record.get("moved", {}).items():
        store.set_seq(int(item_id), seq)
    store.restore_document_row(doc_id, record["document_before"])
    store.log(actor, "undo", doc_id=doc_id, after={"undid": change_id, "action": action})
    summary = f"已撤销导入《{title}》：移除 {len(record['added'])} 条"
    if changed:
        summary += f"，恢复 {len(changed)} 条"
    summary += "，文件已删除" if record["document_before"] is None else "，文件恢复为导入前的版本"
    return UndoResult(None, action, summary)


def _befores(store: KnowledgeStore, doc_id: str, change_id: int, item_ids: list[int]) -> dict[int, tuple[str, dict]]:
    """Each item's change by the import (logged just before its entry): its action and the item before."""
    out: dict[int, tuple[str, dict]] = {}
    marks = ",".join("?" * len(IMPORT_ITEM_ACTIONS))
    for item_id in item_ids:
        row = store.db.execute(
            f"SELECT action, before FROM changes WHERE item_id = ? AND doc_id = ? AND id < ? AND action IN ({marks})"
            " ORDER BY id DESC LIMIT 1", [item_id, doc_id, change_id, *IMPORT_ITEM_ACTIONS]).fetchone()
        if row is None or not row[1]:
            raise CurationError(f"找不到条目 #{item_id} 导入前的版本，无法撤销")
        out[item_id] = (row[0], json.loads(row[1]))
    return out
