"""Start-up: a question loads only what it needs, and nothing read at start grows with the knowledge base."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TODAY

from knowledge.base import KnowledgeBase
from knowledge.store import KnowledgeStore

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("jieba", "pypinyin", "pkg_resources", "knowledge.importer", "knowledge.documents", "knowledge.extract")


def test_a_cold_ask_loads_no_segmentation_package_nor_the_importer(db_path: Path, tmp_path: Path) -> None:
    KnowledgeBase.open(str(db_path)).close()  # the first run seeds (and imports): not this one
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{db_path}"\n', encoding="utf-8")
    script = ("import json, sys\nfrom bot.cli import main\n"
              f"code = main(['ask', '--json', '--today', '{TODAY}', '--config', {str(config)!r}, "
              "'碳减排支持工具什么时候出台，谁牵头？'])\n"
              f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\nsys.exit(code)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    answer, loaded = proc.stdout.splitlines()
    assert json.loads(answer)["confident"] and "人民银行" in json.loads(answer)["answer"]
    assert json.loads(loaded) == [], proc.stderr


def test_only_a_question_citing_a_document_reads_every_document(kb: KnowledgeBase, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    reads: list[int] = []
    every_document = kb.store.documents

    def counted() -> list:
        reads.append(1)
        return every_document()

    monkeypatch.setattr(kb.store, "documents", counted)
    assert kb.ask("能源领域有哪些任务", TODAY).hits  # a list: ranked by its documents' titles, read one by one
    assert reads == []
    assert kb.ask("非化石能源占能源消费比重要达到多少？", TODAY).confident
    assert reads == []
    answer = kb.ask("国发〔2021〕6号文里人民银行参与的工作", TODAY)
    assert answer.hits and reads == [1]


def _counted(store: KnowledgeStore) -> int:
    return store.db.execute("SELECT count(*) FROM items WHERE status = 'active'").fetchone()[0]


def test_the_active_item_count_is_kept_by_every_change(kb: KnowledgeBase) -> None:
    store = kb.store
    assert store.count_items() == _counted(store) > 300
    ids = [r[0] for r in store.db.execute("SELECT id FROM items WHERE status = 'active' LIMIT 3").fetchall()]
    with store.transaction():
        store.db.execute("UPDATE items SET status = 'deleted' WHERE id = ?", [ids[0]])
        store.db.execute("UPDATE items SET status = 'retired' WHERE id = ?", [ids[1]])
        store.db.execute("UPDATE items SET status = 'deleted' WHERE id = ?", [ids[1]])  # inactive to inactive
        store.db.execute("UPDATE items SET progress = 'done', status = 'active' WHERE id = ?", [ids[2]])  # unchanged
        for seq, status in ((9001, "active"), (9002, "deleted"), (9003, "active")):
            store.db.execute("INSERT INTO items (doc_id, seq, text, status) SELECT doc_id, ?, '新条目。', ?"
                             " FROM items WHERE id = ?", [seq, status, ids[2]])
        store.db.execute("DELETE FROM items WHERE seq IN (9002, 9003)")
        store.db.execute("UPDATE items SET status = 'active' WHERE id = ?", [ids[1]])
    assert store.count_items() == _counted(store)
    with pytest.raises(RuntimeError), store.transaction():
        store.db.execute("UPDATE items SET status = 'deleted' WHERE id = ?", [ids[2]])
        raise RuntimeError("rolled back")
    assert store.count_items() == _counted(store)
    assert store.count_items("deleted") == store.db.execute(
        "SELECT count(*) FROM items WHERE status = 'deleted'").fetchone()[0] >= 1


def test_the_migration_counts_the_items_already_there(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.executescript("""DROP TABLE knowledge_counts; DROP TRIGGER items_insert_count;
        DROP TRIGGER items_delete_count; DROP TRIGGER items_status_count;
        UPDATE items SET status = 'deleted' WHERE id IN (SELECT id FROM items LIMIT 5);
        DELETE FROM _migrations WHERE name = '010_active_item_count';""")
    conn.commit()
    conn.close()
    store = KnowledgeStore(db_path)
    try:
        assert store.count_items() == _counted(store) > 300
    finally:
        store.close()
