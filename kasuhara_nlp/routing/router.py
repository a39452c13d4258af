"""The router: turn scan results into alerts and deliver them as the policy says.

For each flagged category of each result: find the matching rules, make the alert's idempotency key
(message, category, severity), skip it if it was decided before (re-runs send nothing twice), apply the
conversation's cool-down (never to a higher severity), hold it in quiet hours (never severity 3), else
deliver it to each destination with retries.  See delivery.py for the state that makes this resumable.

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

import json
import logging
import string
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..errors import ConfigError, InputFormatError
from ..labels import CATEGORIES
from ..records import ScanResult
from .alerts import Alert, alert_key, masked_body, masked_evidence, message_ref
from .delivery import (AUDIT_NAME, DEAD_LETTER_NAME, AuditLog, RunLock, StateStore, deliver_with_retries,
                       utc_now)
from .destinations import Sender, append_jsonl, make_sender
from .policy import RoutingPolicy
from .policy_parse import check_min_scores, load_policy

log = logging.getLogger(__name__)

__all__ = ["RouteSummary", "Router", "route_results_file"]


@dataclass
class RouteSummary:
    """What a routing run did.  ``sent`` and ``dead`` count deliveries (alert x destination)."""

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
    sent: int = 0
    dead: int = 0
    by_destination: dict[str, int] = field(default_factory=dict)

    def merge(self, other: "RouteSummary") -> "RouteSummary":
        for name, value in asdict(other).items():
            if name == "by_destination":
                for d, n in value.items():
                    self.by_destination[d] = self.by_destination.get(d, 0) + n
            else:
                setattr(self, name, getattr(self, name) + value)
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


class Router:
    """Route scan results by a policy.  One result (dict or ScanResult) or an iterable of them.

    Args:
        policy: a :class:`RoutingPolicy`, a TOML path, or None for the defaults (JSONL queue only).
        thresholds: the model's flag thresholds (``clf.thresholds``); a rule's ``min_score`` below them
            is a :class:`ConfigError`.
        clock: returns "now" as an aware datetime (tests pass a fixed time for quiet hours).
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
        """Route one result or many; returns what was done.  Safe to call again over the same results."""
        items = [results] if isinstance(results, (dict, ScanResult)) else results
        summary = RouteSummary()
        with RunLock(self.policy.state_dir):
            if not self.policy.hours.is_quiet(self.clock()):
                self._release(summary)
            self._resume(summary)
            for result in items:
                self._route_one(result.to_dict() if isinstance(result, ScanResult) else result, summary)
        return summary

    def release_held(self) -> RouteSummary:
        """Deliver every held alert now, quiet hours or not (``route --release-held``)."""
        summary = RouteSummary()
        with RunLock(self.policy.state_dir):
            self._release(summary)
            self._resume(summary)
        return summary

    # --- steps --------------------------------------------------------------------------------------

    def _release(self, summary: RouteSummary) -> None:
        held = self.state.deliveries("held")
        if not held:
            return
        self.state.release_held()
        for alert, dest in held:
            self.audit.write("released", alert, dest)
        summary.released += len(held)
        self.state.write_held_file()

    def _resume(self, summary: RouteSummary) -> None:
        for alert, dest in self.state.deliveries("pending"):
            summary.resumed += 1
            self._deliver_one(alert, dest, summary, resuming=True)

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
            key = alert_key(ref, category, severity)
            if self.state.decision(key) is not None:
                summary.duplicates += 1
                continue
            self._decide(self._alert(result, key, ref, category, severity, score, rules, staff_report), ref,
                         _parse_time(result.get("timestamp_utc")), summary)

    def _alert(self, result, key, ref, category, severity, score, rules, staff_report) -> Alert:
        staff_name = result.get("staff_name") or None
        entry = self.policy.staff.get(staff_name) if staff_name else None
        dests = tuple(dict.fromkeys(d for r in rules for d in r.destinations))
        return Alert(
            key=key, message_id=str(result.get("message_id") or result.get("id") or ref), category=category,
            severity=severity, score=score,
            scores={c: round(float(v), 4) for c, v in (result.get("scores") or {}).items() if c in CATEGORIES},
            labels=tuple(c for c in result.get("labels") or [] if c in CATEGORIES),
            evidence=masked_evidence(result, category), conversation_id=result.get("conversation_id") or None,
            staff_name=staff_name, manager=entry.manager if entry else "",
            manager_email=entry.manager_email if entry else "",
            notify_manager=any(r.notify_manager for r in rules), staff_report=staff_report,
            channel=str(result.get("channel") or ""),
            timestamp=str(result.get("timestamp_local") or result.get("timestamp_utc") or ""),
            ticket_url=self._ticket_url(result), destinations=dests, rules=tuple(r.name for r in rules),
            body=masked_body(result.get("text", "")) if self.policy.message.include_body else None,
            created_at=utc_now())

    def _ticket_url(self, result: dict[str, Any]) -> str:
        template = self.policy.message.ticket_url
        values = {"conversation_id": result.get("conversation_id"), "message_id": result.get("message_id"),
                  "id": result.get("id")}
        used = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        if not template or any(not values.get(n) for n in used):
            return ""  # a link without its id would point nowhere useful
        return template.format(**{k: str(v or "") for k, v in values.items()})

    def _decide(self, alert: Alert, ref: str, when: datetime | None, summary: RouteSummary) -> None:
        now = self.clock()
        when = when or now
        conv = alert.conversation_id
        if conv and not alert.staff_report and self.policy.cooldown_minutes > 0:
            previous = self.state.cooldown(conv)
            window = timedelta(minutes=self.policy.cooldown_minutes)
            if (previous and previous[2] != ref and alert.severity <= previous[0]
                    and abs(when - previous[1]) < window):
                # The team already has this conversation at this severity; a higher one always goes out.
                self.state.record(alert, ref, "suppressed", {})
                self.audit.write("suppressed", alert, detail=f"cool-down after severity {previous[0]}")
                summary.suppressed += 1
                return
        held = self.policy.hours.holds(alert.severity, now)
        status = "held" if held else "pending"
        cooldown_at = when if conv and not alert.staff_report else None
        self.state.record(alert, ref, "held" if held else "route", {d: status for d in alert.destinations},
                          cooldown_at)
        if held:
            for dest in alert.destinations:
                self.audit.write("held", alert, dest, detail="quiet hours")
            self.state.write_held_file()
            summary.held += 1
            return
        summary.alerts += 1
        for dest in alert.destinations:
            self._deliver_one(alert, dest, summary)

    def _deliver_one(self, alert: Alert, dest: str, summary: RouteSummary, *, resuming: bool = False) -> None:
        sender = self._sender(dest)
        if sender is None:
            self._dead(alert, dest, 0, f"destination {dest!r} is no longer in the policy", summary)
            return
        if resuming and sender.already_delivered(alert):
            self.state.set_status(alert.key, dest, "sent", 0, "found after an interrupted run")
            self.audit.write("sent", alert, dest, attempts=0, detail="found after an interrupted run")
            summary.sent += 1
            summary.by_destination[dest] = summary.by_destination.get(dest, 0) + 1
            return

        def failed(attempt: int, exc: Exception) -> None:
            self.audit.write("attempt_failed", alert, dest, attempt=attempt, detail=str(exc)[:300])

        outcome = deliver_with_retries(sender, alert, self.policy.delivery, sleep=self.sleep,
                                       on_attempt_failed=failed)
        if outcome.ok:
            self.state.set_status(alert.key, dest, "sent", outcome.attempts, outcome.detail)
            self.audit.write("sent", alert, dest, attempts=outcome.attempts, detail=outcome.detail)
            summary.sent += 1
            summary.by_destination[dest] = summary.by_destination.get(dest, 0) + 1
        else:
            self._dead(alert, dest, outcome.attempts, outcome.detail, summary)
        if self.policy.delivery.min_interval_s:
            self.sleep(self.policy.delivery.min_interval_s)

    def _dead(self, alert: Alert, dest: str, attempts: int, detail: str, summary: RouteSummary) -> None:
        append_jsonl(self.policy.state_dir / DEAD_LETTER_NAME,
                     {"at": utc_now(), "destination": dest, "attempts": attempts, "error": detail[:500],
                      "alert": alert.to_dict()})
        self.state.set_status(alert.key, dest, "dead", attempts, detail)
        self.audit.write("dead", alert, dest, attempts=attempts, detail=detail[:300])
        summary.dead += 1


def shape_problem(result: dict[str, Any]) -> str | None:
    """What makes a result record unusable for routing, or None (the fields routing reads, as scanning writes them).

    >>> shape_problem({"labels": ["abuse"], "scores": {"abuse": 0.9}, "severity": 2}) is None
    True
    >>> shape_problem({"labels": "abuse"})
    'labels is not a list of category ids'
    """
    labels, scores, severity = result.get("labels"), result.get("scores"), result.get("severity")
    if labels is not None and not (isinstance(labels, list) and all(isinstance(c, str) for c in labels)):
        return "labels is not a list of category ids"
    if scores is not None and not (isinstance(scores, dict) and all(
            v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in scores.values())):
        return "scores is not an object of category -> number"
    if severity is not None and (isinstance(severity, bool) or not isinstance(severity, int)):
        return "severity is not an integer 0-3"
    return None


def read_results(path: str | Path, on_problem: Callable[[str], None] | None = None,
                 problems: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Yield the result records of a JSONL results file ("-": stdin); bad lines are reported, not fatal."""
    if str(path).lower().endswith(".csv"):
        raise InputFormatError("routing reads JSONL results; write them with `kasuhara scan ... -o results.jsonl`",
                               path=str(path))
    f = sys.stdin if str(path) == "-" else open(path, encoding="utf-8-sig")
    try:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            problem = "not a JSON object" if not isinstance(record, dict) else shape_problem(record)
            if problem:
                message = f"{path}:{n}: {problem}; line skipped"
                if problems is not None:
                    problems.append(message)
                if on_problem:
                    on_problem(message)
                continue
            yield record
    finally:
        if f is not sys.stdin:
            f.close()


def route_results_file(path: str | Path | None, policy: RoutingPolicy | str | Path | None = None, *,
                       release_held: bool = False, thresholds: dict[str, float] | None = None,
                       on_problem: Callable[[str], None] | None = None) -> RouteSummary:
    """Route a results JSONL written earlier (``kasuhara route``); ``release_held`` first delivers every
    held alert whatever the time.  ``path`` may be None with ``release_held``.

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
        summary = router.release_held() if release_held else RouteSummary()
        if path is not None:
            problems: list[str] = []
            summary.merge(router.route(read_results(path, on_problem, problems)))
            summary.unreadable += len(problems)
    return summary
