"""The knowledge base on SQLite (sqlite-utils): documents, items, their index and the change log.

How SQLite meets asyncio: this store is synchronous and owns one connection opened with
`check_same_thread=False`; async callers go through `StoreWorker`, which runs every call on one
dedicated worker thread, so calls are serialised and never block the event loop. Every change
runs inside `transaction()` (sqlite-utils `atomic()`), so a failed import or edit leaves nothing
half-written.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from knowledge.departments import department_core
from knowledge.migrations import migrate
from knowledge.models import Deadline, Departments, Document, Item, Target
from knowledge.normalize import bigrams, fts_text, normalize, sound_bigrams

T = TypeVar("T")
# Past this many deadlines in a window, filtered lists walk documents newest first instead of
# starting from the matches (on 100k items the two plans cost about the same, ~5 ms, at 1,000).
WALK_FROM = 1000
INDEX_VERSION = "3"  # bump when what `_index` writes changes; stores rebuild their index on open


def index_context(item: Item, title: str) -> list[str]:
    """What is searched besides the item's own text: where it stands, who, when, which metric."""
    return [item.section, title, *item.departments.all(), *(d.text for d in item.deadlines),
            *(t.metric for t in item.targets)]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class KnowledgeStore:
    def __init__(self, path: str | Path) -> None:
        path = str(path)
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            path = str(Path(path).expanduser())
        self.path = path
        conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self.db = sqlite_utils.Database(conn)
        if path != ":memory:":
            self.db.enable_wal()
        self.db.execute("PRAGMA foreign_keys = ON")
        self.generation = 0  # bumped by every write, for caches of derived figures
        self._token_counts: tuple[int, dict[str, int]] = (-1, {})
        self._documents: dict[str, Document | None] = {}
        applied = migrate(self.db)
        if "004_search_texts_in_index" in applied:
            self.set_setting("index_version", "")
        self._ensure_index()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.db.atomic():
            yield

    # ------------------------------------------------------------------ settings

    def get_setting(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_setting(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        [key, value])

    # ------------------------------------------------------------------ documents

    def get_document(self, doc_id: str) -> Document | None:
        if doc_id not in self._documents:
            rows = list(self.db.query("SELECT * FROM documents WHERE doc_id = ?", [doc_id]))
            self._documents[doc_id] = _document(rows[0]) if rows else None
        return self._documents[doc_id]

    def documents(self) -> list[Document]:
        return [_document(r) for r in self.db.query("SELECT * FROM documents ORDER BY date DESC, doc_id")]

    def document_item_counts(self) -> dict[str, int]:
        """doc id -> how many active items it has (every document, 0 for none)."""
        return {r[0]: int(r[1]) for r in self.db.execute(
            "SELECT doc.doc_id, count(i.id) FROM documents doc LEFT JOIN items i"
            " ON i.doc_id = doc.doc_id AND i.status = 'active' GROUP BY doc.doc_id")}

    def last_change_id(self) -> int:
        """The change log's latest id: every change to an item adds one."""
        return int(self.db.execute("SELECT coalesce(max(id), 0) FROM changes").fetchone()[0])

    def save_document(self, doc: Document) -> None:
        self.generation += 1
        now = _now()
        self.db.execute(
            "INSERT INTO documents (doc_id, source, title, issuer, doc_number, date, region, url, fingerprint,"
            " imported_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(doc_id) DO UPDATE SET source=excluded.source, title=excluded.title,"
            " issuer=excluded.issuer, doc_number=excluded.doc_number, date=excluded.date, region=excluded.region,"
            " url=excluded.url, fingerprint=excluded.fingerprint, updated_at=excluded.updated_at",
            [doc.doc_id, doc.source, doc.title, doc.issuer, doc.doc_number, _iso(doc.date), doc.region, doc.url,
             doc.fingerprint, now, now],
        )
        self._documents.pop(doc.doc_id, None)

    def document_title(self, doc_id: str) -> str:
        doc = self.get_document(doc_id)
        return doc.title if doc else ""

    def get_item(self, item_id: int) -> Item | None:
        rows = list(self.db.query("SELECT * FROM items WHERE id = ?", [item_id]))
        return _item(rows[0]) if rows else None

    def get_items(self, ids: list[int]) -> dict[int, Item]:
        out: dict[int, Item] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.db.query(f"SELECT * FROM items WHERE id IN ({marks})", chunk):
                out[row["id"]] = _item(row)
        return out

    def items_of_document(self, doc_id: str, statuses: tuple[str, ...] = ("active",)) -> list[Item]:
        marks = ",".join("?" * len(statuses))
        rows = self.db.query(
            f"SELECT * FROM items WHERE doc_id = ? AND status IN ({marks}) ORDER BY seq, id", [doc_id, *statuses]
        )
        return [_item(r) for r in rows]

    def items_between(self, doc_id: str, first_seq: int, last_seq: int, *, section: str | None = None,
                      clause: str | None = None) -> list[Item]:
        """A document's active items from one place to another, in document order; only those of
        one section and clause when given."""
        where, params = "doc_id = ? AND seq BETWEEN ? AND ? AND status = 'active'", [doc_id, first_seq, last_seq]
        if section is not None:
            where += " AND section = ?"
            params.append(section)
        if clause is not None:
            where += " AND coalesce(clause, '') = ?"
            params.append(clause)
        return [_item(r) for r in self.db.query(f"SELECT * FROM items WHERE {where} ORDER BY seq, id", params)]

    def all_items(self, statuses: tuple[str, ...] = ("active",)) -> Iterator[Item]:
        marks = ",".join("?" * len(statuses))
        for row in self.db.query(
            f"SELECT items.* FROM items JOIN documents USING (doc_id) WHERE status IN ({marks})"
            " ORDER BY documents.date, doc_id, seq, id",
            list(statuses),
        ):
            yield _item(row)

    def count_items(self, status: str = "active") -> int:
        return self.db.execute("SELECT count(*) FROM items WHERE status = ?", [status]).fetchone()[0]

    def source_text(self, item_id: int) -> str:
        row = self.db.execute("SELECT source_text FROM items WHERE id = ?", [item_id]).fetchone()
        return row[0] if row else ""

    # ------------------------------------------------------------------ items: writes (call inside transaction())

    def insert_item(self, item: Item, *, actor: str, action: str = "add") -> int:
        now = _now()
        cur = self.db.execute(
            "INSERT INTO items (doc_id, seq, text, source_text, kind, section, region, deadlines, lead, support,"
            " targets, clause, status, progress, edited, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [item.doc_id, item.seq, item.text, item.text, *_item_fields(item), item.status, item.progress,
             int(item.edited), now, now],
        )
        item_id = int(cur.lastrowid or 0)
        item.id = item_id
        self._index(item, fresh=True)
        if action != "import":  # an imported item's origin is its document's import entry
            self.log(actor, action, item_id=item_id, doc_id=item.doc_id, after=_snapshot(item))
        return item_id

    def update_item(self, item: Item, *, actor: str, action: str, source_text: str | None = None) -> None:
        """Replace an item's content; the previous version goes to the change log."""
        assert item.id is not None
        before = self.get_item(item.id)
        sets = "seq=?, text=?, kind=?, section=?, region=?, deadlines=?, lead=?, support=?, targets=?, clause=?," \
               " status=?, progress=?, edited=?, updated_at=?"
        params: list[Any] = [item.seq, item.text, *_item_fields(item), item.status, item.progress, int(item.edited),
                             _now()]
        if source_text is not None:
            sets += ", source_text=?"
            params.append(source_text)
        self.db.execute(f"UPDATE items SET {sets} WHERE id = ?", [*params, item.id])
        self._index(item)
        self.log(actor, action, item_id=item.id, doc_id=item.doc_id,
                 before=_snapshot(before) if before else None, after=_snapshot(item))

    def set_seq(self, item_id: int, seq: int) -> None:
        self.db.execute("UPDATE items SET seq = ? WHERE id = ?", [seq, item_id])

    def log(self, actor: str, action: str, *, item_id: int | None = None, doc_id: str = "",
            before: dict | None = None, after: dict | None = None) -> None:
        self.db.execute(
            "INSERT INTO changes (at, actor, action, item_id, doc_id, before, after) VALUES (?,?,?,?,?,?,?)",
            [_now(), actor, action, item_id, doc_id, _json(before), _json(after)],
        )

    def history(self, item_id: int) -> list[dict]:
        rows = self.db.query("SELECT * FROM changes WHERE item_id = ? ORDER BY id", [item_id])
        return [{**r, "before": _loads(r["before"]), "after": _loads(r["after"])} for r in rows]

    # ------------------------------------------------------------------ questions asked in chats

    def log_question(self, question: str, chat_type: str, confident: bool, top_item: int | None) -> None:
        self.db.execute(
            "INSERT INTO questions (at, chat_type, question, confident, top_item) VALUES (?,?,?,?,?)",
            [_now(), chat_type, question[:500], int(confident), top_item],
        )

    def question_text(self, question_id: int) -> str | None:
        row = self.db.execute("SELECT question FROM questions WHERE id = ?", [question_id]).fetchone()
        return row[0] if row else None

    def unanswered_questions(self, limit: int = 10) -> list[tuple[int, str, int]]:
        """(an id, question, times asked) of the most frequent questions with no confident answer."""
        rows = self.db.execute(
            "SELECT max(id), question, count(*) AS n FROM questions WHERE confident = 0"
            " GROUP BY question ORDER BY n DESC, max(id) DESC LIMIT ?", [limit]
        ).fetchall()
        return [(int(r[0]), r[1], int(r[2])) for r in rows]

    def stats(self) -> dict[str, int]:
        one = lambda sql: int(self.db.execute(sql).fetchone()[0])  # noqa: E731
        return {
            "documents": one("SELECT count(*) FROM documents"),
            "items": one("SELECT count(*) FROM items WHERE status = 'active'"),
            "deleted": one("SELECT count(*) FROM items WHERE status = 'deleted'"),
            "questions": one("SELECT count(*) FROM questions"),
            "unanswered": one("SELECT count(*) FROM questions WHERE confident = 0"),
            "changes": one("SELECT count(*) FROM changes WHERE actor LIKE 'admin:%'"),
        }

    # ------------------------------------------------------------------ index

    def _ensure_index(self) -> None:
        """Rebuild the search index when this code indexes differently from the code that built it."""
        if self.get_setting("index_version") == INDEX_VERSION:
            return
        with self.transaction():
            for item in self.all_items(("active",)):
                self._index(item)
            self.set_setting("index_version", INDEX_VERSION)
        self.generation += 1

    def _index(self, item: Item, fresh: bool = False) -> None:
        assert item.id is not None
        if not fresh:
            self.db.execute("DELETE FROM items_fts WHERE rowid = ?", [item.id])
            self.db.execute("DELETE FROM item_departments WHERE item_id = ?", [item.id])
            self.db.execute("DELETE FROM item_deadlines WHERE item_id = ?", [item.id])
        if item.status != "active":
            return
        self.generation += 1
        text = normalize(item.text)
        meta = normalize(" ".join(index_context(item, self.document_title(item.doc_id))))
        self.db.execute(
            "INSERT INTO items_fts (rowid, body, meta, sound, norm_text, norm_context) VALUES (?,?,?,?,?,?)",
            [item.id, fts_text(bigrams(text)), fts_text(bigrams(meta)), fts_text(sound_bigrams(text)), text, meta],
        )
        departments = [(item.id, name, department_core(name), role)
                       for role, names in (("lead", item.departments.lead), ("support", item.departments.support))
                       for name in names]
        if departments:
            self.db.conn.executemany(
                "INSERT INTO item_departments (item_id, name, core, role) VALUES (?,?,?,?)", departments)
        if item.deadlines:
            self.db.conn.executemany(
                "INSERT INTO item_deadlines (item_id, text, due, start, ongoing) VALUES (?,?,?,?,?)",
                [(item.id, d.text, _iso(d.due), _iso(d.start), int(d.ongoing)) for d in item.deadlines])

    def fts_candidates(self, match: str, limit: int,
                       weights: tuple[float, float, float]) -> list[tuple[int, float, str, str]]:
        """(item id, bm25 score — higher is better —, normalised text, normalised context) for an
        FTS5 MATCH expression, best first."""
        if not match:
            return []
        w = ", ".join(str(x) for x in weights) + ", 0, 0"
        rows = self.db.execute(
            f"SELECT rowid, -bm25(items_fts, {w}), norm_text, norm_context FROM items_fts WHERE items_fts MATCH ?"
            f" ORDER BY bm25(items_fts, {w}) LIMIT ?",
            [match, limit],
        ).fetchall()
        return [(int(r[0]), float(r[1]), r[2], r[3]) for r in rows]

    def filter_items(self, *, exact_departments: Collection[str] = (), department_cores: Collection[str] = (),
                     role: str | None = None, deadline_phrase: str = "", due_from: date | None = None,
                     due_to: date | None = None, regions: Collection[str] = (),
                     doc_ids: Collection[str] | None = None, limit: int = 300, started_by: date | None = None,
                     unfinished: bool = False, soonest_first: bool = False) -> tuple[list[int], bool]:
        """Active items that pass every given filter, newest document first then in document order
        (at most `limit` ids), and whether more pass. `doc_ids` (when not None) keeps those documents'.
        `started_by` keeps ongoing work and periods begun by then (进行中), `unfinished` leaves out items
        marked done; `soonest_first` orders by the earliest matching due date instead (a window).
        Nothing counts every match: a deadline filter alone can match tens of thousands."""
        if soonest_first and (due_from or due_to):
            return self._soonest(exact_departments, department_cores, role, deadline_phrase, due_from, due_to,
                                 regions, doc_ids, limit, started_by, unfinished)
        where: list[str] = ["i.status = 'active'"]
        params: list[Any] = []
        if unfinished:
            where.append("coalesce(i.progress, '') != 'done'")
        if exact_departments or department_cores:
            # driven by the indexes on (name, role) and (core, role), not by a scan of every item
            role_sql = " AND role = ?" if role else ""
            parts = []
            for column, values in (("name", exact_departments), ("core", department_cores)):
                if values:
                    parts.append(f"SELECT item_id FROM item_departments WHERE {column} IN "
                                 f"({','.join('?' * len(values))}){role_sql}")
                    params += [*values, *([role] if role else [])]
            where.append(f"i.id IN ({' UNION '.join(parts)})")
        # A deadline filter (with or without a region) can match thousands: then walk the documents
        # newest first (index on their date), look up each item's deadlines and stop once the page is
        # full. Departments, documents and narrow deadline windows select few: start from the matches.
        walk = not (exact_departments or department_cores or doc_ids is not None) \
            and bool(deadline_phrase or due_from or due_to) and self._many_due(deadline_phrase, due_from, due_to)
        if deadline_phrase or due_from or due_to:
            conditions = []
            for condition, value in (("instr(d.text, ?) > 0", deadline_phrase), ("d.due >= ?", due_from),
                                     ("d.due <= ?", due_to), ("(d.ongoing OR coalesce(d.start, '9') <= ?)", started_by)):
                if value:
                    conditions.append(condition)
                    params.append(value if isinstance(value, str) else value.isoformat())
            matching = " AND ".join(conditions)
            where.append(f"EXISTS (SELECT 1 FROM item_deadlines d WHERE d.item_id = i.id AND {matching})" if walk
                         else f"i.id IN (SELECT d.item_id FROM item_deadlines d WHERE {matching})")
        if regions:
            marks = ",".join("?" * len(regions))
            where.append(f"doc.region IN ({marks}) AND i.region IN ({marks})" if walk else f"i.region IN ({marks})")
            params += [*regions, *regions] if walk else list(regions)
        if doc_ids is not None:
            where.append(f"i.doc_id IN ({','.join('?' * len(doc_ids))})")
            params += list(doc_ids)
        join = "documents doc CROSS JOIN items i ON i.doc_id = doc.doc_id" if walk else \
            "items i JOIN documents doc USING (doc_id)"
        rows = self.db.execute(
            f"SELECT i.id FROM {join} WHERE {' AND '.join(where)} ORDER BY doc.date DESC, i.seq, i.id LIMIT ?",
            [*params, limit + 1]).fetchall()
        return [int(r[0]) for r in rows[:limit]], len(rows) > limit

    def _soonest(self, exact_departments: Collection[str], department_cores: Collection[str], role: str | None,
                 deadline_phrase: str, due_from: date | None, due_to: date | None, regions: Collection[str],
                 doc_ids: Collection[str] | None, limit: int, started_by: date | None,
                 unfinished: bool) -> tuple[list[int], bool]:
        """filter_items for a window, soonest due first (on a tie, dated work before ongoing work):
        walked along the index on due dates, so a wide window stops once the page is full."""
        where = ["d.due BETWEEN ? AND ?", "i.status = 'active'"]
        params: list[Any] = [(due_from or date.min).isoformat(), (due_to or date.max).isoformat()]
        for condition, value in (("instr(d.text, ?) > 0", deadline_phrase),
                                 ("(d.ongoing OR coalesce(d.start, '9') <= ?)", started_by and started_by.isoformat())):
            if value:
                where.append(condition)
                params.append(value)
        if unfinished:
            where.append("coalesce(i.progress, '') != 'done'")
        role_sql = " AND role = ?" if role else ""
        for column, values in (("name", exact_departments), ("core", department_cores)):
            if values:
                where.append(f"i.id IN (SELECT item_id FROM item_departments WHERE {column} IN "
                             f"({','.join('?' * len(values))}){role_sql})")
                params += [*values, *([role] if role else [])]
        for column, values in (("i.region", regions), ("i.doc_id", doc_ids)):
            if values is not None and (values or column == "i.doc_id"):
                where.append(f"{column} IN ({','.join('?' * len(values))})")
                params += list(values)
        fetch = 3 * (limit + 1)  # an item has a few deadlines: enough rows for `limit` items and one more
        rows = self.db.execute(f"SELECT d.item_id, d.due, d.ongoing FROM item_deadlines d JOIN items i ON i.id = d.item_id"
                               f" WHERE {' AND '.join(where)} ORDER BY d.due LIMIT ?", [*params, fetch]).fetchall()
        first: dict[int, tuple[str, int, int]] = {}
        for n, (item_id, due, ongoing) in enumerate(rows):
            first.setdefault(int(item_id), (due, int(bool(ongoing)), n))
        ids = sorted(first, key=first.__getitem__)
        return ids[:limit], len(ids) > limit or len(rows) == fetch

    def _many_due(self, phrase: str, due_from: date | None, due_to: date | None) -> bool:
        """Whether at least WALK_FROM deadlines say `phrase` and fall in the window: a count that stops
        there (index-only for a window; a phrase is looked for in each deadline's text)."""
        conditions, params = [], []
        if due_from or due_to:
            conditions.append("due BETWEEN ? AND ?")
            params += [(due_from or date.min).isoformat(), (due_to or date.max).isoformat()]
        if phrase:
            conditions.append("instr(text, ?) > 0")
            params.append(phrase)
        row = self.db.execute(f"SELECT count(*) FROM (SELECT 1 FROM item_deadlines WHERE {' AND '.join(conditions)}"
                              " LIMIT ?)", [*params, WALK_FROM]).fetchone()
        return int(row[0]) >= WALK_FROM

    def optimize(self) -> None:
        """Refresh the query planner's statistics after a bulk change (cheap when nothing changed)."""
        self.db.execute("PRAGMA optimize")

    def token_document_counts(self, tokens: list[str]) -> dict[str, int]:
        """How many items each token occurs in (any column), for choosing selective tokens.
        Counts are remembered until the next write."""
        if self._token_counts[0] != self.generation:
            self._token_counts = (self.generation, {})
        cache = self._token_counts[1]
        missing = [t for t in dict.fromkeys(tokens) if t not in cache]
        if missing:
            if "items_fts_vocab" not in self.db.table_names():
                self.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS items_fts_vocab USING fts5vocab(items_fts, 'row')")
            marks = ",".join("?" * len(missing))
            found = dict(self.db.execute(f"SELECT term, doc FROM items_fts_vocab WHERE term IN ({marks})",
                                         missing).fetchall())
            for t in missing:
                cache[t] = int(found.get(t, 0))
        return {t: cache[t] for t in tokens if cache.get(t)}

    def ids_by_department(self, cores: set[str], role: str | None = None) -> list[tuple[int, str]]:
        if not cores:
            return []
        marks = ",".join("?" * len(cores))
        sql = f"SELECT item_id, role FROM item_departments WHERE core IN ({marks})"
        params: list[Any] = list(cores)
        if role:
            sql += " AND role = ?"
            params.append(role)
        return [(int(r[0]), r[1]) for r in self.db.execute(sql, params).fetchall()]

    def department_names(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT name FROM item_departments").fetchall()]

    def ids_due_between(self, start: date, end: date) -> list[int]:
        rows = self.db.execute(
            "SELECT DISTINCT item_id FROM item_deadlines WHERE due BETWEEN ? AND ?", [start.isoformat(), end.isoformat()]
        ).fetchall()
        return [int(r[0]) for r in rows]


class StoreWorker:
    """Runs knowledge-base calls for asyncio code on one dedicated thread, one at a time, in order.

    SQLite work never blocks the event loop and is never concurrent on the shared connection.
    """

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb")

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A change; today on the same thread as reads."""
        return await self.run(fn, *args, **kwargs)

    async def offload(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """CPU-heavy pure work (parsing an uploaded document), off the event loop and off the store's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: fn(*args, **kwargs))

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)


# ---------------------------------------------------------------------- row <-> model


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _json(obj: Any) -> str | None:
    return None if obj is None else json.dumps(obj, ensure_ascii=False)


def _loads(s: str | None) -> Any:
    return json.loads(s) if s else None


def _item_fields(item: Item) -> list[Any]:
    return [
        item.kind, item.section, item.region,
        _json([d.to_dict() for d in item.deadlines]),
        _json(list(item.departments.lead)), _json(list(item.departments.support)),
        _json([t.to_dict() for t in item.targets]), item.clause,
    ]


def _snapshot(item: Item) -> dict:
    return {
        "text": item.text, "kind": item.kind, "section": item.section, "region": item.region,
        "deadlines": [d.to_dict() for d in item.deadlines], "lead": list(item.departments.lead),
        "support": list(item.departments.support), "targets": [t.to_dict() for t in item.targets],
        "clause": item.clause, "status": item.status, "progress": item.progress, "edited": item.edited,
    }


def item_from_snapshot(snapshot: dict, base: Item) -> Item:
    """The item as it was in a change-log snapshot (for undo)."""
    return Item(
        text=snapshot["text"], kind=snapshot["kind"], section=snapshot["section"], region=snapshot["region"],
        deadlines=[Deadline.from_dict(d) for d in snapshot["deadlines"]],
        departments=Departments(tuple(snapshot["lead"]), tuple(snapshot["support"])),
        targets=[Target.from_dict(t) for t in snapshot["targets"]], clause=snapshot["clause"],
        doc_id=base.doc_id, seq=base.seq, id=base.id, status=snapshot["status"],
        progress=snapshot.get("progress", ""), edited=snapshot.get("edited", base.edited),
    )


def _item(row: dict) -> Item:
    return Item(
        id=row["id"], doc_id=row["doc_id"], seq=row["seq"], text=row["text"], kind=row["kind"],
        section=row["section"] or "", region=row["region"] or "国家",
        deadlines=[Deadline.from_dict(d) for d in _loads(row["deadlines"]) or []],
        departments=Departments(tuple(_loads(row["lead"]) or ()), tuple(_loads(row["support"]) or ())),
        targets=[Target.from_dict(t) for t in _loads(row["targets"]) or []],
        clause=row["clause"] or "", status=row["status"], progress=row["progress"] or "",
        edited=bool(row["edited"]),
    )


def _document(row: dict) -> Document:
    return Document(
        doc_id=row["doc_id"], source=row["source"], title=row["title"], issuer=row["issuer"] or "",
        doc_number=row["doc_number"] or "", date=date.fromisoformat(row["date"]) if row["date"] else None,
        region=row["region"] or "国家", url=row["url"] or "", fingerprint=row["fingerprint"] or "",
    )
