"""What a cold start puts off: sqlite-utils until a statement needs it, patterns until their first use."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from knowledge.database import Database, prepare
from knowledge.lazyre import lazy_compile


def test_reads_need_no_sqlite_utils_and_writes_behave_as_through_it(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    db = Database(prepare(sqlite3.connect(path)))
    assert db.conn.execute("PRAGMA recursive_triggers").fetchone() == (1,)  # as sqlite_utils.Database sets it
    db.conn.execute("CREATE TABLE t (a INTEGER)")
    assert db.execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert db.execute("WITH x AS (SELECT 1) SELECT * FROM x").fetchall() == [(1,)]
    assert db._full is None
    db.execute("INSERT INTO t (a) VALUES (?)", [1])  # sqlite-utils commits the transaction Python opened
    assert db._full is not None and not db.conn.in_transaction
    assert sqlite3.connect(path).execute("SELECT a FROM t").fetchall() == [(1,)]
    assert db.table_names() == ["t"]


def test_a_lazy_pattern_compiles_at_first_use_and_then_is_the_pattern(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    compiled: list[str] = []
    real = re.compile
    monkeypatch.setattr(re, "compile", lambda p, flags=0: compiled.append(p) or real(p, flags))
    lazy = lazy_compile(r"(?P<n>\d+)年")
    assert compiled == []
    assert lazy.search("到2030年")["n"] == "2030"
    assert lazy.sub("X", "2025年和2030年") == "X和X"
    assert [m.span() for m in lazy.finditer("2025年和2030年")] == [(0, 5), (6, 11)]
    assert lazy.groupindex == {"n": 1} and lazy.pattern == r"(?P<n>\d+)年"
    assert compiled == [r"(?P<n>\d+)年"]
