"""The bundled seed corpus: five real policy documents and a manifest of what their files lack."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.versions import EXTRACTOR_VERSION

if TYPE_CHECKING:  # the importer is loaded only when there is something to import (not at every start)
    from importlib.resources.abc import Traversable

    from knowledge.importer import DocumentOverrides, ImportReport
    from knowledge.store import KnowledgeStore

CORPUS_PACKAGE = "knowledge.corpus"


def _corpus() -> Traversable:
    """The bundled files: their folder as installed, else (a zipped install) through importlib.resources,
    which every start would pay to import only to find that folder."""
    folder = Path(__file__).with_name("corpus")
    if folder.is_dir():
        return folder
    from importlib import resources

    return resources.files(CORPUS_PACKAGE)


def bundled_documents() -> list[tuple[str, str, DocumentOverrides]]:
    """(file name, text, manifest overrides) for each bundled document, in manifest order."""
    import tomllib

    from knowledge.documents import parse_date
    from knowledge.importer import DocumentOverrides

    corpus = _corpus()
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
    from knowledge.importer import import_text

    return [import_text(store, text, f"bundled:{name}", overrides, actor="seed")
            for name, text, overrides in bundled_documents()]


def bundle_version() -> str:
    """A hash of the bundled files, the manifest and the extractor: it changes when any of them does."""
    corpus = _corpus()
    digest = hashlib.sha256(EXTRACTOR_VERSION.encode())
    for name in sorted(p.name for p in corpus.iterdir() if p.name.endswith((".txt", ".toml"))):
        digest.update(name.encode() + corpus.joinpath(name).read_bytes())
    return digest.hexdigest()[:16]


def ensure_seeded(store: KnowledgeStore) -> list[ImportReport]:
    """Bring the bundled documents up to date when this install's bundle differs from the database's.

    Cheap when nothing changed (a hash of the files); otherwise a normal re-import, which keeps item
    ids, and never undoes an admin's edit or deletion.
    """
    version = bundle_version()
    if store.get_setting("bundle_version") == version:
        return []
    reports = seed(store)
    store.set_setting("bundle_version", version)
    store.optimize()
    return reports
