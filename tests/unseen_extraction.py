"""Measure extraction on the unseen-style set (tests/data/unseen, issue 13): import its five documents
into a fresh knowledge base holding the bundled seeds and check its 15 facts (due date, departments by
role, region). Used by tests/test_unseen_set.py; as a script it prints each fact and the score:

    .venv/bin/python tests/unseen_extraction.py [--db PATH] [--set tests/data/unseen2]

With --db the knowledge base is kept at PATH (seeded and imported once), so the set's questions can be
asked of it: `policybot ask --json -k 5 --config CFG` with `[storage] path = "PATH"` in CFG.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from knowledge.importer import import_path
from knowledge.models import Item
from knowledge.seed import seed
from knowledge.store import KnowledgeStore

UNSEEN = Path(__file__).parent / "data" / "unseen"


@dataclass
class FactResult:
    fact: dict
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def build_knowledge_base(path: Path, folder: Path = UNSEEN) -> dict[str, str]:
    """Seed a fresh knowledge base at `path` and import the set's documents; file name → doc id."""
    manifest = tomllib.loads((folder / "manifest.toml").read_text(encoding="utf-8"))
    store = KnowledgeStore(path)
    try:
        seed(store)
        return {d["file"]: import_path(store, folder / d["file"]).doc_id for d in manifest["document"]}
    finally:
        store.close()


def check_fact(fact: dict, items: list[Item], region: str) -> list[str]:
    """What is wrong with one fact on its document's items (empty when it holds)."""
    found = [i for i in items if fact["item_contains"] in i.text]
    if not found:
        return ["no item contains it"]
    item = found[0]
    problems = []
    due = item.deadline.due if item.deadline else None
    want_due = date.fromisoformat(fact["due"]) if fact["due"] else None
    if due != want_due:
        problems.append(f"due {due} ≠ {want_due}")
    for role in ("lead", "support", "responsible"):
        got = list(getattr(item.departments, role, ()))
        if got != fact[role]:
            problems.append(f"{role} {got} ≠ {fact[role]}")
    item_region = item.region or region
    if item_region != fact["region"]:
        problems.append(f"region {item_region} ≠ {fact['region']}")
    return problems


def measure(path: Path, folder: Path = UNSEEN) -> list[FactResult]:
    """Build the knowledge base at `path` and check every fact of the set's extraction.jsonl."""
    doc_ids = build_knowledge_base(path, folder)
    facts = [json.loads(line) for line in (folder / "extraction.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    store = KnowledgeStore(path)
    try:
        results = []
        for fact in facts:
            doc_id = doc_ids[fact["file"]]
            doc = store.get_document(doc_id)
            items = store.items_of_document(doc_id)
            results.append(FactResult(fact, check_fact(fact, items, doc.region if doc else "")))
        return results
    finally:
        store.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="keep the knowledge base here (must not exist yet)")
    ap.add_argument("--set", type=Path, default=UNSEEN, help="the set's folder (default: tests/data/unseen)")
    a = ap.parse_args()
    if a.db and a.db.exists():
        ap.error(f"{a.db} exists; give a new path")
    with tempfile.TemporaryDirectory() as tmp:
        results = measure(a.db or Path(tmp) / "unseen.db", a.set)
    for r in results:
        mark = "ok  " if r.ok else "MISS"
        print(f"{mark} {r.fact['file']}: {r.fact['item_contains']}" + ("" if r.ok else " — " + "; ".join(r.problems)))
    print(f"extraction: {sum(r.ok for r in results)}/{len(results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
