"""A store connection that loads sqlite-utils only when a statement needs it.

Importing sqlite-utils costs a cold `policybot ask` more than answering does. A read (`SELECT …`,
`WITH …`) goes straight to the connection — for it sqlite-utils' `execute` does nothing more — and
everything else (writes, `query`, `table`, `atomic`, …) to a sqlite-utils Database over the same
connection, made on first use. The connection gets what that Database would set on it (`recursive_triggers`)
when it is opened, so the two behave the same whichever is made first.
"""

from __future__ import annotations

import re
import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite_utils

# Python's sqlite3 opens a transaction before INSERT, UPDATE, DELETE and REPLACE only: before these
# none is opened, and sqlite-utils' `execute` does nothing more than the connection's.
_READ = re.compile(r"\s*(?:SELECT|WITH)\b", re.IGNORECASE)


def prepare(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Set on a new connection what sqlite_utils.Database sets when it is made over one."""
    conn.execute("PRAGMA recursive_triggers = ON")
    return conn


class Database:
    """`sqlite_utils.Database(conn)`'s interface; reads need no sqlite-utils."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._full: sqlite_utils.Database | None = None

    @property
    def full(self) -> sqlite_utils.Database:
        """The sqlite-utils Database over this connection (imports sqlite-utils the first time)."""
        if self._full is None:
            import sqlite_utils

            # ours only: no scan of every installed package for plugins
            self._full = sqlite_utils.Database(self.conn, execute_plugins=False)
        return self._full

    def execute(self, sql: str, parameters: Any = None) -> sqlite3.Cursor:
        if _is_read(sql):
            return self.conn.execute(sql) if parameters is None else self.conn.execute(sql, parameters)
        return self.full.execute(sql, parameters)

    def enable_wal(self) -> None:
        if self.conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            self.full.enable_wal()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # (never reached for the attributes set in __init__)
            raise AttributeError(name)
        return getattr(self.full, name)

    def __getitem__(self, table: str) -> Any:
        return self.full[table]


def _is_read(sql: str) -> bool:
    return _READ.match(sql) is not None
