"""The knowledge base on SQLite (sqlite-utils): documents, items, their index and the change log.

How SQLite meets asyncio, and other processes: the store is synchronous; each thread that uses it
gets its own connection to the same WAL database (`store.db` hands every thread its own), so reads
never wait behind a write. Async callers go through `StoreWorker`: reads on a few reader threads,
writes on one writer thread, CPU-heavy parsing in a worker process. Every change runs inside
`transaction()`, which takes the write lock up front (`BEGIN IMMEDIATE`) and waits for it within
the busy timeout, so a writer beside another process (`policybot import` while the bot runs) waits
instead of failing with "database is locked", and a failed import or edit leaves nothing half-written.
A counter the database bumps on every change to documents or items (migration 008) tells each read
whether caches built earlier are still right, whichever process wrote.
"""

from __future__ import annotations

import functools
import json
import math
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from knowledge.database import Database, prepare
from knowledge.departments import department_core
from knowledge.migrations import migrate
from knowledge.models import Deadline, Departments, Document, Item, Target
from knowledge.normalize import bigrams, normalize, sound_bigrams
from knowledge.postings import Marks, RowPostings, best, segments, token_counts

if TYPE_CHECKING:  # asyncio and the pools are imported by the StoreWorker, not by every command that reads
    from concurrent.futures import Executor, ProcessPoolExecutor

T = TypeVar("T")
# Filtered lists whose every filter matches at least this many rows walk the documents newest first
# instead of starting from the matches (see filter_items).
WALK_FROM = 1000
PHRASE_TEXTS_LOOKED_UP = 500  # a deadline phrase in more distinct texts than this is tested on every row
INDEX_VERSION = "4"  # bump when what `_index` writes changes; stores rebuild their index on open
BUSY_TIMEOUT_SECONDS = 30  # how long a writer waits for another's write lock before giving up
READ_THREADS = 3  # StoreWorker's reader threads, each with its own connection
WAL_CHECKPOINT_PAGES = 10_000
# Each connection's page cache, at most (SQLite's default is 2 MB): on a base of a million items a
# question reads postings, item rows and the indexes' inner pages — with them cached, far fewer pages
# from the OS. A small base never fills it.
PAGE_CACHE_KIB = 65_536
# Merging the postings' segments after a bulk change: this many tokens in a transaction of its own
# (a few tenths of a second at most), so that other writers wait no longer than that.
MERGE_TERMS = 200
REBUILD_BATCH = 1000  # a rebuild of the index writes a segment of postings per this many items


# An item's index row: its normalised text and context, its postings and its length in tokens
IndexRow = tuple[str, str, RowPostings, int]


def index_context(item: Item, title: str) -> list[str]:
    """What is searched besides the item's own text: where it stands, who, when, which metric."""
    return [item.section, title, *item.departments.all(), *(d.text for d in item.deadlines),
            *(t.metric for t in item.targets)]


def search_postings(text: str, context: str, context_counts: Counter[str] | None = None) -> tuple[RowPostings, int]:
    """A normalised text's and context's postings — the text's bigrams (body), the context's (meta)
    and the text's sounds (sound), counted — and their length in tokens."""
    if context_counts is None:
        context_counts = token_counts(bigrams(context))
    postings = RowPostings(token_counts(bigrams(text)), context_counts, token_counts(sound_bigrams(text)))
    return postings, postings.length()


class IndexRows:
    """Items' index rows by their text and context (`IndexRow`). Items often share a context (their
    neighbours'): it is normalised, and its tokens counted, once. An import computes a document's
    rows ahead in its worker process (`index_rows`), so that the writer only looks them up; a row
    not found is computed when needed."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], IndexRow] = {}
        self._contexts: dict[str, tuple[str, Counter[str]]] = {}

    def row(self, raw_text: str, raw_context: str) -> IndexRow:
        if (row := self.rows.get((raw_text, raw_context))) is None:
            if (context := self._contexts.get(raw_context)) is None:
                meta = normalize(raw_context)
                context = self._contexts[raw_context] = (meta, token_counts(bigrams(meta)))
            text = normalize(raw_text)
            row = self.rows[raw_text, raw_context] = (text, context[0], *search_postings(text, context[0], context[1]))
        return row

    def __getstate__(self) -> dict:  # (sent between processes without the contexts: the rows hold them)
        return {"rows": self.rows}

    def __setstate__(self, state: dict) -> None:
        self.rows, self._contexts = state["rows"], {}


def index_rows(items: list[Item], title: str) -> IndexRows:
    """The index rows of a document's items (titled `title`), computed before they are written."""
    rows = IndexRows()
    for item in items:
        rows.row(item.text, " ".join(index_context(item, title)))
    return rows


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _ThreadDatabase:
    """The store's database as seen from the calling thread: that thread's own connection.

    Holders of `store.db` (the reminder store) use the right connection on any thread, and their
    `atomic()` takes the write lock up front like the store's own transactions."""

    def __init__(self, store: KnowledgeStore) -> None:
        self._store = store

    def atomic(self) -> AbstractContextManager[None]:
        return self._store.transaction()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store._database(), name)

    def __getitem__(self, table: str) -> Any:
        return self._store._database()[table]


class KnowledgeStore:
    def __init__(self, path: str | Path) -> None:
        path = str(path)
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            path = str(Path(path).expanduser())
        self.path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._shared: Database | None = None  # ":memory:" has one connection (not for concurrent use)
        self.db: Any = _ThreadDatabase(self)
        if path != ":memory:":
            self.db.enable_wal()
        self.generation = -1  # the database's change counter as last read by `refresh()`
        self._token_counts: tuple[int, dict[str, int]] = (-1, {})
        self._postings: tuple[int, int, float, Marks] = (-1, 1, 1.0, Marks({}))
        self._deadline_texts: tuple[int, list[str], dict[str, list[str] | None]] = (-1, [], {})
        self._documents: dict[str, Document | None] = {}
        applied = migrate(self.db)  # (its atomic() takes the write lock up front)
        if "004_search_texts_in_index" in applied:
            self.set_setting("index_version", "")
        self._ensure_index()
        self.refresh()

    def _database(self) -> Database:
        """This thread's connection, opened on first use."""
        db = getattr(self._local, "db", None)
        if db is None:
            if self.path == ":memory:" and self._shared is not None:
                return self._shared
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=BUSY_TIMEOUT_SECONDS)
            conn.execute("PRAGMA foreign_keys = ON")
            # Under WAL, NORMAL syncs at checkpoints instead of at every commit: the database stays
            # sound after a power cut, which may only lose the last commits. Checkpoints every 10,000
            # pages (40 MB of log) rather than 1,000: a page an import changes in document after
            # document (an index's) is copied back once, not at every few documents.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
            conn.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
            db = Database(prepare(conn))  # sqlite-utils' interface, loaded when a write needs it
            with self._lock:
                self._connections.append(conn)
            if self.path == ":memory:":
                self._shared = db
            self._local.db = db
        return db

    def close(self) -> None:
        """Close every thread's connection (call when no thread uses the store any more)."""
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()
        self._shared = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One change: the write lock taken up front (waiting within the busy timeout), committed
        at the end or rolled back on any error. Nested calls are savepoints of the outer one. The
        postings of what it indexes are written once, at its end (`_save_index_log`)."""
        db = self._database()
        if db.conn.in_transaction:
            logged = getattr(self._local, "index_log", None)
            mark = len(logged) if logged is not None else 0
            try:
                with db.atomic():
                    yield
            except BaseException:  # the savepoint's index changes are undone
                if logged is not None:
                    del logged[mark:]
                if (titles := getattr(self._local, "titles", None)) is not None:
                    titles.clear()
                raise
            return
        db.conn.execute("BEGIN IMMEDIATE")
        self._local.titles = {}  # documents' titles as this write sees them, for indexing its items
        self._local.index_log = []  # (+1 or -1, item id, postings, length) of each item this write (un)indexed
        try:
            yield
            self._save_index_log()
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
        finally:
            self._local.titles = None
            self._local.index_log = None
        try:
            db.conn.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise

    @contextmanager
    def lock_wait(self, seconds: float) -> Iterator[None]:
        """Writes on this thread's connection wait at most this long for another's write lock
        (then raise "database is locked"), instead of BUSY_TIMEOUT_SECONDS."""
        conn = self._database().conn
        conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Settings for a long run of writes on this thread's connection (a multi-document import),
        put back afterwards: savepoints' journals in memory rather than in a temporary file (each
        document is a savepoint). Call outside a transaction. (Measured and left alone: a
        larger page cache — the OS caches the file anyway — and rarer checkpoints, which made
        each commit slower once the log was hundreds of MB.)"""
        conn = self._database().conn
        if conn.in_transaction:  # (temp_store cannot change inside one)
            yield
            return
        temp_store = conn.execute("PRAGMA temp_store").fetchone()[0]
        # (changing it drops the connection's temporary tables and triggers: then it stays)
        keep_temp_store = conn.execute("SELECT count(*) FROM sqlite_temp_master").fetchone()[0] > 0
        if not keep_temp_store:
            conn.execute("PRAGMA temp_store = MEMORY")
        try:
            yield
        finally:
            if not keep_temp_store and not conn.in_transaction:
                conn.execute(f"PRAGMA temp_store = {int(temp_store)}")

    def refresh(self) -> bool:
        """Notice changes committed since the last look (by this process or another) and forget
        what was derived from the old state; True if there were any. Call at the start of a read.
        Inside a write in progress nothing is learned: what it sees may yet be rolled back."""
        if self._in_transaction():
            return False
        row = self.db.execute("SELECT n FROM knowledge_generation WHERE id = 1").fetchone()
        current = int(row[0]) if row else 0
        if current == self.generation:
            return False
        self._documents = {}
        self.generation = current
        return True

    def _rows(self, sql: str, params: list[Any]) -> list[dict]:
        """Rows as dicts, like `db.query` but with no savepoint around the statement: an import
        looks documents up several times per write."""
        cursor = self.db.execute(sql, params)
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def _in_transaction(self) -> bool:
        return bool(self._database().conn.in_transaction)

    # ------------------------------------------------------------------ settings

    def get_setting(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_setting(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        [key, value])

    # ------------------------------------------------------------------ documents

    def get_document(self, doc_id: str) -> Document | None:
        return self.get_documents([doc_id]).get(doc_id)

    def get_documents(self, doc_ids: Collection[str]) -> dict[str, Document]:
        """Documents by id (those that exist), the ones not remembered read at once; remembered until
        the next `refresh()` that sees a change (but never what a write in progress sees: it may yet
        be rolled back)."""
        cache = self._documents  # taken before reading: a refresh meanwhile replaces it
        known = {d: cache.get(d) for d in doc_ids}
        if missing := [d for d in known if d not in cache]:
            found = {r["doc_id"]: _document(r) for r in self._rows(
                f"SELECT * FROM documents WHERE doc_id IN ({','.join('?' * len(missing))})", missing)}
            known.update({d: found.get(d) for d in missing})
            if not self._in_transaction():
                cache.update({d: found.get(d) for d in missing})
        return {d: doc for d, doc in known.items() if doc}

    def documents(self) -> list[Document]:
        return [_document(r) for r in self._rows("SELECT * FROM documents ORDER BY date DESC, doc_id", [])]

    def document_regions(self) -> list[str]:
        """Every region some document is from."""
        return [r[0] for r in self.db.execute("SELECT DISTINCT region FROM documents").fetchall() if r[0]]

    def document_item_counts(self) -> dict[str, int]:
        """doc id -> how many active items it has (every document, 0 for none)."""
        return {r[0]: int(r[1]) for r in self.db.execute(
            "SELECT doc.doc_id, count(i.id) FROM documents doc LEFT JOIN items i"
            " ON i.doc_id = doc.doc_id AND i.status = 'active' GROUP BY doc.doc_id")}

    def last_change_id(self) -> int:
        """The change log's latest id: every change to an item adds one."""
        return int(self.db.execute("SELECT coalesce(max(id), 0) FROM changes").fetchone()[0])

    def save_document(self, doc: Document) -> None:
        if (titles := getattr(self._local, "titles", None)) is not None:
            titles.pop(doc.doc_id, None)
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

    def same_document(self, doc: Document, text_key: str, *, exclude: Collection[str] = ()) -> Document | None:
        """A stored document that is `doc` under any file name: the same 文号, else the same title,
        issuer and date, else the same normalised text (`text_key`)."""
        where = "doc_id NOT IN ({})".format(",".join("?" * len(exclude))) if exclude else "1"
        tests: list[tuple[str, list[Any]]] = []
        if doc.doc_number:
            tests.append(("doc_number = ?", [doc.doc_number]))
        if doc.title and doc.date:
            tests.append(("title = ? AND coalesce(issuer, '') = ? AND date = ?", [doc.title, doc.issuer, _iso(doc.date)]))
        if text_key:
            tests.append(("text_key = ?", [text_key]))
        for condition, params in tests:
            rows = self._rows(f"SELECT * FROM documents WHERE {condition} AND {where}"
                              " ORDER BY updated_at DESC LIMIT 1", [*params, *exclude])
            if rows:
                return _document(rows[0])
        return None

    def set_text_key(self, doc_id: str, text_key: str) -> None:
        self.db.execute("UPDATE documents SET text_key = ? WHERE doc_id = ?", [text_key, doc_id])

    def document_row(self, doc_id: str) -> dict | None:
        """A document's stored row as it is (for the change log, so an import can be undone)."""
        rows = self._rows("SELECT * FROM documents WHERE doc_id = ?", [doc_id])
        return rows[0] if rows else None

    def restore_document_row(self, doc_id: str, row: dict | None) -> None:
        """Put a document's row back as `document_row` gave it; None: the document goes."""
        self.db.execute("DELETE FROM documents WHERE doc_id = ?", [doc_id])
        if row is not None:
            columns = list(row)
            self.db.execute(f"INSERT INTO documents ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                            [row[c] for c in columns])
        self._documents.pop(doc_id, None)

    def remove_items(self, ids: list[int]) -> None:
        """Remove items and their index entirely (undoing an import's new items; call inside transaction())."""
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            self._count_out(chunk)
            self.db.execute(f"DELETE FROM item_texts WHERE item_id IN ({marks})", chunk)
            self.db.execute(f"DELETE FROM item_departments WHERE item_id IN ({marks})", chunk)
            self.db.execute(f"DELETE FROM item_deadlines WHERE item_id IN ({marks})", chunk)
            self.db.execute(f"DELETE FROM items WHERE id IN ({marks})", chunk)

    def document_title(self, doc_id: str) -> str:
        doc = self.get_document(doc_id)
        return doc.title if doc else ""

    def _title_for_index(self, doc_id: str) -> str:
        """The document's title, looked up once per write (an import indexes thousands of its items)."""
        titles = getattr(self._local, "titles", None)
        if titles is None:
            return self.document_title(doc_id)
        if doc_id not in titles:
            titles[doc_id] = self.document_title(doc_id)
        return titles[doc_id]

    def get_item(self, item_id: int) -> Item | None:
        row = self.db.execute(f"{_ITEM_SELECT} WHERE id = ?", [item_id]).fetchone()
        return _item(row) if row else None

    def get_items(self, ids: list[int]) -> dict[int, Item]:
        out: dict[int, Item] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(f"{_ITEM_SELECT} WHERE id IN ({marks})", chunk):
                out[row[0]] = _item(row)
        return out

    def items_of_document(self, doc_id: str, statuses: tuple[str, ...] = ("active",)) -> list[Item]:
        marks = ",".join("?" * len(statuses))
        rows = self.db.execute(
            f"{_ITEM_SELECT} WHERE doc_id = ? AND status IN ({marks}) ORDER BY seq, id", [doc_id, *statuses]
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
        return [_item(r) for r in self.db.execute(f"{_ITEM_SELECT} WHERE {where} ORDER BY seq, id", params)]

    def all_items(self, statuses: tuple[str, ...] = ("active",)) -> Iterator[Item]:
        marks = ",".join("?" * len(statuses))
        for row in self.db.execute(
            f"{_ITEM_SELECT} JOIN documents USING (doc_id) WHERE status IN ({marks})"
            " ORDER BY documents.date, doc_id, seq, id",
            list(statuses),
        ):
            yield _item(row)

    def count_items(self, status: str = "active") -> int:
        if status == "active":  # kept by triggers (migration 010): counting them all grows with the base
            return int(self.db.execute("SELECT active_items FROM knowledge_counts WHERE id = 1").fetchone()[0])
        return self.db.execute("SELECT count(*) FROM items WHERE status = ?", [status]).fetchone()[0]

    def source_text(self, item_id: int) -> str:
        row = self.db.execute("SELECT source_text FROM items WHERE id = ?", [item_id]).fetchone()
        return row[0] if row else ""

    # ------------------------------------------------------------------ items: writes (call inside transaction())

    def insert_item(self, item: Item, *, actor: str, action: str = "add") -> int:
        return self.insert_items([item], actor=actor, action=action)[0]

    def insert_items(self, items: list[Item], *, actor: str, action: str = "add", rows: IndexRows | None = None
                     ) -> list[int]:
        """Add items with their index in a few statements (an import writes a document's at once;
        `rows`: their index rows computed ahead, if any). Ids are given as SQLite would (one past
        the largest), so each item knows its id up front."""
        if not items:
            return []
        now = _now()
        first = int(self.db.execute("SELECT coalesce(max(id), 0) + 1 FROM items").fetchone()[0])
        for n, item in enumerate(items):
            item.id = first + n
        self.db.conn.executemany(
            "INSERT INTO items (id, doc_id, seq, text, source_text, kind, section, region, deadlines, lead, support,"
            " targets, clause, responsible, status, progress, edited, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [[item.id, item.doc_id, item.seq, item.text, item.text, *_item_fields(item), item.status, item.progress,
              int(item.edited), now, now] for item in items],
        )
        self._index(items, fresh=True, rows=rows)
        if action != "import":  # an imported item's origin is its document's import entry
            for item in items:
                self.log(actor, action, item_id=item.id, doc_id=item.doc_id, after=_snapshot(item))
        return [first + n for n in range(len(items))]

    def update_item(self, item: Item, *, actor: str, action: str, source_text: str | None = None) -> None:
        """Replace an item's content; the previous version goes to the change log."""
        self.update_items([item], actor=actor, action=action, source_text=source_text)

    def update_items(self, items: list[Item], *, actor: str, action: str, source_text: str | None = None) -> None:
        """Replace items' content in a few statements (a new version of a document retires hundreds);
        the previous versions go to the change log, in the items' order. `source_text`: the one
        item's new source sentence."""
        assert all(item.id is not None for item in items) and (source_text is None or len(items) == 1)
        if not items:
            return
        befores = self.get_items([item.id for item in items if item.id is not None])
        now = _now()
        self.db.conn.executemany(
            "UPDATE items SET seq=?, text=?, kind=?, section=?, region=?, deadlines=?, lead=?, support=?, targets=?,"
            " clause=?, responsible=?, status=?, progress=?, edited=?, updated_at=?,"
            " source_text=coalesce(?, source_text) WHERE id = ?",
            [[item.seq, item.text, *_item_fields(item), item.status, item.progress, int(item.edited), now, source_text,
              item.id] for item in items])
        self._index(items)
        for item in items:
            before = befores.get(item.id or 0)
            self.log(actor, action, item_id=item.id, doc_id=item.doc_id,
                     before=_snapshot(before) if before else None, after=_snapshot(item))

    def source_texts(self, ids: list[int]) -> dict[int, str]:
        """Items' source sentences as imported (or last updated by an import), by id."""
        out: dict[int, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            out.update(self.db.execute(f"SELECT id, source_text FROM items WHERE id IN ({','.join('?' * len(chunk))})",
                                       chunk).fetchall())
        return out

    def set_source_text(self, item_id: int, source_text: str) -> None:
        self.db.execute("UPDATE items SET source_text = ? WHERE id = ?", [source_text, item_id])

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
        """Rebuild the search index (items' texts, token counts, postings) when this code indexes
        differently from the code that built it."""
        if self.get_setting("index_version") == INDEX_VERSION:
            return
        with self.transaction():
            if self.get_setting("index_version") == INDEX_VERSION:
                return  # (another process rebuilt it while this one waited for the write lock)
            for table in ("item_texts", "token_counts", "postings", "postings_stale", "postings_merge"):
                self.db.conn.execute(f"DELETE FROM {table}")
            self.db.conn.execute("UPDATE knowledge_counts SET postings_segment = 0, index_tokens = 0 WHERE id = 1")
            batch: list[Item] = []
            for item in self.all_items(("active",)):  # (departments and deadlines stay as they are)
                batch.append(item)
                if len(batch) == REBUILD_BATCH:
                    self._index_search(batch)
                    self._save_index_log()  # (a segment per thousand items: the log stays small)
                    batch = []
            self._index_search(batch)
            self.set_setting("index_version", INDEX_VERSION)
            self.db.execute("UPDATE knowledge_generation SET n = n + 1 WHERE id = 1")

    def _index(self, items: list[Item], fresh: bool = False, rows: IndexRows | None = None) -> None:
        """(Re)index items: their search text and postings, departments and deadlines (`rows`: their
        index rows computed ahead, if any). `fresh`: new items, with nothing to remove first."""
        ids = [item.id for item in items if item.id is not None]
        assert len(ids) == len(items)
        active = [item for item in items if item.status == "active"]
        if fresh:
            self._insert_departments_and_deadlines(active)
        else:  # item by item, so that the rows get the same rowids as when items were indexed one at a time
            for start in range(0, len(ids), 500):
                self._count_out(ids[start:start + 500])
            for item in items:
                self.db.conn.execute("DELETE FROM item_departments WHERE item_id = ?", [item.id])
                self.db.conn.execute("DELETE FROM item_deadlines WHERE item_id = ?", [item.id])
                if item.status == "active":
                    self._insert_departments_and_deadlines([item])
            self.db.conn.executemany("DELETE FROM item_texts WHERE item_id = ?", [(i,) for i in ids])
        self._index_search(active, rows)

    def _index_search(self, active: list[Item], rows: IndexRows | None = None) -> None:
        """Active items' search texts and postings (their old ones removed already)."""
        rows = rows or IndexRows()
        titles = {doc_id: self._title_for_index(doc_id) for doc_id in {item.doc_id for item in active}}
        texts: list[tuple[int | None, str, str]] = []
        for item in active:
            text, context, postings, length = rows.row(item.text, " ".join(index_context(item, titles[item.doc_id])))
            texts.append((item.id, text, context))
            self._log_index(+1, item.id or 0, postings, length)
        self.db.conn.executemany("INSERT INTO item_texts (item_id, norm_text, norm_context) VALUES (?,?,?)", texts)

    def _count_out(self, ids: list[int]) -> None:
        """Log these items' index rows as removed, before the rows are deleted."""
        for item_id, text, context in self.db.execute(
                f"SELECT item_id, norm_text, norm_context FROM item_texts WHERE item_id IN ({','.join('?' * len(ids))})",
                ids):
            self._log_index(-1, item_id, *search_postings(text, context))

    def _log_index(self, sign: int, item_id: int, postings: RowPostings, length: int) -> None:
        """Log an item's index row as added (+1) or removed (-1): its tokens' item counts, postings
        and the index's length in tokens change when the write commits."""
        log = getattr(self._local, "index_log", None)
        if log is None:  # (a write outside transaction(): saved at once)
            self._save_index_log([(sign, item_id, postings, length)])
        else:
            log.append((sign, item_id, postings, length))

    def _save_index_log(self, log: list[tuple[int, int, RowPostings, int]] | None = None) -> None:
        """What a write did to the index, saved: a new segment of each token it indexed, marks on the
        entries of the items it removed or indexed again (stale up to the segment before), the
        tokens' item counts and the index's length in tokens. The tokens of removed rows wait for a
        merge (`merge_postings`), as do those given a segment."""
        log = self._local.index_log if log is None else log
        if not log:
            return
        added: dict[int, tuple[RowPostings, int]] = {}
        removed: set[int] = set()
        counts: Counter[str] = Counter()  # the tokens' item counts' change, besides the new segment's
        length_change = 0
        for sign, item_id, postings, length in log:  # (in order: an item may be indexed, then indexed again)
            length_change += sign * length
            if sign > 0:
                added[item_id] = (postings, length)
                continue
            if (superseded := added.pop(item_id, None)) is not None:  # indexed earlier in this write
                counts.update(superseded[0].tokens())
            removed.add(item_id)
            counts.subtract(postings.tokens())
        conn = self.db.conn
        segment = int(conn.execute("SELECT postings_segment FROM knowledge_counts WHERE id = 1").fetchone()[0]) + 1
        if removed:
            conn.executemany("INSERT OR REPLACE INTO postings_stale (item_id, segment) VALUES (?, ?)",
                             [(i, segment - 1) for i in removed])
        written = segments((i, postings, length) for i, (postings, length) in added.items())
        conn.executemany("INSERT INTO postings (term, segment, entries) VALUES (?, ?, ?)",
                         [(t, segment, blob) for t, blob in written.items()])
        conn.executemany("INSERT OR IGNORE INTO postings_merge (term) VALUES (?)", [(t,) for t in {*counts, *written}])
        conn.execute("UPDATE knowledge_counts SET postings_segment = ?, index_tokens = index_tokens + ? WHERE id = 1",
                     [segment if written else segment - 1, length_change])
        for token, blob in written.items():
            counts[token] += len(blob) // 8
        self._save_token_counts({t: n for t, n in counts.items() if n})
        log.clear()

    def _save_token_counts(self, changes: dict[str, int]) -> None:
        """Add to the tokens' item counts — each token once per item, as FTS5 counted documents."""
        if not changes:
            return
        # one statement whose rows SQLite reads from one JSON object: a document changes thousands
        # of tokens' counts, and a row bound from Python costs more than the upsert itself
        self.db.conn.execute("INSERT INTO token_counts (term, items) SELECT key, value FROM json_each(?) WHERE true"
                             " ON CONFLICT (term) DO UPDATE SET items = items + excluded.items", [_encode(changes)])
        if min(changes.values()) < 0:
            self.db.conn.executemany("DELETE FROM token_counts WHERE term = ? AND items <= 0",
                                     [(t,) for t, n in changes.items() if n < 0])

    def _insert_departments_and_deadlines(self, items: list[Item]) -> None:
        """The items' department and deadline rows, each with the item's region (for a province's lists)."""
        departments = [(item.id, name, department_core(name), role, item.region or "国家") for item in items
                       for role, names in (("lead", item.departments.lead), ("support", item.departments.support),
                                           ("responsible", item.departments.responsible))
                       for name in names]
        if departments:
            self.db.conn.executemany(
                "INSERT INTO item_departments (item_id, name, core, role, region) VALUES (?,?,?,?,?)", departments)
        deadlines = [(item.id, d.text, _iso(d.due), _iso(d.start), int(d.ongoing), item.region or "国家")
                     for item in items for d in item.deadlines]
        if deadlines:
            self.db.conn.executemany(
                "INSERT INTO item_deadlines (item_id, text, due, start, ongoing, region) VALUES (?,?,?,?,?,?)",
                deadlines)

    def candidates(self, tokens: list[str], limit: int,
                   weights: tuple[float, float, float]) -> list[tuple[Item, float, str, str]]:
        """(item, BM25 score — higher is better —, normalised text, normalised context) of the
        `limit` items that best match any of these index tokens, best first: FTS5's bm25 with these
        column weights (body, meta, sound), computed over the tokens' postings (knowledge/postings.py)."""
        if not tokens:
            return []
        conn = self.db.conn
        snapshot = not conn.in_transaction  # the postings, their marks and counts of one state of the base
        if snapshot:
            conn.execute("BEGIN")
        try:
            items, average_length, stale = self._postings_state(
                int(conn.execute("SELECT n FROM knowledge_generation WHERE id = 1").fetchone()[0]), remember=snapshot)
            parts = [conn.execute("SELECT segment, entries FROM postings WHERE term = ? ORDER BY segment",
                                  [t]).fetchall() for t in tokens]
        finally:
            if snapshot:
                conn.execute("COMMIT")
        ranked = best(parts, stale, items, average_length, weights, limit)
        if not ranked:
            return []
        found = {row[0]: (_item(row[:-2]), row[-2], row[-1]) for row in self.db.execute(
            f"SELECT {_ITEM_COLUMNS}, t.norm_text, t.norm_context FROM items JOIN item_texts t ON t.item_id = items.id"
            f" WHERE items.id IN ({','.join('?' * len(ranked))})", [r[0] for r in ranked])}
        return [(found[i][0], score, *found[i][1:]) for i, score in ranked if i in found]

    def _postings_state(self, generation: int, *, remember: bool = True) -> tuple[int, float, Marks]:
        """The index's number of items, their mean length in tokens and the stale marks (item id →
        last stale segment) in this generation of the base, remembered until the next — unless read
        inside a write, which may yet be rolled back (`remember` False)."""
        state = self._postings  # (taken once: another thread may replace it meanwhile)
        if state[0] != generation or not remember:
            items, tokens = self.db.execute("SELECT active_items, index_tokens FROM knowledge_counts WHERE id = 1"
                                            ).fetchone()
            state = (generation, max(1, items), max(1, tokens) / max(1, items), self._stale_marks())
            if remember:
                self._postings = state
        return state[1:]

    def _stale_marks(self) -> Marks:
        return Marks(dict(self.db.execute("SELECT item_id, segment FROM postings_stale").fetchall()))

    def filter_items(self, *, exact_departments: Collection[str] = (), department_cores: Collection[str] = (),
                     roles: Collection[str] = (), deadline_phrase: str = "", due_from: date | None = None,
                     due_to: date | None = None, regions: Collection[str] = (),
                     doc_ids: Collection[str] | None = None, limit: int = 300, started_by: date | None = None,
                     unfinished: bool = False, soonest_first: bool = False) -> tuple[list[int], bool]:
        """Active items that pass every given filter, newest document first then in document order
        (at most `limit` ids), and whether more pass. `doc_ids` (when not None) keeps those documents'.
        `started_by` keeps ongoing work and periods begun by then (进行中), `unfinished` leaves out items
        marked done; `soonest_first` orders by the earliest matching due date instead (a window).
        Nothing counts every match: a deadline filter alone can match tens of thousands."""
        if soonest_first and (due_from or due_to):
            return self._soonest(exact_departments, department_cores, roles, deadline_phrase, due_from, due_to,
                                 regions, doc_ids, limit, started_by, unfinished)
        # Each filter as the rows that match it (department rows, deadline rows), with its parameters.
        filters: list[tuple[str, str, list[Any]]] = []  # (table, condition on its rows, parameters)
        marks = lambda values: ",".join("?" * len(values))  # noqa: E731
        if exact_departments or department_cores:
            names, names_params = [], []
            for column, values in (("name", exact_departments), ("core", department_cores)):
                if values:
                    names.append(f"{column} IN ({marks(values)})")
                    names_params += list(values)
            condition, params = f"({' OR '.join(names)})", names_params
            if roles:
                condition += f" AND role IN ({marks(roles)})"
                params = [*params, *roles]
            if regions:
                condition += f" AND region IN ({marks(regions)})"
                params = [*params, *regions]
            filters.append(("item_departments", condition, params))
        if deadline_phrase or due_from or due_to:
            conditions, params = [], []
            if deadline_phrase:
                if (phrase_test := self._phrase_test("text", deadline_phrase)) is None:
                    return [], False
                conditions.append(phrase_test[0])
                params += phrase_test[1]
            for column_test, value in (("due >= ?", due_from), ("due <= ?", due_to),
                                       ("(ongoing OR coalesce(start, '9') <= ?)", started_by)):
                if value:
                    conditions.append(column_test)
                    params.append(value if isinstance(value, str) else value.isoformat())
            if regions:
                conditions.append(f"region IN ({marks(regions)})")
                params += list(regions)
            filters.append(("item_deadlines", " AND ".join(conditions), params))
        # A filter that matches thousands of rows (a deadline phrase, a department of every province):
        # walk the documents newest first (index on their date), test each item and stop once the page
        # is full. When a filter (or the documents asked for) selects few, start from its matches.
        # Walking finds the page after about limit / share items; starting from a department's matches
        # (an index) costs their number, so that filter needs more than sqrt(limit × items) to walk. A
        # deadline's phrase has no index: its matches are a scan, and walking wins from WALK_FROM on.
        by_index = max(WALK_FROM, math.isqrt(limit * self.count_items()))
        walk = doc_ids is None and bool(filters) and all(
            self._matches_many(t, c, p, by_index if t == "item_departments" else WALK_FROM) for t, c, p in filters)
        where: list[str] = ["i.status = 'active'"]
        params = []
        if unfinished:
            where.append("coalesce(i.progress, '') != 'done'")
        for table, condition, filter_params in filters:
            where.append(f"EXISTS (SELECT 1 FROM {table} f WHERE f.item_id = i.id AND {condition})" if walk
                         else f"i.id IN (SELECT item_id FROM {table} WHERE {condition})")
            params += filter_params
        if regions:
            where.append(f"doc.region IN ({marks(regions)}) AND i.region IN ({marks(regions)})" if walk
                         else f"i.region IN ({marks(regions)})")
            params += [*regions, *regions] if walk else list(regions)
        if doc_ids is not None:
            where.append(f"i.doc_id IN ({marks(doc_ids)})")
            params += list(doc_ids)
        join = "documents doc CROSS JOIN items i ON i.doc_id = doc.doc_id" if walk else \
            "items i JOIN documents doc USING (doc_id)"
        rows = self.db.execute(
            f"SELECT i.id FROM {join} WHERE {' AND '.join(where)} ORDER BY doc.date DESC, i.seq, i.id LIMIT ?",
            [*params, limit + 1]).fetchall()
        return [int(r[0]) for r in rows[:limit]], len(rows) > limit

    def _phrase_test(self, column: str, phrase: str) -> tuple[str, list[str]] | None:
        """A condition on a deadline's text `column` that holds where the text has `phrase`, with its
        parameters; None when no deadline's text has it. The texts that have it are looked up on the
        index (a deadline's text is a clause's time, and documents repeat them); a phrase in very many
        distinct texts is tested on each row instead."""
        texts = self.deadline_texts_with(phrase)
        if texts is None:
            return f"instr({column}, ?) > 0", [phrase]
        return (f"{column} IN ({','.join('?' * len(texts))})", texts) if texts else None

    def deadline_texts_with(self, phrase: str) -> list[str] | None:
        """The distinct deadline texts that contain `phrase` (None: more than PHRASE_TEXTS_LOOKED_UP).
        The distinct texts are read once per generation, one index seek each."""
        if self._deadline_texts[0] != self.generation:
            texts = [r[0] for r in self.db.execute(
                "WITH RECURSIVE texts(text) AS (SELECT min(text) FROM item_deadlines UNION ALL"
                " SELECT (SELECT min(text) FROM item_deadlines WHERE text > texts.text) FROM texts"
                " WHERE text IS NOT NULL) SELECT text FROM texts WHERE text IS NOT NULL").fetchall()]
            self._deadline_texts = (self.generation, texts, {})
        _, texts, by_phrase = self._deadline_texts
        if phrase not in by_phrase:
            found = [t for t in texts if phrase in t]
            by_phrase[phrase] = found if len(found) <= PHRASE_TEXTS_LOOKED_UP else None
        return by_phrase[phrase]

    def _matches_many(self, table: str, condition: str, params: list[Any], many: int) -> bool:
        """Whether at least `many` rows of `table` match: a count that stops there."""
        row = self.db.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {condition} LIMIT ?)",
                              [*params, many]).fetchone()
        return int(row[0]) >= many

    def _soonest(self, exact_departments: Collection[str], department_cores: Collection[str], roles: Collection[str],
                 deadline_phrase: str, due_from: date | None, due_to: date | None, regions: Collection[str],
                 doc_ids: Collection[str] | None, limit: int, started_by: date | None,
                 unfinished: bool) -> tuple[list[int], bool]:
        """filter_items for a window, soonest due first (on a tie, dated work before ongoing work):
        walked along the index on due dates, so a wide window stops once the page is full."""
        where = ["d.due BETWEEN ? AND ?", "i.status = 'active'"]
        params: list[Any] = [(due_from or date.min).isoformat(), (due_to or date.max).isoformat()]
        if regions:  # on the index on (region, due)
            where.append(f"d.region IN ({','.join('?' * len(regions))})")
            params += list(regions)
        if deadline_phrase:
            if (phrase_test := self._phrase_test("d.text", deadline_phrase)) is None:
                return [], False
            where.append(phrase_test[0])
            params += phrase_test[1]
        if started_by:
            where.append("(d.ongoing OR coalesce(d.start, '9') <= ?)")
            params.append(started_by.isoformat())
        if unfinished:
            where.append("coalesce(i.progress, '') != 'done'")
        role_sql = f" AND role IN ({','.join('?' * len(roles))})" if roles else ""
        for column, values in (("name", exact_departments), ("core", department_cores)):
            if values:
                where.append(f"i.id IN (SELECT item_id FROM item_departments WHERE {column} IN "
                             f"({','.join('?' * len(values))}){role_sql})")
                params += [*values, *roles]
        if regions:
            where.append(f"i.region IN ({','.join('?' * len(regions))})")
            params += list(regions)
        if doc_ids is not None:  # (none given: nothing passes)
            where.append(f"i.doc_id IN ({','.join('?' * len(doc_ids))})")
            params += list(doc_ids)
        fetch = 3 * (limit + 1)  # an item has a few deadlines: enough rows for `limit` items and one more
        rows = self.db.execute(f"SELECT d.item_id, d.due, d.ongoing FROM item_deadlines d JOIN items i ON i.id = d.item_id"
                               f" WHERE {' AND '.join(where)} ORDER BY d.due LIMIT ?", [*params, fetch]).fetchall()
        first: dict[int, tuple[str, int, int]] = {}
        for n, (item_id, due, ongoing) in enumerate(rows):
            first.setdefault(int(item_id), (due, int(bool(ongoing)), n))
        ids = sorted(first, key=first.__getitem__)
        return ids[:limit], len(ids) > limit or len(rows) == fetch

    def optimize(self, merge_seconds: float = 1.0) -> bool:
        """After a bulk change: refresh the query planner's statistics (cheap when nothing changed)
        and merge the postings' segments for up to `merge_seconds`. True when fully merged."""
        with self.transaction():  # the write lock first: ANALYZE upgrading a read beside another
            self.db.execute("PRAGMA optimize")  # process's write would fail at once ("database is locked")
        return self.merge_postings(merge_seconds)

    def merge_pending(self) -> bool:
        """Whether some write has left segments to merge, or stale marks to drop, since the last merge."""
        return bool(self.db.execute("SELECT EXISTS (SELECT 1 FROM postings_merge)"
                                    " OR EXISTS (SELECT 1 FROM postings_stale)").fetchone()[0])

    def merge_postings(self, seconds: float) -> bool:
        """Merge the segments of each token a write has touched into one without stale entries, some
        tokens per transaction, until none is left or time is up (at least one transaction; a later
        call goes on). Once none is left, no stale entry is anywhere: the marks go. True when done."""
        conn = self._database().conn
        until = time.monotonic() + seconds
        marks: tuple[int, Marks] = (-1, Marks({}))
        while True:
            with self.transaction():
                generation = int(conn.execute("SELECT n FROM knowledge_generation WHERE id = 1").fetchone()[0])
                if marks[0] != generation:  # (marks come with changes to items, and so a new generation)
                    marks = (generation, self._stale_marks())
                # the rarest first: the tokens questions select, whose postings are small; the commonest,
                # which only weigh what they select (and take the longest), last
                terms = [r[0] for r in conn.execute(
                    "SELECT term FROM postings_merge LEFT JOIN token_counts USING (term)"
                    " ORDER BY coalesce(items, 0) LIMIT ?", [MERGE_TERMS])]
                if not terms:
                    if conn.execute("DELETE FROM postings_stale").rowcount:
                        # a new generation: a reader must not pair these (no) marks with postings of a
                        # snapshot taken before this commit, which may still hold stale entries
                        conn.execute("UPDATE knowledge_generation SET n = n + 1 WHERE id = 1")
                    return True
                for term in terms:
                    parts = conn.execute("SELECT segment, entries FROM postings WHERE term = ? ORDER BY segment",
                                         [term]).fetchall()
                    if len(parts) > 1 or (parts and parts[0][0] <= marks[1].newest):
                        entries = marks[1].live(parts).tobytes()  # one segment, stale entries dropped
                        conn.execute("DELETE FROM postings WHERE term = ?", [term])
                        if entries:
                            conn.execute("INSERT INTO postings (term, segment, entries) VALUES (?, ?, ?)",
                                         [term, parts[-1][0], entries])
                conn.executemany("DELETE FROM postings_merge WHERE term = ?", [(t,) for t in terms])
            if time.monotonic() >= until:
                return False

    def token_document_counts(self, tokens: list[str]) -> dict[str, int]:
        """How many items each token occurs in (any column), for choosing selective tokens.
        Counts are remembered until the next write."""
        if self._token_counts[0] != self.generation:
            self._token_counts = (self.generation, {})
        cache = self._token_counts[1]
        missing = [t for t in dict.fromkeys(tokens) if t not in cache]
        if missing:
            marks = ",".join("?" * len(missing))
            found = dict(self.db.execute(f"SELECT term, items FROM token_counts WHERE term IN ({marks})",
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
        """Every department name items list: one index seek per name (a skip-scan), not a walk over
        every item's departments."""
        return [r[0] for r in self.db.execute(
            "WITH RECURSIVE names(name) AS (SELECT min(name) FROM item_departments UNION ALL"
            " SELECT (SELECT min(name) FROM item_departments WHERE name > names.name) FROM names WHERE name IS NOT NULL)"
            " SELECT name FROM names WHERE name IS NOT NULL").fetchall()]

    def ids_due_between(self, start: date, end: date) -> list[int]:
        rows = self.db.execute(
            "SELECT DISTINCT item_id FROM item_deadlines WHERE due BETWEEN ? AND ?", [start.isoformat(), end.isoformat()]
        ).fetchall()
        return [int(r[0]) for r in rows]


class StoreWorker:
    """Where asyncio code runs knowledge-base work, so that nothing slow runs on the event loop and
    no answer waits behind an import.

    - `run`: reads (answers, lists) on a few reader threads, each with its own connection.
    - `write`: changes, one at a time in order on one writer thread and connection.
    - `offload`: CPU-heavy pure work (file bytes to text, parsing and extraction) in a worker
      process started on first use; arguments and results must pickle. If the process dies,
      the call raises `BrokenProcessPool` and the next call starts a new one.
    """

    def __init__(self, readers: int = READ_THREADS) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="kb-read")
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-write")
        self._process: ProcessPoolExecutor | None = None
        self._process_lock = threading.Lock()

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await self._call(self._readers, fn, *args, **kwargs)

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await self._call(self._writer, fn, *args, **kwargs)

    async def offload(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        from concurrent.futures.process import BrokenProcessPool

        pool = self._worker_process()
        try:
            return await self._call(pool, fn, *args, **kwargs)
        except BrokenProcessPool:
            with self._process_lock:
                if self._process is pool:
                    self._process = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise

    @staticmethod
    async def _call(executor: Executor, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        import asyncio

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, functools.partial(fn, *args, **kwargs))

    def _worker_process(self) -> ProcessPoolExecutor:
        with self._process_lock:
            if self._process is None:
                from knowledge.processes import worker_pool

                self._process = worker_pool()
            return self._process

    def shutdown(self) -> None:
        self._readers.shutdown(wait=True)
        self._writer.shutdown(wait=True)
        with self._process_lock:
            process, self._process = self._process, None
        if process is not None:
            process.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------------- row <-> model


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


_encode = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(obj, ensure_ascii=False), made once


def _json(obj: Any) -> str | None:
    return None if obj is None else _encode(obj)


def _loads(s: str | None) -> Any:
    return json.loads(s) if s else None


def _item_fields(item: Item) -> list[Any]:
    return [
        item.kind, item.section, item.region, _records_json(tuple(item.deadlines)),
        _names_json(item.departments.lead), _names_json(item.departments.support),
        _records_json(tuple(item.targets)), item.clause, _names_json(item.departments.responsible),
    ]


# An import's items repeat their neighbours' departments and deadlines: each encoded once.
@functools.lru_cache(maxsize=4096)
def _names_json(names: tuple[str, ...]) -> str:
    return _encode(list(names))


@functools.lru_cache(maxsize=4096)
def _records_json(records: tuple[Deadline | Target, ...]) -> str:
    return _encode([r.to_dict() for r in records])


def _snapshot(item: Item) -> dict:
    return {
        "text": item.text, "kind": item.kind, "section": item.section, "region": item.region,
        "deadlines": [d.to_dict() for d in item.deadlines], "lead": list(item.departments.lead),
        "support": list(item.departments.support), "responsible": list(item.departments.responsible),
        "targets": [t.to_dict() for t in item.targets],
        "clause": item.clause, "status": item.status, "progress": item.progress, "edited": item.edited,
    }


def item_from_snapshot(snapshot: dict, base: Item) -> Item:
    """The item as it was in a change-log snapshot (for undo)."""
    return Item(
        text=snapshot["text"], kind=snapshot["kind"], section=snapshot["section"], region=snapshot["region"],
        deadlines=[Deadline.from_dict(d) for d in snapshot["deadlines"]],
        departments=Departments(tuple(snapshot["lead"]), tuple(snapshot["support"]),
                                tuple(snapshot.get("responsible", ()))),
        targets=[Target.from_dict(t) for t in snapshot["targets"]], clause=snapshot["clause"],
        doc_id=base.doc_id, seq=base.seq, id=base.id, status=snapshot["status"],
        progress=snapshot.get("progress", ""), edited=snapshot.get("edited", base.edited),
    )


# An item row as `_item` reads it: its lists (deadlines, lead, support, targets, responsible) come as
# one JSON array built by SQLite, so a row costs one decode, not five.
_ITEM_COLUMNS = (
    "items.id, items.doc_id, seq, text, kind, section, items.region, clause, status, progress, edited,"
    " '[' || " + " || ',' || ".join(f"coalesce(nullif({c}, ''), '[]')"
                                 for c in ("deadlines", "lead", "support", "targets", "responsible")) + " || ']'"
)
_ITEM_SELECT = f"SELECT {_ITEM_COLUMNS} FROM items"


def _item(row: tuple) -> Item:
    item_id, doc_id, seq, text, kind, section, region, clause, status, progress, edited, lists = row
    deadlines, departments, targets = _parts(lists)
    return Item(
        id=item_id, doc_id=doc_id, seq=seq, text=text, kind=kind,
        section=section or "", region=region or "国家",
        deadlines=list(deadlines), departments=departments, targets=list(targets),
        clause=clause or "", status=status, progress=progress or "",
        edited=bool(edited),
    )


@functools.lru_cache(maxsize=16384)
def _parts(lists: str) -> tuple[tuple[Deadline, ...], Departments, tuple[Target, ...]]:
    """An item row's lists decoded; the items of one paragraph share them, and the parts are frozen."""
    deadlines, lead, support, targets, responsible = json.loads(lists)
    return (tuple(Deadline.from_dict(d) for d in deadlines or ()),
            Departments(tuple(lead or ()), tuple(support or ()), tuple(responsible or ())),
            tuple(Target.from_dict(t) for t in targets or ()))


def _document(row: dict) -> Document:
    return Document(
        doc_id=row["doc_id"], source=row["source"], title=row["title"], issuer=row["issuer"] or "",
        doc_number=row["doc_number"] or "", date=date.fromisoformat(row["date"]) if row["date"] else None,
        region=row["region"] or "国家", url=row["url"] or "", fingerprint=row["fingerprint"] or "",
    )
