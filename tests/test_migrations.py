"""Migration 009: stored items that named no lead no longer claim one."""

import json
import sqlite3

import sqlite_utils

from knowledge import migrations
from knowledge.store import KnowledgeStore

OLD_ITEMS = [
    # (clause, region, lead stored by earlier versions, support stored by earlier versions)
    ("（国家发展改革委、财政部、住房城乡建设部等按职责分工负责，12月底前完成）", "国家",
     ["国家发展改革委"], ["财政部", "住房城乡建设部"]),
    ("（人民银行牵头，生态环境部等按职责分工负责）", "国家", ["人民银行"], ["生态环境部"]),
    ("", "国家", [], []),
]


def _old_database(path) -> None:
    """A database as the version before migration 009 left it, with items of every kind."""
    db = sqlite_utils.Database(sqlite3.connect(path))
    db.table("_migrations").create({"name": str, "applied_at": str}, pk="name")
    for name, migration in migrations.MIGRATIONS:
        if name.startswith("009"):
            continue
        migration(db)
        db.table("_migrations").insert({"name": name, "applied_at": "2026-01-01"})
    db.table("documents").insert({"doc_id": "d1", "source": "a.txt", "title": "某方案", "region": "国家"})
    for seq, (clause, region, lead, support) in enumerate(OLD_ITEMS):
        db.table("items").insert({"doc_id": "d1", "seq": seq, "text": f"条目{seq}。", "source_text": f"条目{seq}。",
                                  "kind": "task", "section": "", "region": region, "deadlines": "[]",
                                  "lead": json.dumps(lead, ensure_ascii=False),
                                  "support": json.dumps(support, ensure_ascii=False), "targets": "[]",
                                  "clause": clause, "status": "active", "progress": "", "edited": 0})
    db.conn.commit()
    db.conn.close()


def test_stored_items_keep_only_the_leads_their_text_states(tmp_path):
    path = tmp_path / "old.db"
    _old_database(path)
    store = KnowledgeStore(path)
    try:
        items = sorted(store.items_of_document("d1"), key=lambda i: i.seq)
        shared, led, bare = (i.departments for i in items)
        assert (shared.lead, shared.support) == ((), ())
        assert shared.responsible == ("国家发展改革委", "财政部", "住房城乡建设部")
        assert (led.lead, led.support, led.responsible) == (("人民银行",), ("生态环境部",), ())
        assert not bare
        roles = dict(store.db.execute("SELECT name, role FROM item_departments WHERE item_id = ?",
                                      [items[0].id]).fetchall())
        assert roles == {"国家发展改革委": "responsible", "财政部": "responsible", "住房城乡建设部": "responsible"}
    finally:
        store.close()
