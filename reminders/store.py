"""Subscriptions and the reminder log on the knowledge base's SQLite file (same connection, same worker
thread: call it through `StoreWorker`). Every change is one transaction.

The log holds one row per reminder key. States:
  sending     claimed right before sending; still there after a crash means "maybe sent"
  sent        confirmed by the channel
  superseded  a later reminder for the same deadline went out instead (missed while down)
  empty       a digest with nothing in it
  failed      refused for good (bot removed, robot URL invalid); its subscription is disabled
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime

import sqlite_utils

from reminders.models import TELEGRAM, Subscription, SubscriptionFilter

ITEM_CHANGES = ("edit", "update", "reextract", "progress", "undo_apply")  # actions that rewrite an item


MAX_PER_CHAT = 50  # subscriptions one chat may hold


class SubscriptionLimit(ValueError):
    """The chat already holds MAX_PER_CHAT subscriptions."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ReminderStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ subscriptions

    def add(self, *, chat_id: int | str | None, filter: SubscriptionFilter, created_by: str, channel: str = TELEGRAM,
            webhook_url: str = "", secret: str = "", created_at: datetime | None = None) -> Subscription:
        """A new subscription, or the same active one if this chat already has it (no duplicates).
        A chat holds at most MAX_PER_CHAT (SubscriptionLimit past that)."""
        with self.db.atomic():
            existing = self.for_chat(chat_id, channel if not webhook_url else None) if chat_id is not None \
                else self.active()
            for sub in existing:
                if (sub.filter.to_json(), sub.channel, sub.webhook_url) == (filter.to_json(), channel, webhook_url):
                    return sub
            if chat_id is not None and len(existing) >= MAX_PER_CHAT:
                raise SubscriptionLimit(str(MAX_PER_CHAT))
            at = _iso(created_at or datetime.now(UTC))
            cur = self.db.execute(
                "INSERT INTO subscriptions (chat_id, channel, webhook_url, secret, filter, created_by, created_at,"
                " active, disabled_reason) VALUES (?,?,?,?,?,?,?,1,'')",
                [chat_id, channel, webhook_url, secret, filter.to_json(), created_by, at],
            )
        added = self.get(int(cur.lastrowid or 0))
        assert added is not None
        return added

    def get(self, sub_id: int) -> Subscription | None:
        rows = list(self.db.query("SELECT * FROM subscriptions WHERE id = ?", [sub_id]))
        return _subscription(rows[0]) if rows else None

    def active(self) -> list[Subscription]:
        return [_subscription(r) for r in self.db.query("SELECT * FROM subscriptions WHERE active = 1 ORDER BY id")]

    def for_chat(self, chat_id: int | str, app: str | None = None) -> list[Subscription]:
        """A chat's active subscriptions: its own (of `app`, when given) and the robots it set up."""
        where = "chat_id = ? AND active = 1"
        params: list = [chat_id]
        if app is not None:
            where += " AND (channel = ? OR webhook_url != '')"
            params.append(app)
        rows = self.db.query(f"SELECT * FROM subscriptions WHERE {where} ORDER BY id", params)
        return [_subscription(r) for r in rows]

    def remove(self, sub_ids: Iterable[int], reason: str) -> int:
        ids = list(sub_ids)
        if not ids:
            return 0
        marks = ",".join("?" * len(ids))
        with self.db.atomic():
            cur = self.db.execute(f"UPDATE subscriptions SET active = 0, disabled_reason = ? WHERE id IN ({marks})"
                                  " AND active = 1", [reason, *ids])
        return cur.rowcount

    def disable_destination(self, subscription: Subscription, reason: str) -> int:
        """Stop every subscription that sends where this one does (the bot was removed, the URL is dead)."""
        if not subscription.to_robot:
            rows = self.db.execute("SELECT id FROM subscriptions WHERE channel = ? AND chat_id = ? AND webhook_url = ''"
                                   " AND active = 1", [subscription.channel, subscription.chat_id]).fetchall()
        else:
            rows = self.db.execute("SELECT id FROM subscriptions WHERE webhook_url = ? AND active = 1",
                                   [subscription.webhook_url]).fetchall()
        return self.remove([r[0] for r in rows], reason)

    def migrate_chat(self, old_chat_id: int | str, new_chat_id: int | str) -> int:
        """A group became a supergroup: its subscriptions follow it to the new id."""
        with self.db.atomic():
            cur = self.db.execute("UPDATE subscriptions SET chat_id = ? WHERE chat_id = ?", [new_chat_id, old_chat_id])
        return cur.rowcount

    # ------------------------------------------------------------------ the log

    def recorded(self, keys: Iterable[str]) -> dict[str, str]:
        """key -> state for the keys already in the log."""
        keys = list(keys)
        out: dict[str, str] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, state in self.db.execute(f"SELECT key, state FROM reminder_log WHERE key IN ({marks})", chunk):
                out[key] = state
        return out

    def record(self, entries: Iterable[tuple[str, int, int | None, str]], state: str, detail: str = "") -> None:
        """(key, subscription id, item id, kind) rows in one state, in one transaction."""
        now = _now()
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT INTO reminder_log (key, subscription_id, item_id, kind, state, attempts, updated_at, detail)"
                " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET state = excluded.state,"
                " attempts = reminder_log.attempts + excluded.attempts, updated_at = excluded.updated_at,"
                " detail = excluded.detail",
                [(key, sub_id, item_id, kind, state, int(state == "sending"), now, detail)
                 for key, sub_id, item_id, kind in entries],
            )

    def release(self, keys: Iterable[str]) -> None:
        """Claims whose sending failed for now: they are due again at the next run."""
        keys = list(keys)
        with self.db.atomic():
            self.db.conn.executemany("DELETE FROM reminder_log WHERE key = ? AND state = 'sending'", [(k,) for k in keys])

    # ------------------------------------------------------------------ what changed, for change notices

    def deadline_changes(self, start: datetime, end: datetime) -> list[tuple[int, datetime, int, date | None,
                                                                             date | None, bool]]:
        """(change id, at, item id, due before, due after, marked done) for changes in [start, end) that
        moved an item's first dated deadline or marked it done."""
        rows = self.db.execute(
            f"SELECT id, at, item_id, before, after FROM changes WHERE at >= ? AND at < ?"
            f" AND action IN ({','.join('?' * len(ITEM_CHANGES))}) ORDER BY id",
            [_iso(start), _iso(end), *ITEM_CHANGES],
        ).fetchall()
        out = []
        for change_id, at, item_id, before, after in rows:
            old, new = json.loads(before or "{}"), json.loads(after or "{}")
            due_before, due_after = _first_due(old), _first_due(new)
            done = new.get("progress") == "done" and old.get("progress") != "done"
            if (due_before != due_after or done) and new.get("status", "active") == "active":
                out.append((change_id, datetime.fromisoformat(at), item_id, due_before, due_after, done))
        return out

    def new_dated_items(self, start: datetime, end: datetime, due_from: date) -> list[tuple[int, datetime]]:
        """(item id, created at) of items created in [start, end) with a deadline on or after `due_from`."""
        rows = self.db.execute(
            "SELECT DISTINCT items.id, items.created_at FROM items JOIN item_deadlines ON item_deadlines.item_id = items.id"
            " WHERE items.created_at >= ? AND items.created_at < ? AND item_deadlines.due >= ? AND items.status = 'active'",
            [_iso(start), _iso(end), due_from.isoformat()],
        ).fetchall()
        return [(int(r[0]), datetime.fromisoformat(r[1])) for r in rows]

    def log_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT state, count(*) FROM reminder_log GROUP BY state").fetchall())


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds")


def _first_due(snapshot: dict) -> date | None:
    return next((date.fromisoformat(d["due"]) for d in snapshot.get("deadlines") or [] if d.get("due")), None)


def _subscription(row: dict) -> Subscription:
    return Subscription(
        id=row["id"], chat_id=row["chat_id"], channel=row["channel"], filter=SubscriptionFilter.from_json(row["filter"]),
        created_at=datetime.fromisoformat(row["created_at"]), created_by=row["created_by"] or "",
        webhook_url=row["webhook_url"] or "", secret=row["secret"] or "", active=bool(row["active"]),
        disabled_reason=row["disabled_reason"] or "",
    )
