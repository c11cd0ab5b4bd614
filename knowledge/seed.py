"""The bundled seed corpus: five real policy documents and a manifest of what their files lack."""

from __future__ import annotations

import tomllib
from importlib import resources

from knowledge.documents import parse_date
from knowledge.importer import DocumentOverrides, ImportReport, import_text
from knowledge.store import KnowledgeStore

CORPUS_PACKAGE = "knowledge.corpus"


def bundled_documents() -> list[tuple[str, str, DocumentOverrides]]:
    """(file name, text, manifest overrides) for each bundled document, in manifest order."""
    corpus = resources.files(CORPUS_PACKAGE)
    manifest = tomllib.loads(corpus.joinpath("manifest.toml").read_text(encoding="utf-8"))
    out = []
    for entry in manifest["document"]:
        overrides = DocumentOverrides(
            title=entry.get("title"),
            date=parse_date(entry.get("date")),
            region=entry.get("region"),
            issuer=entry.get("issuer"),
            doc_number=entry.get("doc_number", ""),
            url=entry.get("url"),
        )
        text = corpus.joinpath(entry["file"]).read_text(encoding="utf-8")
        out.append((entry["file"], text, overrides))
    return out


def seed(store: KnowledgeStore) -> list[ImportReport]:
    """Import every bundled document; unchanged ones are left alone, so this is cheap to repeat."""
    return [import_text(store, text, f"bundled:{name}", overrides, actor="seed")
            for name, text, overrides in bundled_documents()]


def ensure_seeded(store: KnowledgeStore) -> list[ImportReport]:
    """Seed a knowledge base that has never been seeded; later admin changes are never undone."""
    seeded = store.db.execute("SELECT count(*) FROM changes WHERE actor = 'seed'").fetchone()[0]
    if seeded:
        return []
    return seed(store)
