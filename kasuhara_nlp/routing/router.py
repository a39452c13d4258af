"""The router: turn scan results into alerts and deliver them as the policy says.

For each flagged category of each result: find the matching rules, make the alert's idempotency key
(message, category, severity, and whether staff reported it), skip it if it was decided before (re-runs
send nothing twice), apply the cool-down of its conversation and category (never to a higher severity,
never to a staff report), hold it in quiet hours (never severity 3), else deliver it to each destination
with retries.  A delivery that fails for a temporary reason is retried by later runs until
``delivery.dead_after_hours``; see state.py for the statuses that make this resumable.

>>> import tempfile
>>> from .policy_parse import parse_policy
>>> policy = parse_policy({"state_dir": tempfile.mkdtemp()})
>>> with Router(policy) as router:
...     s = router.route({"id": "1", "status": "ok", "labels": ["abuse"], "severity": 2,
...                       "scores": {"abuse": 0.9}, "evidence": []})
>>> s.alerts, s.sent
(1, 1)
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..errors import ConfigError, InputFormatError
from ..labels import CATEGORIES
from ..records import ScanResult
from .alert_build import build_alert
from .alerts import Alert, alert_key, message_ref, parse_time
from .delivery import AUDIT_NAME, DEAD_LETTER_NAME, AuditLog, RunLock, deliver_with_retries
from .destinations import Sender, append_jsonl, make_sender
from .policy import EmailDestination, RoutingPolicy, Rule
from .policy_parse import check_min_scores, load_policy
from .results_io import read_results, shape_problem
from .state import StateStore, Waiting, utc_now
from .summary import RouteSummary

log = logging.getLogger(__name__)

__all__ = ["RouteSummary", "Router", "read_results", "route_results_file", "shape_problem"]


class Router:
    """Route scan results by a policy.  One result (dict or ScanResult) or an iterable of them.

    Args:
        policy: a :class:`RoutingPolicy`, a TOML path, or None for the defaults (JSONL queue only).
        thresholds: the model's flag thresholds (``clf.thresholds``); a rule's ``min_score`` below them
            is a :class:`ConfigError`.
        clock: returns "now" as an aware datetime (quiet hours, retries' give-up time; tests pass a fixed time).
        sleep: used for backoff and the pause between deliveries.
        environ: where secrets are read from (default ``os.environ``).
    """

    def __init__(self, policy: RoutingPolicy | str | Path | None = None, *, thresholds: dict[str, float] | None = None,
                 clock: Callable[[], datetime] | None = None, sleep: Callable[[float], None] = time.sleep,
                 environ: dict[str, str] | None = None):
        self.policy = load_policy(policy)
        if thresholds:
            check_min_scores(self.policy, thresholds)
        problems = self.policy.env_problems(environ)
        if problems:
            raise ConfigError(f"policy {self.policy.source}: " + "; ".join(problems))
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.sleep, self._environ = sleep, environ
        self._senders: dict[str, Sender] = {}
        self._down: dict[str, str] = {}  # destination -> why, for destinations that failed in this run
        for rule in self.policy.rules:  # build now: a bad URL or missing secret fails before any work
            for name in rule.destinations:
                self._sender(name)
        self.state = StateStore(self.policy.state_dir)
        self.audit = AuditLog(self.policy.state_dir / AUDIT_NAME)

    def __enter__(self) -> "Router":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.state.close()

    def _sender(self, name: str) -> Sender | None:
        if name not in self._senders:
            cfg = self.policy.destinations.get(name)
            if cfg is None:
                return None
            self._senders[name] = make_sender(cfg, self.policy.message, self._environ)
        return self._senders[name]

    # --- entry points -------------------------------------------------------------------------------

    def route(self, results: dict[str, Any] | ScanResult | Iterable[dict[str, Any] | ScanResult]) -> RouteSummary:
        """Route one result or many; returns what was done.  Safe to call again over the same results.

        Each call first finishes earlier work: held alerts (inside business hours), deliveries an
        interrupted run left pending, and deliveries awaiting retry."""
        items = [results] if isinstance(results, (dict, ScanResult)) else results
        summary = RouteSummary()
        with self._run(summary):
            if not self.policy.hours.is_quiet(self.clock()):
                self._release(summary)
            self._resume(summary)
            for result in items:
                self._route_one(result.to_dict() if isinstance(result, ScanResult) else result, summary)
        return summary

    def release_held(self) -> RouteSummary:
        """Deliver every held alert now, quiet hours or not (``route --release-held``)."""
        summary = RouteSummary()
        with self._run(summary):
            self._release(summary)
            self._resume(summary)
        return summary

    def retry_dead(self) -> RouteSummary:
        """Try every dead delivery again now, e.g. after fixing an address or URL (``route --retry-dead``).

        Note: an e-mail that some recipients already took (a partial refusal) goes to all of them again."""
        summary = RouteSummary()
        with self._run(summary):
            summary.retried += self.state.requeue_dead()
            self._resume(summary, count=False)
        return summary

    def acknowledge_dead(self) -> RouteSummary:
        """Mark every dead letter as handled by hand, so it stops making runs fail (``route --ack-dead``)."""
        summary = RouteSummary()
        with self._run(summary):
            for alert, dest in self.state.deliveries("dead"):
                self.audit.write("resolved", alert, dest, detail="dead letter acknowledged")
            summary.resolved += self.state.resolve_dead()
        return summary

    # --- steps --------------------------------------------------------------------------------------

    @contextmanager
    def _run(self, summary: RouteSummary) -> Iterator[None]:
        """One run: the lock, retries of earlier temporary failures first, the state's open problems last."""
        with RunLock(self.policy.state_dir):
            self._down = {}  # a destination that failed in an earlier run gets a fresh chance
            try:
                self._retry_waiting(summary)
                yield
            finally:
                open_problems = self.state.open_problems()
                summary.awaiting_retry, summary.dead_open = open_problems["retry"], open_problems["dead"]
                summary.state_dir = str(self.policy.state_dir)

    def _release(self, summary: RouteSummary) -> None:
        held = self.state.deliveries("held")
        if not held:
            return
        self.state.release_held()
        for alert, dest in held:
            self.audit.write("released", alert, dest)
        summary.released += len(held)
        self.state.write_held_file()

    def _resume(self, summary: RouteSummary, *, count: bool = True, key: str | None = None) -> None:
        for alert, dest in self.state.deliveries("pending", key):
            summary.resumed += count
            self._deliver_one(alert, dest, summary, resuming=True)

    def _retry_waiting(self, summary: RouteSummary) -> None:
        for waiting in self.state.waiting():
            summary.retried += 1
            self._deliver_one(waiting.alert, waiting.destination, summary, resuming=True, waiting=waiting)

    def _route_one(self, result: dict[str, Any], summary: RouteSummary) -> None:
        summary.results += 1
        problem = "not an object" if not isinstance(result, dict) else shape_problem(result)
        if problem:  # read_results reports these with file and line; a caller's own records are counted here
            log.warning("result %s not routed: %s", result.get("id") if isinstance(result, dict) else "?", problem)
            summary.unreadable += 1
            return
        labels = [c for c in result.get("labels") or [] if c in CATEGORIES]
        if (result.get("status", "ok") != "ok" or not labels
                or (result.get("kind", "message") != "message" and not self.policy.route_conversations)):
            summary.skipped += 1
            return
        severity = result.get("severity") or 0
        if not 1 <= severity <= 3:
            summary.skipped += 1
            return
        staff_report = result.get("staff_report") is True
        ref = message_ref(result)
        scores = result.get("scores") or {}
        for category in labels:
            score = None if staff_report else float(scores.get(category) or 0.0)
            rules = [r for r in self.policy.rules if r.matches(category, severity, score)]
            if not rules:
                summary.unrouted += 1
                continue
            key = alert_key(ref, category, severity, staff_report=staff_report)
            if self.state.decision(key) is not None:
                # The same staff report again: if it never got through, this is the moment to try once more.
                if not (staff_report and self._redeliver(key, summary)):
                    summary.duplicates += 1
                continue
            alert = build_alert(result, self.policy, key=key, ref=ref, category=category, severity=severity,
                                score=score, rules=rules, staff_report=staff_report)
            self._check_manager(alert, rules, summary)
            self._decide(alert, ref, parse_time(result.get("timestamp_utc")), summary)

    def _redeliver(self, key: str, summary: RouteSummary) -> bool:
        requeued = self.state.requeue_dead(key)
        if requeued:
            summary.retried += requeued
            self._resume(summary, count=False, key=key)
        return bool(requeued)

    def _check_manager(self, alert: Alert, rules: list[Rule], summary: RouteSummary) -> None:
        """Warn (summary, audit, log) when a rule asks to notify a manager the staff map cannot give."""
        if not alert.notify_manager:
            return
        mails = any(isinstance(self.policy.destinations.get(d), EmailDestination) for d in alert.destinations)
        entry = self.policy.staff_entry(alert.staff_name)
        if entry is not None and (entry.manager_email or not mails):
            return
        asking = [repr(r.name) for r in rules if r.notify_manager]
        names = f"rule {asking[0]} asks" if len(asking) == 1 else f"rules {', '.join(asking)} ask"
        if not alert.staff_name:
            why = "the result names no staff member (staff_name is empty)"
        elif entry is None:
            why = (f"staff member {alert.staff_name!r} is not in [staff]; add [staff.\"{alert.staff_name}\"] "
                   "with manager and manager_email")
        else:
            why = f"staff member {alert.staff_name!r} has no manager_email in [staff]; add it"
        summary.manager_unknown += 1
        summary.warn(f"{names} to notify the manager, but {why}")
        self.audit.write("manager_unknown", alert, detail=why)
        # info, not warning: the summary carries the warning, and Python's last-resort handler would print
        # a warning a second time on the command line.
        log.info("manager not notified for alert %s: %s", alert.key, why)

    def _decide(self, alert: Alert, ref: str, when: datetime | None, summary: RouteSummary) -> None:
        now = self.clock()
        when = when or now
        # One cool-down per conversation, category and set of destinations: it keeps the same people from
        # hearing the same thing again, never a rule for another category (e.g. sexual harassment -> HR).
        scope = None
        if alert.conversation_id and not alert.staff_report:
            scope = "\x1f".join((alert.conversation_id, alert.category, ",".join(sorted(alert.destinations))))
        if scope and self.policy.cooldown_minutes > 0:
            previous = self.state.cooldown(scope)
            window = timedelta(minutes=self.policy.cooldown_minutes)
            if (previous and previous[2] != ref and alert.severity <= previous[0]
                    and abs(when - previous[1]) < window):
                # These people already have this conversation and category at this severity; higher goes out.
                self.state.record(alert, ref, "suppressed", {})
                self.audit.write("suppressed", alert, detail=f"cool-down after severity {previous[0]}")
                summary.suppressed += 1
                return
        held = self.policy.hours.holds(alert.severity, now)
        status = "held" if held else "pending"
        self.state.record(alert, ref, "held" if held else "route", {d: status for d in alert.destinations},
                          scope, when if scope else None)
        if held:
            for dest in alert.destinations:
                self.audit.write("held", alert, dest, detail="quiet hours")
            self.state.write_held_file()
            summary.held += 1
            return
        summary.alerts += 1
        for dest in alert.destinations:
            self._deliver_one(alert, dest, summary)

    def _deliver_one(self, alert: Alert, dest: str, summary: RouteSummary, *, resuming: bool = False,
                     waiting: Waiting | None = None) -> None:
        sender = self._sender(dest)
        if sender is None:
            self._dead(alert, dest, 0, f"destination {dest!r} is no longer in the policy; put it back or "
                                       "run `kasuhara route --ack-dead` after forwarding the alert", summary)
            return
        if resuming and sender.already_delivered(alert):
            self._sent(alert, dest, 0, "found after an interrupted run", summary)
            return
        if dest in self._down:
            # It just failed for a temporary reason: trying every other alert against it would hold the run
            # (and the routing lock) for attempts x timeout each.  Later runs retry.
            self._failed(alert, dest, 0, f"not attempted: {dest} failed earlier in this run ({self._down[dest]})",
                         True, summary, waiting)
            return

        def failed(attempt: int, exc: Exception) -> None:
            self.audit.write("attempt_failed", alert, dest, attempt=attempt, detail=str(exc)[:300])

        outcome = deliver_with_retries(sender, alert, self.policy.delivery, sleep=self.sleep,
                                       on_attempt_failed=failed)
        if outcome.ok:
            self._sent(alert, dest, outcome.attempts, outcome.detail, summary)
        else:
            if outcome.retryable:
                self._down[dest] = outcome.detail[:200]
            self._failed(alert, dest, outcome.attempts, outcome.detail, outcome.retryable, summary, waiting)
        if self.policy.delivery.min_interval_s:
            self.sleep(self.policy.delivery.min_interval_s)

    def _sent(self, alert: Alert, dest: str, attempts: int, detail: str, summary: RouteSummary) -> None:
        self.state.set_status(alert.key, dest, "sent", attempts, detail)
        self.audit.write("sent", alert, dest, attempts=attempts, detail=detail)
        summary.sent += 1
        summary.by_destination[dest] = summary.by_destination.get(dest, 0) + 1

    def _failed(self, alert: Alert, dest: str, attempts: int, detail: str, retryable: bool, summary: RouteSummary,
                waiting: Waiting | None) -> None:
        """A temporary failure waits for a later run until ``dead_after_hours`` after the first; else dead."""
        now = self.clock()
        first = waiting.first_failed_at if waiting and waiting.first_failed_at else now
        hours = self.policy.delivery.dead_after_hours
        if retryable and now < first + timedelta(hours=hours):
            self.state.set_status(alert.key, dest, "retry", attempts, detail, failed_at=now)
            self.audit.write("awaiting_retry", alert, dest, attempts=attempts, detail=detail[:300])
            summary.deferred += 1
            return
        if retryable:
            total = (waiting.attempts if waiting else 0) + attempts
            detail = f"gave up after {total} attempts over {hours:g} h (delivery.dead_after_hours): {detail}"
        self._dead(alert, dest, attempts, detail, summary)

    def _dead(self, alert: Alert, dest: str, attempts: int, detail: str, summary: RouteSummary) -> None:
        append_jsonl(self.policy.state_dir / DEAD_LETTER_NAME,
                     {"at": utc_now(), "destination": dest, "attempts": attempts, "error": detail[:500],
                      "alert": alert.to_dict()})
        self.state.set_status(alert.key, dest, "dead", attempts, detail)
        self.audit.write("dead", alert, dest, attempts=attempts, detail=detail[:300])
        summary.dead += 1


def route_results_file(path: str | Path | None, policy: RoutingPolicy | str | Path | None = None, *,
                       release_held: bool = False, retry_dead: bool = False, ack_dead: bool = False,
                       thresholds: dict[str, float] | None = None,
                       on_problem: Callable[[str], None] | None = None) -> RouteSummary:
    """Route a results JSONL written earlier (``kasuhara route``).  First, on request: ``ack_dead`` marks the
    dead letters as handled by hand, ``retry_dead`` tries them again, ``release_held`` delivers every held
    alert whatever the time.  ``path`` may be None when one of these is asked for.

    >>> import tempfile, os
    >>> from .policy_parse import parse_policy
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "r.jsonl")
    >>> _ = open(p, "w").write('{"id": "1", "status": "ok", "labels": [], "severity": 0}\\n')
    >>> route_results_file(p, parse_policy({"state_dir": d})).skipped
    1
    """
    if path is not None and str(path) != "-" and not Path(path).exists():
        raise InputFormatError("results file not found", path=str(path))
    with Router(policy, thresholds=thresholds) as router:
        summary = RouteSummary()
        if ack_dead:
            summary.merge(router.acknowledge_dead())
        if retry_dead:
            summary.merge(router.retry_dead())
        if release_held:
            summary.merge(router.release_held())
        if path is not None:
            problems: list[str] = []
            summary.merge(router.route(read_results(path, on_problem, problems)))
            summary.unreadable += len(problems)
    return summary
