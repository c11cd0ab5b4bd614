"""Versioned schema migrations, applied in order and recorded in `_migrations`.

Each migration is a function of a sqlite-utils Database; add new ones at the end, never edit old ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (sqlite-utils is loaded when a migration runs, not to see that none is due)
    import sqlite_utils

Migration = Callable[["sqlite_utils.Database"], None]


def _m001_knowledge_base(db: sqlite_utils.Database) -> None:
    db.table("documents").create(
        {
            "doc_id": str, "source": str, "title": str, "issuer": str, "doc_number": str, "date": str,
            "region": str, "url": str, "fingerprint": str, "imported_at": str, "updated_at": str,
        },
        pk="doc_id",
    )
    db.table("items").create(
        {
            "id": int, "doc_id": str, "seq": int, "text": str, "source_text": str, "kind": str,
            "section": str, "region": str, "deadlines": str, "lead": str, "support": str, "targets": str,
            "clause": str, "status": str, "progress": str, "edited": int, "created_at": str, "updated_at": str,
        },
        pk="id",
        not_null={"doc_id", "text", "status"},
        defaults={"status": "active", "progress": "", "edited": 0},
    )
    db.table("items").create_index(["doc_id", "seq"])
    db.table("item_departments").create({"item_id": int, "name": str, "core": str, "role": str})
    db.table("item_departments").create_index(["core"])
    db.table("item_departments").create_index(["item_id"])
    db.table("item_deadlines").create({"item_id": int, "text": str, "due": str, "start": str, "ongoing": int})
    db.table("item_deadlines").create_index(["due"])
    db.table("item_deadlines").create_index(["item_id"])
    # Every change to the knowledge base: the audit log and the items' history in one.
    db.table("changes").create(
        {"id": int, "at": str, "actor": str, "action": str, "item_id": int, "doc_id": str, "before": str, "after": str},
        pk="id",
    )
    db.table("changes").create_index(["item_id"])
    db.table("changes").create_index(["actor", "id"])
    # Candidate index: normalised character bigrams, section/title/department words, pinyin bigrams.
    db.execute(
        "CREATE VIRTUAL TABLE items_fts USING fts5(body, meta, sound, tokenize = 'unicode61 remove_diacritics 0')"
    )


def _m002_settings(db: sqlite_utils.Database) -> None:
    db.table("settings").create({"key": str, "value": str}, pk="key")


def _m003_questions(db: sqlite_utils.Database) -> None:
    # Questions asked in chats, for /stats: what people asked that got no confident answer.
    db.table("questions").create(
        {"id": int, "at": str, "chat_type": str, "question": str, "confident": int, "top_item": int}, pk="id"
    )
    db.table("questions").create_index(["confident", "question"])


def _m004_search_texts_in_index(db: sqlite_utils.Database) -> None:
    # The index also keeps each item's normalised text and context (not indexed), so that the re-rank
    # reads them with the candidates instead of normalising at question time. Filled by the store.
    db.execute("DROP TABLE IF EXISTS items_fts_vocab")
    db.execute("DROP TABLE IF EXISTS items_fts")
    db.execute(
        "CREATE VIRTUAL TABLE items_fts USING fts5(body, meta, sound, norm_text UNINDEXED, norm_context UNINDEXED,"
        " tokenize = 'unicode61 remove_diacritics 0')"
    )


def _m005_department_lookup_indexes(db: sqlite_utils.Database) -> None:
    db.table("item_departments").create_index(["name", "role"])
    db.table("item_departments").create_index(["core", "role"])


def _m006_reminders(db: sqlite_utils.Database) -> None:
    # Who wants which deadlines pushed where: a Telegram chat, or a WeCom / DingTalk / Feishu robot.
    db.table("subscriptions").create(
        {"id": int, "chat_id": int, "channel": str, "webhook_url": str, "secret": str, "filter": str,
         "created_by": str, "created_at": str, "active": int, "disabled_reason": str},
        pk="id", not_null={"channel", "filter", "created_at"}, defaults={"active": 1, "disabled_reason": ""},
    )
    db.table("subscriptions").create_index(["chat_id"])
    # Every reminder, digest and notice by its unique key: the record that makes each go out once.
    db.table("reminder_log").create(
        {"key": str, "subscription_id": int, "item_id": int, "kind": str, "state": str, "attempts": int,
         "updated_at": str, "detail": str},
        pk="key", defaults={"attempts": 0, "detail": ""},
    )
    db.table("reminder_log").create_index(["state"])
    # Change notices read what changed between two slots.
    db.table("changes").create_index(["at"])
    db.table("items").create_index(["created_at"])


def _m007_documents_by_date(db: sqlite_utils.Database) -> None:
    # Filtered lists walk the documents newest first and stop once the page is full.
    db.table("documents").create_index(["date"])


def _m008_knowledge_generation(db: sqlite_utils.Database) -> None:
    # A counter every change to documents or items bumps (by trigger, whichever process writes), so a
    # running bot sees another process's import and refreshes its caches; and the FTS vocabulary view
    # made here once, so that reading never has to write.
    db.execute("CREATE TABLE knowledge_generation (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)")
    db.execute("INSERT INTO knowledge_generation (id, n) VALUES (1, 0)")
    for table in ("documents", "items"):
        for event in ("INSERT", "UPDATE", "DELETE"):
            db.execute(f"CREATE TRIGGER {table}_{event.lower()}_generation AFTER {event} ON {table}"
                       " BEGIN UPDATE knowledge_generation SET n = n + 1 WHERE id = 1; END")
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS items_fts_vocab USING fts5vocab(items_fts, 'row')")
    # A document is the same document whatever its file is called: found again by its 文号, its
    # title + issuer + date, or its normalised text (`text_key`, set by the importer).
    db.table("documents").add_column("text_key", str)
    db.table("documents").create_index(["doc_number"])
    db.table("documents").create_index(["title", "issuer", "date"])
    db.table("documents").create_index(["text_key"])


def _m009_responsible_departments(db: sqlite_utils.Database) -> None:
    # Departments named with no stated lead (…等按职责分工负责) are `responsible`; earlier versions
    # made the first of them the lead. Each item's roles are read again from its stored clause.
    from knowledge.departments import department_core, parse_clause

    db.execute("ALTER TABLE items ADD COLUMN responsible TEXT")
    rows = db.execute("SELECT id, clause, region, lead, support, status FROM items WHERE clause != ''").fetchall()
    for item_id, clause, region, lead, support, status in rows:
        deps = parse_clause(clause, region or "国家").departments
        stored: tuple[list[str], list[str], list[str]] = (json.loads(lead or "[]"), json.loads(support or "[]"), [])
        if not deps or stored == (list(deps.lead), list(deps.support), list(deps.responsible)):
            continue  # nothing named in the clause (an admin's edit may have set them), or unchanged
        db.execute("UPDATE items SET lead = ?, support = ?, responsible = ? WHERE id = ?",
                   [json.dumps(list(names), ensure_ascii=False) for names in (deps.lead, deps.support, deps.responsible)]
                   + [item_id])
        db.execute("DELETE FROM item_departments WHERE item_id = ?", [item_id])
        if status == "active":
            db.conn.executemany(
                "INSERT INTO item_departments (item_id, name, core, role) VALUES (?,?,?,?)",
                [(item_id, name, department_core(name), role)
                 for role, names in (("lead", deps.lead), ("support", deps.support), ("responsible", deps.responsible))
                 for name in names])


def _m010_active_item_count(db: sqlite_utils.Database) -> None:
    # The number of active items, kept by triggers: questions weigh words by it, and counting a million
    # items at every start took 0.4 s. (A table, not an index on status: an index would change the
    # plans, and so the order, of queries that list items.)
    db.execute("CREATE TABLE knowledge_counts (id INTEGER PRIMARY KEY CHECK (id = 1), active_items INTEGER NOT NULL)")
    db.execute("INSERT INTO knowledge_counts (id, active_items)"
               " SELECT 1, count(*) FROM items WHERE status = 'active'")
    change = "UPDATE knowledge_counts SET active_items = active_items + ({}) WHERE id = 1"
    for name, when, delta in (
            ("insert", "AFTER INSERT ON items WHEN NEW.status = 'active'", "1"),
            ("delete", "AFTER DELETE ON items WHEN OLD.status = 'active'", "-1"),
            ("status", "AFTER UPDATE OF status ON items WHEN OLD.status IS NOT NEW.status",
             "(NEW.status = 'active') - (OLD.status = 'active')")):
        db.execute(f"CREATE TRIGGER items_{name}_count {when} BEGIN {change.format(delta)}; END")


def _m011_search_lookups(db: sqlite_utils.Database) -> None:
    # What a question looks up must not cost more as the knowledge base grows:
    # - each index token's number of items (for choosing the selective tokens), kept by every write
    #   (KnowledgeStore._index), instead of walking the token's postings for every question;
    # - each department's and deadline's item region beside it, so a province's list is found in
    #   the index instead of filtering the same department of every province.
    db.execute("CREATE TABLE token_counts (term TEXT PRIMARY KEY, items INTEGER NOT NULL) WITHOUT ROWID")
    db.execute("INSERT INTO token_counts (term, items) SELECT term, doc FROM items_fts_vocab")
    for table in ("item_departments", "item_deadlines"):
        db.execute(f"ALTER TABLE {table} ADD COLUMN region TEXT")
        db.execute(f"UPDATE {table} SET region = (SELECT coalesce(region, '国家') FROM items WHERE items.id = item_id)")
    db.table("item_departments").create_index(["name", "region"])
    db.table("item_departments").create_index(["core", "region"])
    db.table("item_deadlines").create_index(["region", "due"])


def _m012_department_indexes(db: sqlite_utils.Database) -> None:
    # Five indexes on item_departments became two: (core), (core, role) and (core, region) are each
    # a prefix of (core, region, role), and (name, role), (name, region) of (name, region, role) — a
    # lookup by name and role reads the role in the index. Every department row an import adds went
    # into each index at its own page: at commit the five wrote ~260 of a document's ~450 pages.
    for name in ("core", "core_role", "core_region", "name_role", "name_region"):
        db.execute(f"DROP INDEX IF EXISTS idx_item_departments_{name}")
    db.table("item_departments").create_index(["name", "region", "role"])
    db.table("item_departments").create_index(["core", "region", "role"])


def _m013_deadline_text_index(db: sqlite_utils.Database) -> None:
    # A list by a deadline's phrase (7月底前要完成哪些任务) tested every deadline's text with instr —
    # a scan of them all: 230 ms at 1M items for a rare phrase. The texts the phrase is in are found
    # among the distinct texts (few: documents repeat their clauses' times) and then looked up here,
    # with the region; a list's walk reads a deadline's text from its item_id index, not its row.
    db.execute("DROP INDEX IF EXISTS idx_item_deadlines_item_id")
    db.table("item_deadlines").create_index(["item_id", "text"])
    db.table("item_deadlines").create_index(["text", "region"])
    for index in ("idx_item_deadlines_item_id_text", "idx_item_deadlines_text_region"):
        db.execute(f"ANALYZE {index}")  # the planner's statistics at once, not after the next import


def _m014_covering_list_indexes(db: sqlite_utils.Database) -> None:
    # A list that starts from a department's matches reads, for each, its item's status, document and
    # place and the document's date: from narrow indexes, not from the wide rows (items hold their texts).
    # At 1M items a department with 7,000 items listed in 13 ms instead of 26.
    for column in ("core", "name"):
        db.execute(f"DROP INDEX IF EXISTS idx_item_departments_{column}_region_role")
        db.table("item_departments").create_index([column, "region", "role", "item_id"])
    db.table("items").create_index(["id", "status", "doc_id", "seq"])
    db.table("documents").create_index(["doc_id", "date"])
    for index in ("idx_item_departments_core_region_role_item_id", "idx_item_departments_name_region_role_item_id",
                  "idx_items_id_status_doc_id_seq", "idx_documents_doc_id_date"):
        db.execute(f"ANALYZE {index}")


def _m015_own_search_index(db: sqlite_utils.Database) -> None:
    # The search index is our own (knowledge/postings.py), FTS5 no longer: each token's postings as
    # packed arrays, a segment per write, which a question scores in C (FTS5's bm25() took ~1.3 µs a
    # matching row); stale marks mask the entries of items removed or indexed again until a merge,
    # and the tokens a write touched wait for it. Items' normalised texts stay beside them. The store
    # fills them all: a new index version rebuilds the index (KnowledgeStore._ensure_index).
    db.execute("CREATE TABLE postings (term TEXT NOT NULL, segment INTEGER NOT NULL, entries BLOB NOT NULL,"
               " PRIMARY KEY (term, segment))")
    db.execute("CREATE TABLE postings_stale (item_id INTEGER PRIMARY KEY, segment INTEGER NOT NULL)")
    db.execute("CREATE TABLE postings_merge (term TEXT PRIMARY KEY) WITHOUT ROWID")
    db.execute("CREATE TABLE item_texts (item_id INTEGER PRIMARY KEY, norm_text TEXT NOT NULL,"
               " norm_context TEXT NOT NULL)")
    db.execute("ALTER TABLE knowledge_counts ADD COLUMN postings_segment INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE knowledge_counts ADD COLUMN index_tokens INTEGER NOT NULL DEFAULT 0")
    db.execute("DROP TABLE IF EXISTS items_fts_vocab")
    db.execute("DROP TABLE IF EXISTS items_fts")


MIGRATIONS: list[tuple[str, Migration]] = [
    ("001_knowledge_base", _m001_knowledge_base),
    ("002_settings", _m002_settings),
    ("003_questions", _m003_questions),
    ("004_search_texts_in_index", _m004_search_texts_in_index),
    ("005_department_lookup_indexes", _m005_department_lookup_indexes),
    ("006_reminders", _m006_reminders),
    ("007_documents_by_date", _m007_documents_by_date),
    ("008_knowledge_generation", _m008_knowledge_generation),
    ("009_responsible_departments", _m009_responsible_departments),
    ("010_active_item_count", _m010_active_item_count),
    ("011_search_lookups", _m011_search_lookups),
    ("012_department_indexes", _m012_department_indexes),
    ("013_deadline_text_index", _m013_deadline_text_index),
    ("014_covering_list_indexes", _m014_covering_list_indexes),
    ("015_own_search_index", _m015_own_search_index),
]


def migrate(db: Any) -> list[str]:
    """Apply the migrations this database has not seen; returns their names. `db` is a sqlite-utils
    Database or the store's per-thread view of one, whose atomic() takes the write lock up front."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'").fetchone():
        db.table("_migrations").create({"name": str, "applied_at": str}, pk="name", if_not_exists=True)
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    applied = []
    for name, migration in MIGRATIONS:
        if name in done:
            continue
        with db.atomic():
            # another process may have applied it since: checked again under the write lock
            if db.execute("SELECT 1 FROM _migrations WHERE name = ?", [name]).fetchone():
                continue
            migration(db)
            db.table("_migrations").insert({"name": name, "applied_at": datetime.now(UTC).isoformat()})
        applied.append(name)
    return applied
