"""Delivery bookkeeping: SQLite state, retries with backoff, dead letters, the audit log, a run lock.

State lives in ``<state_dir>/state.sqlite`` (WAL).  Every alert is recorded with its decision, and every
(alert, destination) delivery moves ``pending -> sent`` (or ``dead``), each step committed: ``pending`` is
committed before the first attempt and ``sent`` right after success, so a run killed midway resumes the
pending deliveries on the next run.  A JSONL destination is checked for the alert's key before it is
written again, and a webhook receives the same ``Idempotency-Key``, so a resumed delivery is not a
duplicate.  ``held`` deliveries wait for business hours.

The audit log (``audit.jsonl``) says what was sent where, when and with what result: ids, category,
severity and destination only, never message text.

>>> backoff_delays(DeliverySettings(attempts=4, base_delay_s=1, max_delay_s=3), rng=lambda: 1.0)
[1.0, 2.0, 3.0]
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from ..errors import KasuharaError
from .alerts import Alert
from .destinations import DeliveryError, Sender, append_jsonl
from .policy import DeliverySettings

__all__ = ["AuditLog", "Outcome", "RunLock", "StateStore", "backoff_delays", "deliver_with_retries", "utc_now"]

STATE_NAME, AUDIT_NAME, DEAD_LETTER_NAME, HELD_NAME, LOCK_NAME = (
    "state.sqlite", "audit.jsonl", "dead_letter.jsonl", "held.jsonl", "routing.lock")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    key TEXT PRIMARY KEY, message_ref TEXT NOT NULL, conversation_id TEXT, category TEXT NOT NULL,
    severity INTEGER NOT NULL, decision TEXT NOT NULL, created_at TEXT NOT NULL, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    alert_key TEXT NOT NULL REFERENCES alerts(key), destination TEXT NOT NULL, status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, detail TEXT, updated_at TEXT NOT NULL,
    PRIMARY KEY (alert_key, destination));
CREATE INDEX IF NOT EXISTS deliveries_status ON deliveries(status);
CREATE TABLE IF NOT EXISTS cooldown (
    conversation_id TEXT PRIMARY KEY, severity INTEGER NOT NULL, at_utc TEXT NOT NULL, message_ref TEXT NOT NULL);
"""
STATUSES = ("pending", "held", "sent", "dead")


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def backoff_delays(settings: DeliverySettings, rng: Callable[[], float] = random.random) -> list[float]:
    """The waits between attempts: exponential, capped, with full jitter (``rng`` in [0, 1])."""
    return [min(settings.max_delay_s, settings.base_delay_s * 2 ** i) * rng() for i in range(settings.attempts - 1)]


@dataclass(frozen=True)
class Outcome:
    """The result of delivering one alert to one destination, after retries."""

    ok: bool
    attempts: int
    detail: str


def deliver_with_retries(sender: Sender, alert: Alert, settings: DeliverySettings, *,
                         sleep: Callable[[float], None] = time.sleep, rng: Callable[[], float] = random.random,
                         on_attempt_failed: Callable[[int, DeliveryError], None] | None = None) -> Outcome:
    """Try ``settings.attempts`` times at most, waiting with backoff; stop early on a non-retryable error."""
    delays = backoff_delays(settings, rng)
    last = DeliveryError("not attempted")
    for attempt in range(1, settings.attempts + 1):
        try:
            return Outcome(True, attempt, sender.send(alert))
        except DeliveryError as exc:
            last = exc
            if on_attempt_failed:
                on_attempt_failed(attempt, exc)
            if not exc.retryable or attempt == settings.attempts:
                return Outcome(False, attempt, str(exc))
            wait = delays[attempt - 1]
            if exc.retry_after is not None:
                wait = max(wait, min(exc.retry_after, settings.max_delay_s))
            sleep(wait)
    return Outcome(False, settings.attempts, str(last))


class RunLock:
    """An exclusive lock on the state folder, so two routing runs never deliver the same pending alert.

    The operating system drops the lock when a process dies, even by SIGKILL.
    """

    def __init__(self, folder: Path, timeout_s: float = 60.0):
        self.path, self.timeout_s, self._fd = folder / LOCK_NAME, timeout_s, None

    def __enter__(self) -> "RunLock":
        try:
            import fcntl
        except ImportError:  # not POSIX: run without the lock (documented)
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise KasuharaError(f"another routing run holds {self.path}; wait for it to finish or "
                                        "give this run its own state_dir") from None
                time.sleep(0.05)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


class AuditLog:
    """Append-only JSONL of delivery events: ids and results only, never message text."""

    def __init__(self, path: Path):
        self.path = path

    def write(self, event: str, alert: Alert, destination: str = "", **detail: Any) -> None:
        append_jsonl(self.path, {"at": utc_now(), "event": event, "alert_key": alert.key,
                                 "destination": destination, "message_id": alert.message_id,
                                 "conversation_id": alert.conversation_id, "category": alert.category,
                                 "severity": alert.severity, "staff_report": alert.staff_report, **detail})


class StateStore:
    """The SQLite state file: alerts, deliveries per destination, cool-down per conversation."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT) below.
        self.db = sqlite3.connect(folder / STATE_NAME, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a committed "sent" survives a crash
        self.db.executescript(_SCHEMA)

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
               cooldown_at: datetime | None = None) -> None:
        """Record an alert and its deliveries (``statuses``: destination -> pending/held) in one commit,
        and start the conversation's cool-down at ``cooldown_at`` in the same commit."""
        now = utc_now()
        with self.transaction() as db:
            if cooldown_at is not None and alert.conversation_id:
                db.execute("INSERT INTO cooldown VALUES (?, ?, ?, ?) ON CONFLICT(conversation_id) DO UPDATE "
                           "SET severity = excluded.severity, at_utc = excluded.at_utc, "
                           "message_ref = excluded.message_ref",
                           (alert.conversation_id, alert.severity, cooldown_at.isoformat(), message_ref))
            db.execute("INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (alert.key, message_ref, alert.conversation_id, alert.category, alert.severity, decision,
                        alert.created_at, json.dumps(alert.to_dict(), ensure_ascii=False)))
            db.executemany("INSERT INTO deliveries (alert_key, destination, status, updated_at) VALUES (?, ?, ?, ?)",
                           [(alert.key, d, s, now) for d, s in statuses.items()])

    def set_status(self, key: str, destination: str, status: str, attempts: int, detail: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE deliveries SET status = ?, attempts = attempts + ?, detail = ?, updated_at = ? "
                       "WHERE alert_key = ? AND destination = ?",
                       (status, attempts, detail[:500], utc_now(), key, destination))

    def deliveries(self, status: str) -> list[tuple[Alert, str]]:
        """(alert, destination) pairs in ``status``, oldest alert first."""
        rows = self.db.execute(
            "SELECT a.payload, d.destination FROM deliveries d JOIN alerts a ON a.key = d.alert_key "
            "WHERE d.status = ? ORDER BY a.created_at, a.rowid, d.rowid", (status,)).fetchall()
        return [(Alert.from_dict(json.loads(p)), dest) for p, dest in rows]

    def count(self, status: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM deliveries WHERE status = ?", (status,)).fetchone()[0]

    def release_held(self) -> int:
        """Turn every held delivery into a pending one; returns how many."""
        with self.transaction() as db:
            return db.execute("UPDATE deliveries SET status = 'pending', updated_at = ? WHERE status = 'held'",
                              (utc_now(),)).rowcount

    def cooldown(self, conversation_id: str) -> tuple[int, datetime, str] | None:
        """(severity, time, message) of the alert that started the conversation's cool-down."""
        row = self.db.execute("SELECT severity, at_utc, message_ref FROM cooldown WHERE conversation_id = ?",
                              (conversation_id,)).fetchone()
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
