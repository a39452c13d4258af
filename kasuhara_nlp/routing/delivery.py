"""Delivery bookkeeping: retries with backoff within a run, the audit log, a run lock.

State lives in ``<state_dir>/state.sqlite`` (state.py).  Every (alert, destination) delivery moves
``pending -> sent`` (or ``retry``/``dead``), each step committed: ``pending`` is committed before the first
attempt and ``sent`` right after success, so a run killed midway resumes the pending deliveries on the next
run.  A JSONL destination is checked for the alert's key before it is written again, and a webhook receives
the same ``Idempotency-Key``, so a resumed delivery is not a duplicate.  ``held`` deliveries wait for
business hours; ``retry`` deliveries (temporary failures) are tried again by later runs.

The audit log (``audit.jsonl``) says what was sent where, when and with what result: ids, category,
severity and destination only, never message text.

>>> backoff_delays(DeliverySettings(attempts=4, base_delay_s=1, max_delay_s=3), rng=lambda: 1.0)
[1.0, 2.0, 3.0]
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import KasuharaError
from .alerts import Alert
from .destinations import DeliveryError, Sender, append_jsonl
from .policy import DeliverySettings
from .state import utc_now

__all__ = ["AuditLog", "Outcome", "RunLock", "backoff_delays", "deliver_with_retries", "utc_now"]

AUDIT_NAME, DEAD_LETTER_NAME, LOCK_NAME = "audit.jsonl", "dead_letter.jsonl", "routing.lock"
def backoff_delays(settings: DeliverySettings, rng: Callable[[], float] = random.random) -> list[float]:
    """The waits between attempts: exponential, capped, with full jitter (``rng`` in [0, 1])."""
    return [min(settings.max_delay_s, settings.base_delay_s * 2 ** i) * rng() for i in range(settings.attempts - 1)]


@dataclass(frozen=True)
class Outcome:
    """The result of delivering one alert to one destination, after retries.  ``retryable``: the last
    failure was temporary, so a later run may succeed."""

    ok: bool
    attempts: int
    detail: str
    retryable: bool = False


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
                return Outcome(False, attempt, str(exc), exc.retryable)
            wait = delays[attempt - 1]
            if exc.retry_after is not None:
                wait = max(wait, min(exc.retry_after, settings.max_delay_s))
            sleep(wait)
    return Outcome(False, settings.attempts, str(last), last.retryable)


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
