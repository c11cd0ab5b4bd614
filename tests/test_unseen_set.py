"""The unseen-style evaluation set (tests/data/unseen, issue 13), measured by tests/unseen_extraction.py."""

from pathlib import Path

from unseen_extraction import measure


def test_unseen_set_every_fact_found(tmp_path: Path):
    results = measure(tmp_path / "unseen.db")
    assert len(results) == 15
    assert sum(r.ok for r in results) >= 14, [(r.fact["item_contains"], r.problems) for r in results if not r.ok]
