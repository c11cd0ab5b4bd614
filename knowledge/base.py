"""KnowledgeBase: the one object the faces (CLI, console, bot) use — store, search and import together."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from knowledge.answer import Answer, answer_question
from knowledge.deadlines import deadline_status
from knowledge.formats import SUPPORTED_SUFFIXES
from knowledge.importer import DocumentOverrides, ImportReport, import_path
from knowledge.intents import understand
from knowledge.models import Document, Item
from knowledge.search import Hit, Searcher
from knowledge.seed import ensure_seeded
from knowledge.store import KnowledgeStore


class KnowledgeBase:
    def __init__(self, store: KnowledgeStore) -> None:
        self.store = store
        self.searcher = Searcher(store)

    @classmethod
    def open(cls, path: str, *, seed: bool = True) -> KnowledgeBase:
        store = KnowledgeStore(path)
        if seed:
            ensure_seeded(store)
        return cls(store)

    def close(self) -> None:
        self.store.close()

    def ask(self, question: str, today: date, k: int = 5) -> Answer:
        return answer_question(self.searcher, question, today, k)

    def item_with_document(self, item_id: int) -> tuple[Item, Document | None] | None:
        item = self.store.get_item(item_id)
        if item is None or item.status != "active":
            return None
        return item, self.store.get_document(item.doc_id)

    def upcoming(self, today: date, days: int) -> Answer:
        """Items due from today to `days` ahead, soonest first, as a list answer."""
        ids = self.store.ids_due_between(today, today + timedelta(days=days))
        items = [i for i in self.store.get_items(ids).values() if i.status == "active" and i.progress != "done"]

        def due(item: Item) -> date:
            return min(d.due for d in item.deadlines if d.due and d.due >= today)

        hits = [Hit(i, 1.0) for i in sorted(items, key=lambda i: (due(i), i.id or 0))]
        return self._list_answer(f"{days}天内到期", hits, today)

    def department_items(self, name: str, today: date) -> Answer | None:
        """Items a department leads or supports (alias-aware), leads first; None if it is unknown."""
        question = understand(name, today, self.searcher.known_departments())
        if not question.department_names:
            return None
        ids = [i for i, _ in self.store.ids_by_department(question.department_cores)]
        items = self.store.get_items(ids).values()
        hits = [Hit(i, 1.0) for i in items if i.status == "active"
                and self.searcher.asks_for(question, i.departments.all())]
        hits.sort(key=lambda h: (self.searcher.role_rank(question, h.item), h.item.doc_id,
                                 h.item.seq))
        return self._list_answer(name, hits, today)

    def department_examples(self, n: int = 6) -> list[str]:
        return sorted(self.store.department_names(), key=len)[:n]

    def search_items(self, keywords: str, today: date) -> Answer:
        """Every item matching the keywords well, as a list."""
        result = self.searcher.search(keywords, today)
        hits = result.hits if result.confident else [h for h in result.hits if h.coverage >= 0.5]
        return self._list_answer(keywords, hits, today)

    def _list_answer(self, question: str, hits: list[Hit], today: date) -> Answer:
        docs = {h.item.doc_id: d for h in hits if (d := self.store.get_document(h.item.doc_id))}
        return Answer(question, "list" if hits else "not_found", bool(hits), hits, docs, today)

    def import_paths(self, paths: list[Path], overrides: DocumentOverrides) -> Iterator[tuple[Path, ImportReport | Exception]]:
        """Import files, and the .txt/.md/.html files of directories; each document in its own transaction."""
        for path in paths:
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
                           and p.suffix.lower() in SUPPORTED_SUFFIXES - {""}) if path.is_dir() else [path]
            for file in files:
                try:
                    yield file, import_path(self.store, file, overrides, actor="cli")
                except (ValueError, OSError) as e:
                    yield file, e
        self.store.optimize()
        self.searcher.invalidate()

    def export_rows(self, today: date) -> Iterator[dict]:
        docs: dict[str, Document | None] = {}
        for item in self.store.all_items():
            if item.doc_id not in docs:
                docs[item.doc_id] = self.store.get_document(item.doc_id)
            yield export_row(item, docs[item.doc_id], today)


def export_row(item: Item, doc: Document | None, today: date) -> dict:
    d = item.deadline
    return {
        "id": item.id,
        "text": item.text,
        "kind": item.kind,
        "deadline": d.text if d else "",
        "due": d.due.isoformat() if d and d.due else "",
        "start": d.start.isoformat() if d and d.start else "",
        "end": d.due.isoformat() if d and d.due else "",
        "status": deadline_status(d, today, item.progress == "done") if d else "",
        "deadlines": [x.to_dict() for x in item.deadlines],
        "lead": list(item.departments.lead),
        "support": list(item.departments.support),
        "responsible": list(item.departments.responsible),
        "targets": [t.to_dict() for t in item.targets],
        "region": item.region,
        "section": item.section,
        "progress": item.progress,
        "doc_id": item.doc_id,
        "title": doc.title if doc else "",
        "doc_number": doc.doc_number if doc else "",
        "date": doc.date.isoformat() if doc and doc.date else "",
        "url": doc.url if doc else "",
    }


def rows_to_jsonl(rows: Iterator[dict]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


CSV_COLUMNS = ["id", "text", "kind", "deadline", "due", "start", "end", "status", "lead", "support", "responsible",
               "targets", "region", "section", "progress", "doc_id", "title", "doc_number", "date", "url"]


def rows_to_csv(rows: Iterator[dict]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        flat = {**row, "lead": "、".join(row["lead"]), "support": "、".join(row["support"]),
                "responsible": "、".join(row["responsible"]),
                "targets": "；".join(f"{t['metric']}{t['comparator']}{t['value']}{t['unit']}{t['qualifier']}"
                                    for t in row["targets"])}
        writer.writerow(flat)
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    if buf.getvalue():
        yield buf.getvalue()
