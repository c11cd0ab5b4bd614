"""A multi-document import writes several documents per transaction, each in a savepoint of its own,
and their search-index rows at the end (`write_batches`): the knowledge base is what one transaction
per document gives, and a document that fails leaves nothing of itself behind."""

from __future__ import annotations

import sqlite3
from contextlib import nullcontext
from pathlib import Path

import pytest
from index_checks import live_postings, text_rows
from test_importer import DOC_V1, _index_rows_match_items, snapshot
from test_search_lookups import assert_lookups_exact

import knowledge.importer as importer
from knowledge.documents import DocumentError
from knowledge.importer import ImportReport, import_text, prepare, prepare_indexed, write_batches
from knowledge.store import KnowledgeStore

NEW_VERSION = DOC_V1.replace("达到5万个", "达到6万个").replace("三、加强安全监管。（省市场监管局负责，年内持续推进）\n", "")
DOCUMENTS = [
    (DOC_V1, "notice.txt"),
    (DOC_V1.replace("充电", "储能"), "storage.txt"),
    ("", "empty.txt"),  # refused: no items
    (NEW_VERSION, "notice.txt"),  # a new version of the first, in the same transaction
    (DOC_V1.replace("充电", "储能"), "copy.txt"),  # the second under another name: unchanged
    (DOC_V1.replace("充电", "氢能"), "hydrogen.txt"),
]


def batched(store: KnowledgeStore, documents: list[tuple[str, str]]) -> list[ImportReport | DocumentError]:
    """`import_texts` without its worker process: each document prepared (with its index rows) here."""
    def write(job: tuple[str, str]) -> ImportReport | DocumentError:
        try:
            doc, items, ahead = prepare_indexed(prepare, *job)
        except DocumentError as e:
            return e
        return importer.apply_import(store, doc, items, actor="admin:1", ahead=ahead)

    return list(write_batches(store, documents, write))


def summaries(results: list) -> list[str]:
    return [r.summary() if isinstance(r, ImportReport) else type(r).__name__ for r in results]


def index_rows(store: KnowledgeStore) -> tuple:
    return text_rows(store), live_postings(store)


@pytest.mark.parametrize("per_transaction", [100, 2])
def test_documents_written_together_give_what_one_at_a_time_gives(tmp_path: Path, monkeypatch, per_transaction):
    one = KnowledgeStore(tmp_path / "one.sqlite")
    alone = []
    for text, source in DOCUMENTS:
        try:
            alone.append(import_text(one, text, source, actor="admin:1"))
        except DocumentError as e:
            alone.append(e)
    monkeypatch.setattr(importer, "WRITE_BATCH", per_transaction)
    many = KnowledgeStore(tmp_path / "many.sqlite")
    together = batched(many, DOCUMENTS)
    assert summaries(together) == summaries(alone)
    assert snapshot(many) == snapshot(one) and index_rows(many) == index_rows(one)
    assert [r.status for r in together if isinstance(r, ImportReport)] == ["new", "new", "updated", "unchanged", "new"]
    _index_rows_match_items(many)
    assert_lookups_exact(many)


def _import_until_the_disk_is_full(store: KnowledgeStore, documents: list[tuple[str, str]]) -> list:
    """Import the documents in one batch; writing a department 省氢能办 fails as a full disk would.
    The reports given before the error."""
    store.db.execute("CREATE TEMP TRIGGER disk_full BEFORE INSERT ON item_departments WHEN NEW.name = '省氢能办'"
                     " BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    results: list = []
    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        for result in write_batches(store, documents, lambda job: import_text(store, *job, actor="admin:1")):
            results.append(result)
    return results


def test_a_document_that_fails_leaves_nothing_and_those_before_it_stay(store: KnowledgeStore):
    documents = [DOCUMENTS[0], (DOC_V1.replace("省能源局", "省氢能办"), "fails.txt"), DOCUMENTS[5]]
    results = _import_until_the_disk_is_full(store, documents)
    assert [r.status for r in results] == ["new"]  # the first, committed before the error is raised
    assert [d.title for d in store.documents()] == ["关于推进充电设施建设的通知"]
    assert sorted(i.id for i in store.all_items()) == results[0].added
    assert store.db.execute("SELECT count(*) FROM changes").fetchone()[0] == 1
    _index_rows_match_items(store)
    assert_lookups_exact(store)


def test_a_new_version_that_fails_leaves_the_index_of_the_version_before(store: KnowledgeStore):
    """A new version of a document of the same transaction removes the rows of the one before, then
    fails: the index is that of the first version, postings and all."""
    documents = [DOCUMENTS[0], (DOC_V1.replace("（省市场监管局负责", "（省氢能办负责"), "notice.txt")]
    results = _import_until_the_disk_is_full(store, documents)
    assert [r.status for r in results] == ["new"]
    assert [row[0] for row in text_rows(store)] == results[0].added
    _index_rows_match_items(store)
    assert_lookups_exact(store)


def test_an_error_that_is_a_result_lets_the_others_of_its_transaction_go_on(store: KnowledgeStore):
    def write(job: tuple[str, str]) -> ImportReport | str:
        try:
            if job[1] == "fails.txt":
                with store.transaction():  # half-written, then refused
                    import_text(store, DOC_V1.replace("充电", "光伏"), "fails.txt", actor="admin:1")
                    raise ValueError("refused")
            return import_text(store, *job, actor="admin:1")
        except ValueError as e:
            return str(e)

    results = list(write_batches(store, [DOCUMENTS[0], ("", "fails.txt"), DOCUMENTS[5]], write))
    assert [r if isinstance(r, str) else r.status for r in results] == ["new", "refused", "new"]
    assert sorted(i.id for i in store.all_items()) == [*results[0].added, *results[2].added]
    _index_rows_match_items(store)
    assert_lookups_exact(store)


def segments(store: KnowledgeStore) -> int:
    return store.db.execute("SELECT count(DISTINCT segment) FROM postings").fetchone()[0]


def test_the_next_documents_are_taken_between_transactions(store: KnowledgeStore, monkeypatch):
    """Taking a job may wait for the worker process (a large PDF): never with the write lock held."""
    monkeypatch.setattr(importer, "WRITE_BATCH", 2)
    taken: list[bool] = []

    def jobs():
        for job in (DOCUMENTS[0], DOCUMENTS[1], DOCUMENTS[5]):
            taken.append(store.db.conn.in_transaction)
            yield job

    results = list(write_batches(store, jobs(), lambda job: import_text(store, *job, actor="admin:1")))
    assert [r.status for r in results] == ["new"] * 3 and taken == [False] * 3
    assert segments(store) == 2  # two transactions: two documents, then one


def test_a_transaction_ends_once_its_time_is_up(store: KnowledgeStore, monkeypatch):
    documents = [DOCUMENTS[0], DOCUMENTS[1], DOCUMENTS[5]]
    batched(store, documents)
    assert segments(store) == 1  # one transaction, one segment of the index
    other = KnowledgeStore(store.path + ".other")
    monkeypatch.setattr(importer, "WRITE_BATCH_SECONDS", 0)  # each transaction: its first document only
    batched(other, documents)
    assert segments(other) == 3 and index_rows(other) == index_rows(store)
    other.close()


def bulk_settings(store: KnowledgeStore) -> int:
    return store.db.execute("PRAGMA temp_store").fetchone()[0]


@pytest.mark.parametrize("fails", [False, True])
def test_a_bulk_import_puts_its_settings_back(store: KnowledgeStore, fails: bool):
    before = bulk_settings(store)
    during: list[tuple] = []

    def write(job: tuple[str, str]) -> ImportReport:
        during.append(bulk_settings(store))
        if fails:
            raise RuntimeError("disk full")
        return import_text(store, *job, actor="admin:1")

    with pytest.raises(RuntimeError) if fails else nullcontext():
        list(write_batches(store, [DOCUMENTS[0]], write))
    assert during == [2]  # savepoint journals in memory
    assert bulk_settings(store) == before == 0
