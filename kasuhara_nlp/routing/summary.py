"""What a routing run did, and what still needs someone (:class:`RouteSummary`).

>>> s = RouteSummary(sent=1, awaiting_retry=2)
>>> s.needs_attention, s.problems()[0].split(";")[0]
(True, '2 deliveries await retry after a temporary failure')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["RouteSummary"]

# Counts of the state as a whole, taken at the end of a run: merging two summaries keeps the later one.
_SNAPSHOTS = ("awaiting_retry", "dead_open", "state_dir")


@dataclass
class RouteSummary:
    """What a routing run did.  ``sent``, ``deferred`` and ``dead`` count deliveries (alert x destination).

    ``awaiting_retry`` and ``dead_open`` describe the whole state folder after the run, not only this run:
    while either is above 0 the run needs attention (``kasuhara route`` exits 1), so that an alert lost to
    an outage is never reported only once, by one red cron run.
    """

    results: int = 0
    skipped: int = 0  # not "ok", not flagged, or a conversation record
    unreadable: int = 0  # results that were not usable records (not JSON objects, or fields of the wrong type)
    alerts: int = 0  # new alerts delivered now
    unrouted: int = 0  # flagged categories that no rule selected
    duplicates: int = 0  # alerts decided by an earlier run
    suppressed: int = 0  # by a conversation's cool-down
    held: int = 0  # alerts held for business hours
    released: int = 0  # held deliveries released
    resumed: int = 0  # pending deliveries of an interrupted run
    retried: int = 0  # deliveries of earlier runs tried again (temporary failures, --retry-dead, a re-report)
    sent: int = 0
    deferred: int = 0  # failed for a temporary reason in this run; a later run retries them
    dead: int = 0  # failed for good in this run (permanent error, or retries gave up)
    resolved: int = 0  # dead letters marked as handled by hand (--ack-dead)
    manager_unknown: int = 0  # alerts whose rule asks to notify a manager the staff map does not give
    awaiting_retry: int = 0  # snapshot: deliveries in the state awaiting retry
    dead_open: int = 0  # snapshot: dead letters in the state not yet acknowledged
    by_destination: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # configuration problems found while routing
    state_dir: str = ""  # where the state, audit log and dead letters are

    def merge(self, other: "RouteSummary") -> "RouteSummary":
        """Add ``other`` (a later run or step) to this summary."""
        for name, value in asdict(other).items():
            if name == "by_destination":
                for d, n in value.items():
                    self.by_destination[d] = self.by_destination.get(d, 0) + n
            elif name == "warnings":
                self.warnings.extend(w for w in value if w not in self.warnings)
            elif name in _SNAPSHOTS:
                setattr(self, name, value)
            else:
                setattr(self, name, getattr(self, name) + value)
        return self

    def warn(self, message: str) -> None:
        """Add a configuration warning once."""
        if message not in self.warnings:
            self.warnings.append(message)

    @property
    def needs_attention(self) -> bool:
        """True while any alert is dead or awaiting retry (this run's, or an earlier run's)."""
        return bool(self.dead or self.deferred or self.awaiting_retry or self.dead_open)

    def problems(self) -> list[str]:
        """One line per thing an operator should know, with what to do about it."""
        state_dir = self.state_dir or "<state_dir>"
        lines = []
        if self.awaiting_retry:
            lines.append(f"{self.awaiting_retry} deliveries await retry after a temporary failure; the next "
                         f"`kasuhara route` run retries them (audit: {state_dir}/audit.jsonl)")
        if self.dead_open:
            lines.append(f"{self.dead_open} dead letters in {state_dir}/dead_letter.jsonl were not delivered: "
                         "fix the cause and run `kasuhara route --retry-dead`, or forward them by hand and run "
                         "`kasuhara route --ack-dead`")
        lines.extend(self.warnings)
        return lines

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        """The one line `kasuhara route` prints on stderr: every count above 0, then deliveries per destination.

        >>> RouteSummary(results=3, skipped=1, alerts=2, sent=2, by_destination={"queue": 2}).text()
        'routing: results: 3  skipped: 1  alerts: 2  sent: 2  sent to: queue 2'
        """
        counts = "  ".join(f"{k}: {v}" for k, v in self.to_dict().items()
                           if k not in ("by_destination", "warnings", "state_dir") and v)
        sent_to = ", ".join(f"{k} {v}" for k, v in self.by_destination.items())
        return "routing: " + counts + (f"  sent to: {sent_to}" if sent_to else "")
