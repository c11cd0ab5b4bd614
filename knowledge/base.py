"""KnowledgeBase: the one object the faces (CLI, console, bot) use — store, search and import together."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from knowledge.answer import Answer, answer_question
from knowledge.deadlines import deadline_status
from knowledge.intents import understand
from knowledge.models import Document, Item
from knowledge.search import Hit, Searcher
from knowledge.seed import ensure_seeded
from knowledge.store import KnowledgeStore

# An import ends by merging the search index's segments for up to this share of its own time (at least
# a second; a later import goes on where it stopped): a whole 1M-item base merges in about 15 s.
MERGE_SHARE = 0.2


def merge_seconds(import_seconds: float) -> float:
    """How long an import that took `import_seconds` may spend merging the index afterwards."""
    return max(1.0, MERGE_SHARE * import_seconds)

if TYPE_CHECKING:  # importing documents is loaded when documents are imported, not at every start
    from concurrent.futures import Future

    from knowledge.importer import DocumentOverrides, ImportReport


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
        self.store.refresh()
        item = self.store.get_item(item_id)
        if item is None or item.status != "active":
            return None
        return item, self.store.get_document(item.doc_id)

    def upcoming(self, today: date, days: int) -> Answer:
        """Items due from today to `days` ahead, soonest first, as a list answer."""
        self.store.refresh()
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
        docs = self.store.get_documents([h.item.doc_id for h in hits])
        return Answer(question, "list" if hits else "not_found", bool(hits), hits, docs, today)

    def import_paths(self, paths: list[Path], overrides: DocumentOverrides
                     ) -> Iterator[tuple[Path, ImportReport | SkippedFile | Exception]]:
        """Import files, and the supported files of directories; each document atomic (several to a
        transaction, each in a savepoint of its own: `importer.write_batches`).
        A directory's other files are reported as skipped with the reason (hidden ones are passed over)."""
        from knowledge.formats import SUPPORTED_SUFFIXES
        from knowledge.importer import WRITE_AHEAD, apply_import, prepare_indexed, prepare_path, prepared, write_batches

        started = time.monotonic()
        files = [(file, SkippedFile(unsupported_reason(file))
                  if file.suffix.lower() not in SUPPORTED_SUFFIXES - {""} and path.is_dir() else None)
                 for path in paths for file in _files(path)]
        # many files: the next ones read and extracted in a worker process while these are written
        extracted = prepared(prepare_indexed, [(prepare_path, file, overrides) for file, skipped in files
                                               if skipped is None], in_flight=WRITE_AHEAD)
        jobs = ((file, skipped or next(extracted)) for file, skipped in files)

        def write(job: tuple[Path, SkippedFile | Future]) -> tuple[Path, ImportReport | SkippedFile | Exception]:
            file, outcome = job
            if isinstance(outcome, SkippedFile):
                return file, outcome
            try:
                document, items, ahead = outcome.result()
                return file, apply_import(self.store, document, items, actor="cli", ahead=ahead)
            except (ValueError, OSError) as e:
                return file, e

        yield from write_batches(self.store, jobs, write)
        self.store.optimize(merge_seconds(time.monotonic() - started))
        self.searcher.invalidate()

    def export_rows(self, today: date) -> Iterator[dict]:
        docs: dict[str, Document | None] = {}
        for item in self.store.all_items():
            if item.doc_id not in docs:
                docs[item.doc_id] = self.store.get_document(item.doc_id)
            yield export_row(item, docs[item.doc_id], today)


@dataclass(frozen=True)
class SkippedFile:
    """A file in an imported directory that was not imported, and why."""

    reason: str


def unsupported_reason(file: Path) -> str:
    suffix = file.suffix.lower()
    if suffix in (".doc", ".wps"):
        return f"不支持 {suffix} 格式：请另存为 .docx 或 PDF 再导入"
    return f"不支持的文件类型 {suffix or '（无扩展名）'}（支持 .txt .md .html .docx .pdf）"


def _files(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(path).parts))


# Department roles exported, one column each; a new role of `Departments` is one more name here.
DEPARTMENT_ROLES = ("lead", "support", "responsible")


def export_row(item: Item, doc: Document | None, today: date) -> dict:
    d = item.deadline
    done = item.progress == "done"
    return {
        "id": item.id,
        "text": item.text,
        "kind": item.kind,
        "deadline": d.text if d else "",
        "due": d.due.isoformat() if d and d.due else "",
        "start": d.start.isoformat() if d and d.start else "",
        "end": d.due.isoformat() if d and d.due else "",
        "status": deadline_status(d, today, done) if d else "",
        "deadlines": [{**x.to_dict(), "status": deadline_status(x, today, done)} for x in item.deadlines],
        **{role: list(getattr(item.departments, role, ())) for role in DEPARTMENT_ROLES},
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


def rows_to_jsonl(rows: Iterable[dict]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


# (row key, column header) of the CSV and xlsx exports, in order. Headers are what an office reads in Excel.
ROLE_HEADERS = {"lead": "牵头部门", "support": "配合部门", "responsible": "负责部门"}
CSV_COLUMNS = [("id", "编号"), ("text", "条目"), ("kind", "类型"), ("deadlines", "期限（全部）"),
               ("due", "截止日期"), ("status", "状态"),
               *((role, ROLE_HEADERS.get(role, role)) for role in DEPARTMENT_ROLES),
               ("targets", "目标"), ("region", "地区"), ("section", "章节"), ("progress", "进展"),
               ("doc_id", "文件编号"), ("title", "文件标题"), ("doc_number", "文号"), ("date", "成文日期"),
               ("url", "网址")]
UTF8_BOM = "\ufeff"
KIND_NAMES = {"task": "任务", "target": "目标", "statement": "表述"}
PROGRESS_NAMES = {"done": "已完成", "postponed": "已延期"}


def deadline_cell(deadline: dict) -> str:
    """6月底前出台相关政策（2021-06-30，已过期）; a period shows its start too."""
    dates = "至".join(x for x in (deadline.get("start"), deadline.get("due")) if x)
    detail = "，".join(x for x in (dates, deadline.get("status", "")) if x)
    return deadline["text"] + (f"（{detail}）" if detail else "")


def flat_row(row: dict) -> list[str | int]:
    """An export row as spreadsheet cells: lists joined into one cell each, every deadline kept."""
    cells = {
        **row,
        "kind": KIND_NAMES.get(row["kind"], row["kind"]),
        "progress": PROGRESS_NAMES.get(row["progress"], row["progress"]),
        "deadlines": "；".join(deadline_cell(d) for d in row["deadlines"]),
        "due": "；".join(d["due"] for d in row["deadlines"] if d.get("due")),
        "targets": "；".join(f"{t['metric']}{t['comparator']}{t['value']}{t['unit']}{t['qualifier']}"
                            for t in row["targets"]),
        **{role: "、".join(row.get(role, ())) for role in DEPARTMENT_ROLES},
    }
    return ["" if cells.get(key) is None else cells[key] for key, _ in CSV_COLUMNS]


def rows_to_csv(rows: Iterable[dict]) -> Iterator[str]:
    """CSV that Excel opens as UTF-8 (it needs the byte-order mark), one line per item."""
    import csv  # (only to export)

    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write(UTF8_BOM)
    writer.writerow([header for _, header in CSV_COLUMNS])
    for row in rows:
        writer.writerow(flat_row(row))
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    if buf.getvalue():
        yield buf.getvalue()


def write_xlsx(rows: Iterable[dict], target: BinaryIO) -> int:
    """An Excel workbook, one row per item under a frozen header row; returns the number of items."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet("条目")
    sheet.freeze_panes = "A2"
    widths = {"text": 60, "deadlines": 40, "title": 40, "section": 30}
    for n, (key, _) in enumerate(CSV_COLUMNS):
        sheet.column_dimensions[get_column_letter(n + 1)].width = widths.get(key, 14)
    header = []
    for _, title in CSV_COLUMNS:
        cell = WriteOnlyCell(sheet, title)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append([_text_cell(sheet, v) if isinstance(v, str) else v for v in flat_row(row)])
        count += 1
    book.save(target)
    return count


def _text_cell(sheet: Any, value: str) -> Any:
    """A cell that stays text (a leading "=" is no formula) without the control characters xlsx forbids."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    return cell
