"""Import a document into the knowledge base: one transaction per document.

Re-importing an unchanged document adds nothing; a changed version keeps the ids of unchanged items,
updates items whose text changed a little (the old version stays in the change log), retires items
that are gone, and never overwrites an admin's manual edit: that is reported as a conflict.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rapidfuzz import fuzz

from knowledge.documents import DocumentError, RawDocument, parse_document, title_year
from knowledge.extract import extract_items
from knowledge.formats import MAX_FILE_BYTES, SUPPORTED_SUFFIXES, file_text
from knowledge.models import Document, Item
from knowledge.references import DOC_NUMBER
from knowledge.regions import canonical_region, document_region
from knowledge.store import KnowledgeStore

# Bump when extraction changes, so stored documents are re-extracted on their next import.
EXTRACTOR_VERSION = "3"
SIMILAR_ENOUGH = 80  # rapidfuzz ratio above which a changed sentence counts as the same item

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
    raw = parse_document(text)
    doc = describe_document(raw, source, overrides)
    doc.fingerprint = _fingerprint(text, doc)
    items = extract_items(raw.blocks, region=doc.region, doc_year=doc.date.year if doc.date else title_year(doc.title))
    if not items:
        raise DocumentError("没有从文档中找到任何条目")
    for item in items:
        item.doc_id = doc.doc_id
    return doc, items


def import_text(store: KnowledgeStore, text: str, source: str, overrides: DocumentOverrides | None = None,
                *, actor: str = "import") -> ImportReport:
    doc, items = prepare(text, source, overrides)
    return apply_import(store, doc, items, actor=actor)


def import_path(store: KnowledgeStore, path: Path, overrides: DocumentOverrides | None = None,
                *, actor: str = "import") -> ImportReport:
    return import_text(store, read_file(path), str(path.name), overrides, actor=actor)


def apply_import(store: KnowledgeStore, doc: Document, items: list[Item], *, actor: str) -> ImportReport:
    """Write a prepared document in one transaction."""
    with store.transaction():
        existing = store.get_document(doc.doc_id)
        if existing and existing.fingerprint == doc.fingerprint:
            return ImportReport(doc.doc_id, doc.title, "unchanged", kept=len(store.items_of_document(doc.doc_id)))
        store.save_document(doc)
        if not existing:
            report = ImportReport(doc.doc_id, doc.title, "new")
            for item in items:
                report.added.append(store.insert_item(item, actor=actor, action="import"))
            store.log(actor, "import_document", doc_id=doc.doc_id, after={"title": doc.title, "items": len(items)})
            return report
        report = _apply_new_version(store, doc, items, actor)
        store.log(actor, "update_document", doc_id=doc.doc_id,
                  after={"title": doc.title, "added": len(report.added), "updated": len(report.updated),
                         "retired": len(report.retired), "conflicts": len(report.conflicts)})
        return report


def _apply_new_version(store: KnowledgeStore, doc: Document, items: list[Item], actor: str) -> ImportReport:
    report = ImportReport(doc.doc_id, doc.title, "updated")
    old_items = store.items_of_document(doc.doc_id, ("active", "deleted"))
    old_by_source = {store.source_text(o.id): o for o in old_items if o.id is not None}
    unmatched_new: list[Item] = []
    for item in items:
        old = old_by_source.pop(item.text, None)
        if old is None:
            unmatched_new.append(item)
            continue
        assert old.id is not None
        item.id = old.id
        report.kept += 1
        if old.edited or old.status == "deleted":
            store.set_seq(old.id, item.seq)  # an admin's edit or deletion stands; only its place follows
        elif _content(old) != _content(item):
            item.progress, item.status = old.progress, old.status
            store.update_item(item, actor=actor, action="reextract")
        else:
            store.set_seq(old.id, item.seq)
    paired: set[int] = set()
    for new, old in _pair_similar(unmatched_new, list(old_by_source.values())):
        if old is None:
            report.added.append(store.insert_item(new, actor=actor, action="import"))
            continue
        assert old.id is not None
        paired.add(old.id)
        if old.edited or old.status == "deleted":
            report.conflicts.append(f"#{old.id}：新版本为「{_clip(new.text)}」")
            store.log(actor, "conflict", item_id=old.id, doc_id=doc.doc_id, after={"text": new.text})
            continue
        new.id, new.progress = old.id, old.progress
        store.update_item(new, actor=actor, action="update", source_text=new.text)
        report.updated.append(old.id)
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
        store.update_item(old, actor=actor, action="retire")
        report.retired.append(old.id)
    return report


def _pair_similar(new_items: list[Item], old_items: list[Item]) -> list[tuple[Item, Item | None]]:
    """Each new item with the most similar unclaimed old item (ratio ≥ SIMILAR_ENOUGH), else None."""
    pairs: list[tuple[Item, Item | None]] = []
    free = list(old_items)
    for new in new_items:
        best = max(free, key=lambda o: fuzz.ratio(o.text, new.text), default=None)
        if best is not None and fuzz.ratio(best.text, new.text) >= SIMILAR_ENOUGH:
            free.remove(best)
            pairs.append((new, best))
        else:
            pairs.append((new, None))
    return pairs


def _content(item: Item) -> tuple:
    return (item.text, item.kind, item.section, item.region, item.deadlines, item.departments, item.targets,
            item.clause, item.seq)


def _clip(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
