"""The routing state file ``<state_dir>/state.sqlite`` (WAL): alerts, deliveries, cool-downs.

Every alert is recorded with its decision before anything is sent, and every (alert, destination)
delivery moves through these statuses, each change one committed statement:

- ``pending``: about to be attempted (a run killed now resumes it next time);
- ``held``: waiting for business hours;
- ``sent``: done;
- ``retry``: failed for a temporary reason (timeout, connection error, HTTP 5xx/408/429, SMTP 4xx); later
  runs try again until ``delivery.dead_after_hours`` after ``first_failed_at``;
- ``dead``: failed for good (a permanent error, or retries gave up); listed in dead_letter.jsonl;
- ``resolved``: a dead letter an operator handled by hand (``kasuhara route --ack-dead``).

>>> import tempfile
>>> from pathlib import Path
>>> s = StateStore(Path(tempfile.mkdtemp()))
>>> s.count("retry"), s.open_problems()
(0, {'retry': 0, 'dead': 0})
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from .alerts import Alert, parse_time

__all__ = ["STATE_NAME", "HELD_NAME", "StateStore", "Waiting", "utc_now"]

STATE_NAME, HELD_NAME = "state.sqlite", "held.jsonl"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    key TEXT PRIMARY KEY, message_ref TEXT NOT NULL, conversation_id TEXT, category TEXT NOT NULL,
    severity INTEGER NOT NULL, decision TEXT NOT NULL, created_at TEXT NOT NULL, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    alert_key TEXT NOT NULL REFERENCES alerts(key), destination TEXT NOT NULL, status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, detail TEXT, updated_at TEXT NOT NULL,
    PRIMARY KEY (alert_key, destination));
CREATE INDEX IF NOT EXISTS deliveries_status ON deliveries(status);
CREATE TABLE IF NOT EXISTS cooldown_scopes (
    scope TEXT PRIMARY KEY, severity INTEGER NOT NULL, at_utc TEXT NOT NULL, message_ref TEXT NOT NULL);
"""
# The first state files kept one cool-down per conversation (table `cooldown`); it is left unused.  Dropping
# it would lose nothing but a 30-minute window, and leaving it keeps an older version able to open the file.


def utc_now() -> str:
    return _iso(datetime.now(timezone.utc))


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Waiting:
    """A delivery awaiting retry: the alert, the destination, when it first failed and attempts so far."""

    alert: Alert
    destination: str
    first_failed_at: datetime | None
    attempts: int


class StateStore:
    """The SQLite state file: alerts, deliveries per destination, cool-downs per scope."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT) below.
        self.db = sqlite3.connect(folder / STATE_NAME, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a committed "sent" survives a crash
        self.db.executescript(_SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(deliveries)")}
        if "first_failed_at" not in columns:  # a state file from before retries across runs
            self.db.execute("ALTER TABLE deliveries ADD COLUMN first_failed_at TEXT")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def decision(self, key: str) -> str | None:
        row = self.db.execute("SELECT decision FROM alerts WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def record(self, alert: Alert, message_ref: str, decision: str, statuses: dict[str, str],
               cooldown_scope: str | None = None, cooldown_at: datetime | None = None) -> None:
        """Record an alert and its deliveries (``statuses``: destination -> pending/held) in one commit,
        and start the cool-down of ``cooldown_scope`` at ``cooldown_at`` in the same commit."""
        now = utc_now()
        with self.transaction() as db:
            if cooldown_scope and cooldown_at is not None:
                db.execute("INSERT INTO cooldown_scopes VALUES (?, ?, ?, ?) ON CONFLICT(scope) DO UPDATE "
                           "SET severity = excluded.severity, at_utc = excluded.at_utc, "
                           "message_ref = excluded.message_ref",
                           (cooldown_scope, alert.severity, cooldown_at.isoformat(), message_ref))
            db.execute("INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (alert.key, message_ref, alert.conversation_id, alert.category, alert.severity, decision,
                        alert.created_at, json.dumps(alert.to_dict(), ensure_ascii=False)))
            db.executemany("INSERT INTO deliveries (alert_key, destination, status, updated_at) VALUES (?, ?, ?, ?)",
                           [(alert.key, d, s, now) for d, s in statuses.items()])

    def set_status(self, key: str, destination: str, status: str, attempts: int, detail: str,
                   failed_at: datetime | None = None) -> None:
        """Move one delivery to ``status``, adding ``attempts``.  ``failed_at`` (for ``retry``) starts the
        give-up clock the first time only."""
        with self.transaction() as db:
            db.execute("UPDATE deliveries SET status = ?, attempts = attempts + ?, detail = ?, updated_at = ?, "
                       "first_failed_at = COALESCE(first_failed_at, ?) WHERE alert_key = ? AND destination = ?",
                       (status, attempts, detail[:500], utc_now(), _iso(failed_at) if failed_at else None, key,
                        destination))

    def deliveries(self, status: str, key: str | None = None) -> list[tuple[Alert, str]]:
        """(alert, destination) pairs in ``status`` (of one alert, or all), oldest alert first."""
        where = " AND d.alert_key = ?" if key else ""
        rows = self.db.execute(
            "SELECT a.payload, d.destination FROM deliveries d JOIN alerts a ON a.key = d.alert_key "
            f"WHERE d.status = ?{where} ORDER BY a.created_at, a.rowid, d.rowid",
            (status, *((key,) if key else ()))).fetchall()
        return [(Alert.from_dict(json.loads(p)), dest) for p, dest in rows]

    def waiting(self) -> list[Waiting]:
        """Deliveries awaiting retry, oldest alert first (severity 3 first among equals)."""
        rows = self.db.execute(
            "SELECT a.payload, d.destination, d.first_failed_at, d.attempts FROM deliveries d "
            "JOIN alerts a ON a.key = d.alert_key WHERE d.status = 'retry' "
            "ORDER BY a.severity DESC, a.created_at, a.rowid, d.rowid").fetchall()
        return [Waiting(Alert.from_dict(json.loads(p)), dest, parse_time(first), n) for p, dest, first, n in rows]

    def statuses(self, key: str) -> dict[str, str]:
        """destination -> status of one alert's deliveries."""
        return dict(self.db.execute("SELECT destination, status FROM deliveries WHERE alert_key = ? "
                                    "ORDER BY rowid", (key,)).fetchall())

    def count(self, status: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM deliveries WHERE status = ?", (status,)).fetchone()[0]

    def open_problems(self) -> dict[str, int]:
        """Deliveries that still need someone: awaiting retry, and dead letters not yet acknowledged."""
        return {"retry": self.count("retry"), "dead": self.count("dead")}

    def release_held(self) -> int:
        """Turn every held delivery into a pending one; returns how many."""
        return self._move("held", "pending")

    def requeue_dead(self, key: str | None = None) -> int:
        """Dead deliveries (of one alert, or all) back to ``pending`` with a fresh give-up clock."""
        where = " AND alert_key = ?" if key else ""
        with self.transaction() as db:
            return db.execute("UPDATE deliveries SET status = 'pending', first_failed_at = NULL, updated_at = ? "
                              f"WHERE status = 'dead'{where}", (utc_now(), *((key,) if key else ()))).rowcount

    def resolve_dead(self) -> int:
        """Mark every dead delivery as handled by hand (it stops counting as an open problem)."""
        return self._move("dead", "resolved")

    def _move(self, old: str, new: str) -> int:
        with self.transaction() as db:
            return db.execute("UPDATE deliveries SET status = ?, updated_at = ? WHERE status = ?",
                              (new, utc_now(), old)).rowcount

    def cooldown(self, scope: str) -> tuple[int, datetime, str] | None:
        """(severity, time, message) of the alert that started the cool-down of ``scope``."""
        row = self.db.execute("SELECT severity, at_utc, message_ref FROM cooldown_scopes WHERE scope = ?",
                              (scope,)).fetchone()
        return (row[0], datetime.fromisoformat(row[1]), row[2]) if row else None

    def write_held_file(self) -> Path:
        """Rewrite held.jsonl (atomically) to list the alerts held now, for people to read."""
        path = self.folder / HELD_NAME
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for alert, dest in self.deliveries("held"):
                f.write(json.dumps({"destination": dest, "alert": alert.to_dict()}, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return path
