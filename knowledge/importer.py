"""Import a document into the knowledge base: one transaction per document.

Re-importing an unchanged document adds nothing; a changed version keeps the ids of unchanged items,
updates items whose text changed a little (the old version stays in the change log), retires items
that are gone, and never overwrites an admin's manual edit: that is reported as a conflict. A
document is found again whatever its file is called: by its 文号, its title + issuer + date, or its
normalised text. Each import is one entry in the change log, which `curation.undo_last` reverts.
"""

from __future__ import annotations

import hashlib
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from rapidfuzz import fuzz, process

from knowledge.curation import MANUAL_DOC_ID, has_words
from knowledge.documents import DocumentError, RawDocument, parse_document, title_year
from knowledge.extract import extract_items
from knowledge.formats import MAX_FILE_BYTES, MAX_LINES, SUPPORTED_SUFFIXES, file_text, too_many_lines
from knowledge.models import Document, Item
from knowledge.normalize import nfkc
from knowledge.references import DOC_NUMBER
from knowledge.regions import canonical_region, document_region
from knowledge.store import IndexRows, KnowledgeStore, index_rows
from knowledge.versions import EXTRACTOR_VERSION  # bump it there: seeding checks it without importing this

SIMILAR_ENOUGH = 80  # rapidfuzz ratio above which a changed sentence counts as the same item
# Caps past which a document is refused with a clear message rather than turned into junk:
MAX_LINE_CHARS = 50_000  # one line (paragraph) of text
MAX_ITEM_CHARS = 2_000  # one item: longer means the sentence lost its punctuation (e.g. a bad PDF)
MAX_ITEMS_PER_DOCUMENT = 5_000
PREPARE_BATCH = 8  # documents a multi-document import sends its worker process at once
# A multi-document import writes several documents per transaction, each in a savepoint of its own:
# up to this many, or until this long has passed (the write lock is held meanwhile; readers go on).
# Each transaction adds a segment of postings to every token it indexes, to read and merge later, and
# costs a commit: at 100k items, 96 documents or 2 s a transaction imported 10% faster than 48 or 1 s;
# at 1M, 192 or 4 s 19% faster than 96 or 2 s (2,066 -> 2,464 items/s, the merge 46 -> 32 s). Another
# process's write (a running bot's chat change) may wait that long; WRITE_AHEAD grows with it.
WRITE_BATCH = 192
WRITE_BATCH_SECONDS = 4.0
# The worker process's batches in flight (of PREPARE_BATCH documents) meanwhile: while a transaction
# is written, the documents of the next are extracted.
WRITE_AHEAD = WRITE_BATCH // PREPARE_BATCH + 2
AHEAD_FROM = 16  # files from which `policybot import` extracts them in a worker process (it takes ~1 s to start)
T = TypeVar("T")
R = TypeVar("R")

@dataclass
class DocumentOverrides:
    title: str | None = None
    date: date | None = None
    region: str | None = None
    issuer: str | None = None
    doc_number: str | None = None
    url: str | None = None


@dataclass
class ImportReport:
    doc_id: str
    title: str
    status: str  # new | unchanged | updated
    added: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    retired: list[int] = field(default_factory=list)
    kept: int = 0
    conflicts: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.status == "unchanged":
            return f"《{self.title}》没有变化，未做任何修改（{self.kept} 条）。"
        parts = [f"新增 {len(self.added)} 条"]
        if self.status == "updated":
            parts += [f"更新 {len(self.updated)} 条", f"停用 {len(self.retired)} 条", f"保留 {self.kept} 条"]
        text = f"《{self.title}》已导入：" + "，".join(parts) + "。"
        if self.conflicts:
            text += "\n冲突（保留了管理员的修改）：\n" + "\n".join(self.conflicts)
        return text


def read_file(path: Path) -> str:
    """A document file's text, or a DocumentError saying why it cannot be imported."""
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise DocumentError(f"不支持的文件类型 {path.suffix}（支持 .txt .md .html .docx .pdf）")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise DocumentError(f"文件太大（{size // 1024} KB），上限 {MAX_FILE_BYTES // 1024 // 1024} MB")
    return file_text(path.read_bytes(), path.name)


def document_id(source: str, doc_number: str, title: str) -> str:
    """Stable identity: the source name plus the 文号 (or the title when there is none)."""
    key = f"{source}|{doc_number or title}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def _fingerprint(text: str, doc: Document) -> str:
    meta = "|".join([doc.title, doc.issuer, doc.doc_number, str(doc.date), doc.region, EXTRACTOR_VERSION])
    return hashlib.sha256((meta + "\n" + text).encode("utf-8")).hexdigest()


def describe_document(raw: RawDocument, source: str, overrides: DocumentOverrides) -> Document:
    title = overrides.title or raw.title or Path(source).stem
    region = (canonical_region(overrides.region) if overrides.region else None) or overrides.region
    if not region:
        region = document_region(title, raw.issuer, raw.opening())
    doc_number = overrides.doc_number
    if doc_number is None:
        m = DOC_NUMBER.search(raw.doc_number) or DOC_NUMBER.search(title) or next(
            (m for b in raw.blocks[:3] if len(b.text) <= 40 and (m := DOC_NUMBER.search(b.text))), None
        )
        doc_number = m.group(0) if m else ""
    return Document(
        doc_id=document_id(Path(source).name if "://" not in source else source, doc_number, title),
        source=source,
        title=title,
        issuer=overrides.issuer or raw.issuer,
        doc_number=doc_number,
        date=overrides.date or raw.date,
        region=region,
        url=overrides.url or raw.url,
    )


def prepare(text: str, source: str, overrides: DocumentOverrides | None = None) -> tuple[Document, list[Item]]:
    """Parse and extract without touching the store (also used for import previews)."""
    overrides = overrides or DocumentOverrides()
    _check_lines(text)
    raw = parse_document(text)
    doc = describe_document(raw, source, overrides)
    doc.fingerprint = _fingerprint(text, doc)
    items = extract_items(raw.blocks, region=doc.region, doc_year=doc.date.year if doc.date else title_year(doc.title))
    items = [i for i in items if has_words(i.text)]
    if not items:
        raise DocumentError("没有从文档中找到任何条目")
    if len(items) > MAX_ITEMS_PER_DOCUMENT:
        raise DocumentError(f"从文档中识别出 {len(items)} 条，超过每份文件 {MAX_ITEMS_PER_DOCUMENT} 条的上限，"
                            "不像一份政策文件，未导入（可拆分后分别导入）")
    if too_long := next((i for i in items if len(i.text) > MAX_ITEM_CHARS), None):
        raise DocumentError(f"有一句话长达 {len(too_long.text)} 字（上限 {MAX_ITEM_CHARS} 字），像是丢了标点"
                            f"（如 PDF 转换有误），请检查文件：「{_clip(too_long.text, 30)}」")
    for item in items:
        item.doc_id = doc.doc_id
    return doc, items


def prepare_file(data: bytes, filename: str, overrides: DocumentOverrides | None = None,
                 source: str = "") -> tuple[Document, list[Item]]:
    """An uploaded file's bytes to its document and items in one go (for `StoreWorker.offload`);
    `source` is where it came from (a URL), the file name by default."""
    return prepare(file_text(data, filename), source or filename, overrides)


def _check_lines(text: str) -> None:
    """Refuse text of countless lines or a monster line before any extraction is spent on it."""
    lines = 0
    for line in text.splitlines():
        if len(line) > MAX_LINE_CHARS:
            raise DocumentError(f"文档中有一行长达 {len(line)} 字（上限 {MAX_LINE_CHARS} 字），未导入")
        if line.strip():
            lines += 1
            if lines > MAX_LINES:
                raise too_many_lines()


def prepare_path(path: Path, overrides: DocumentOverrides | None = None) -> tuple[Document, list[Item]]:
    """A document file read, parsed and extracted (`prepare`), without touching the store."""
    return prepare(read_file(path), str(path.name), overrides)


def prepared_ahead(fn: Callable[..., T], calls: Iterable[tuple], *, batch: int = PREPARE_BATCH,
                   in_flight: int = 2) -> Iterator[Future[T]]:
    """`fn(*args)` for each of `calls`, in order, computed in a worker process ahead of the caller:
    an import extracts the next documents on the other core while it writes these (parsing and
    extraction are pure). Each result, or the error it raised, comes as a done future. Calls go
    in batches, `in_flight` of them at a time: each message between the processes costs the
    caller's thread a wait for the interpreter lock. The process starts with the first call and
    ends with the last."""
    from knowledge.processes import worker_pool

    calls = iter(calls)
    pool = worker_pool()

    def submit() -> Future[list[tuple[bool, Any]]] | None:
        chunk = list(islice(calls, batch))
        return pool.submit(_each, fn, chunk) if chunk else None

    try:
        pending = deque(f for f in (submit() for _ in range(in_flight)) if f is not None)
        while pending:
            done = pending.popleft().result()
            if (more := submit()) is not None:
                pending.append(more)
            yield from _futures(done)
    finally:  # (also when the caller stops early: what was not started yet is not started)
        pool.shutdown(wait=True, cancel_futures=True)


def _each(fn: Callable[..., T], calls: list[tuple]) -> list[tuple[bool, Any]]:
    """Each call's (True, result) or (False, the error it raised)."""
    out: list[tuple[bool, Any]] = []
    for args in calls:
        try:
            out.append((True, fn(*args)))
        except Exception as e:  # (raised again by its future's `result()`)
            out.append((False, e))
    return out


def _futures(outcomes: list[tuple[bool, Any]]) -> Iterator[Future]:
    for ok, value in outcomes:
        future: Future = Future()
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
        yield future


def prepared(fn: Callable[..., T], calls: list[tuple], *, in_flight: int = 2) -> Iterator[Future[T]]:
    """`prepared_ahead` when there are enough calls (AHEAD_FROM) to pay for starting a process;
    else each computed when its turn comes."""
    if len(calls) >= AHEAD_FROM:
        yield from prepared_ahead(fn, calls, in_flight=in_flight)
        return
    for args in calls:
        yield from _futures(_each(fn, [args]))


@dataclass
class Ahead:
    """What a bulk import computes in its worker process besides the items, so that its writer
    only writes: the items' index rows and the document's `text_key`."""

    rows: IndexRows
    text_key: str


def prepare_indexed(fn: Callable[..., tuple[Document, list[Item]]], *args: Any
                    ) -> tuple[Document, list[Item], Ahead]:
    """`fn(*args)` (`prepare`, `prepare_path`) and what writing its items needs (`Ahead`)."""
    doc, items = fn(*args)
    return doc, items, Ahead(index_rows(items, doc.title), text_key(items))


def write_batches(store: KnowledgeStore, jobs: Iterable[T], write: Callable[[T], R]) -> Iterator[R]:
    """`write(job)` for each job in order, several (WRITE_BATCH, for at most WRITE_BATCH_SECONDS) to
    a transaction, each result given once its transaction is committed. Each write is its own
    savepoint (`apply_import`'s transaction), so a document that fails leaves nothing, and the
    others of its transaction stay: when a write raises, those before it are committed, then the
    error is raised — as when each document has a transaction of its own. The next jobs are taken
    between transactions (taking one may wait for the worker process: never with the write lock
    held). The postings are written at the end of each transaction: one segment of the search
    index per transaction, not per document."""
    with store.bulk():
        yield from _write_batches(store, iter(jobs), write)


def _write_batches(store: KnowledgeStore, jobs: Iterator[T], write: Callable[[T], R]) -> Iterator[R]:
    waiting: deque[T] = deque()
    while True:
        waiting.extend(islice(jobs, WRITE_BATCH - len(waiting)))
        if not waiting:
            return
        done: list[R] = []
        error: BaseException | None = None
        until = time.monotonic() + WRITE_BATCH_SECONDS
        with store.transaction():
            while waiting and error is None and (not done or time.monotonic() < until):
                try:
                    done.append(write(waiting.popleft()))
                except BaseException as e:
                    error = e
                if not store.db.conn.in_transaction:  # SQLite undid the whole transaction (so rarely…)
                    raise error or RuntimeError("数据库事务意外中止，本批文件未导入")
        yield from done
        if error is not None:
            raise error


def import_texts(store: KnowledgeStore, documents: Iterable[tuple[str, str, DocumentOverrides | None]],
                 *, actor: str = "import") -> Iterator[ImportReport | DocumentError]:
    """Import (text, source, overrides) documents in order, each atomic, extracting the next ones
    meanwhile in a worker process (`prepared_ahead`) and writing several to a transaction
    (`write_batches`); a document that cannot be imported comes as its DocumentError."""
    def write(future: Future[tuple[Document, list[Item], Ahead]]) -> ImportReport | DocumentError:
        try:
            doc, items, ahead = future.result()
        except DocumentError as e:
            return e
        return apply_import(store, doc, items, actor=actor, ahead=ahead)

    extracted = prepared_ahead(prepare_indexed, ((prepare, *d) for d in documents), in_flight=WRITE_AHEAD)
    yield from write_batches(store, extracted, write)


def import_text(store: KnowledgeStore, text: str, source: str, overrides: DocumentOverrides | None = None,
                *, actor: str = "import") -> ImportReport:
    doc, items = prepare(text, source, overrides)
    return apply_import(store, doc, items, actor=actor)


def import_path(store: KnowledgeStore, path: Path, overrides: DocumentOverrides | None = None,
                *, actor: str = "import") -> ImportReport:
    return import_text(store, read_file(path), str(path.name), overrides, actor=actor)


def text_key(items: list[Item]) -> str:
    """The document's words, whatever their spacing, punctuation, width or invisible characters:
    the same text under another file name is the same document."""
    text = nfkc("\n".join(i.text for i in items)).lower()
    others = {ord(c): None for c in set(text) if unicodedata.category(c)[0] not in "LN"}  # each character once
    return hashlib.sha256(text.translate(others).encode("utf-8")).hexdigest()[:32]


def apply_import(store: KnowledgeStore, doc: Document, items: list[Item], *, actor: str,
                 ahead: Ahead | None = None) -> ImportReport:
    """Write a prepared document in one transaction (a savepoint inside another): one change in the
    change log, which `curation.undo_last` reverts (new items removed, changed ones restored, the
    document row as it was). `ahead`: what was computed ahead for it (`prepare_indexed`)."""
    key, rows = (ahead.text_key, ahead.rows) if ahead else (text_key(items), None)
    with store.transaction():
        existing = store.get_document(doc.doc_id)
        if existing is None and (same := store.same_document(doc, key, exclude=(MANUAL_DOC_ID,))):
            existing = same  # the same document under another file name: updated in place
            doc.doc_id = same.doc_id
            for item in items:
                item.doc_id = same.doc_id
        if existing and existing.fingerprint == doc.fingerprint:
            return ImportReport(doc.doc_id, doc.title, "unchanged", kept=len(store.items_of_document(doc.doc_id)))
        document_before = store.document_row(doc.doc_id)
        store.save_document(doc)
        store.set_text_key(doc.doc_id, key)
        if not existing:
            report = ImportReport(doc.doc_id, doc.title, "new", added=store.insert_items(items, actor=actor,
                                                                                         action="import", rows=rows))
            store.log(actor, "import_document", doc_id=doc.doc_id,
                      after={"title": doc.title, "items": len(items), "added": report.added, "changed": [],
                             "moved": {}, "document_before": None})
            return report
        report, moved = _apply_new_version(store, doc, items, actor, rows)
        store.log(actor, "update_document", doc_id=doc.doc_id,
                  after={"title": doc.title, "added": report.added, "updated": len(report.updated),
                         "retired": len(report.retired), "conflicts": len(report.conflicts),
                         "changed": [*report.updated, *report.retired], "moved": moved,
                         "document_before": document_before})
        return report


def _apply_new_version(store: KnowledgeStore, doc: Document, items: list[Item],
                       actor: str, rows: IndexRows | None) -> tuple[ImportReport, dict[str, int]]:
    """The report, and the items whose place moved: id -> their previous place (for undo)."""
    report = ImportReport(doc.doc_id, doc.title, "updated")
    moved: dict[str, int] = {}
    old_items = store.items_of_document(doc.doc_id, ("active", "deleted"))
    sources = store.source_texts([o.id for o in old_items if o.id is not None])
    old_by_source = {sources[o.id]: o for o in old_items if o.id is not None}

    def move(old: Item, seq: int) -> None:
        assert old.id is not None
        if old.seq != seq:
            moved[str(old.id)] = old.seq
            store.set_seq(old.id, seq)

    unmatched_new: list[Item] = []
    reextracted: list[Item] = []
    for item in items:
        old = old_by_source.pop(item.text, None)
        if old is None:
            unmatched_new.append(item)
            continue
        assert old.id is not None
        item.id = old.id
        if old.edited or old.status == "deleted":
            move(old, item.seq)  # an admin's edit or deletion stands; only its place follows
            report.kept += 1
        elif _content(old) != _content(item):  # same sentence, other fields (a deadline in its clause)
            item.progress, item.status = old.progress, old.status
            if old.seq != item.seq:
                moved[str(old.id)] = old.seq
            reextracted.append(item)
            report.updated.append(old.id)
        else:
            move(old, item.seq)
            report.kept += 1
    store.update_items(reextracted, actor=actor, action="reextract")
    paired: set[int] = set()
    added: list[Item] = []
    for new, old in _pair_similar(unmatched_new, list(old_by_source.values())):
        if old is None:
            added.append(new)
            continue
        assert old.id is not None
        paired.add(old.id)
        report.added += store.insert_items(added, actor=actor, action="import", rows=rows)  # in the order they come
        added = []
        if old.edited or old.status == "deleted":
            report.conflicts.append(f"#{old.id}：新版本为「{_clip(new.text)}」")
            store.log(actor, "conflict", item_id=old.id, doc_id=doc.doc_id, after={"text": new.text})
            continue
        new.id, new.progress = old.id, old.progress
        if old.seq != new.seq:
            moved[str(old.id)] = old.seq
        store.update_item(new, actor=actor, action="update", source_text=new.text)
        report.updated.append(old.id)
    report.added += store.insert_items(added, actor=actor, action="import", rows=rows)
    retired: list[Item] = []
    for old in old_by_source.values():
        if old.id in paired:
            continue
        if old.edited:
            report.conflicts.append(f"#{old.id}：新版本中已删除，保留了修改后的条目")
            continue
        if old.status == "deleted":
            continue
        assert old.id is not None
        old.status = "retired"
        retired.append(old)
        report.retired.append(old.id)
    store.update_items(retired, actor=actor, action="retire")
    return report, moved


def _pair_similar(new_items: list[Item], old_items: list[Item]) -> list[tuple[Item, Item | None]]:
    """Each new item with the most similar unclaimed old item (ratio ≥ SIMILAR_ENOUGH; the first
    of equals), else None. Compared in rapidfuzz's C loop, which skips hopeless lengths early:
    a new version of thousands of changed sentences costs seconds, not minutes, of the write lock."""
    pairs: list[tuple[Item, Item | None]] = []
    free = list(old_items)
    texts = [o.text for o in free]
    for new in new_items:
        best = process.extractOne(new.text, texts, scorer=fuzz.ratio, score_cutoff=SIMILAR_ENOUGH) if texts else None
        if best is None:
            pairs.append((new, None))
            continue
        index = best[2]
        pairs.append((new, free.pop(index)))
        texts.pop(index)
    return pairs


def _content(item: Item) -> tuple:
    return (item.text, item.kind, item.section, item.region, item.deadlines, item.departments, item.targets,
            item.clause)


def _clip(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
