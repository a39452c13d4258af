"""Staff self-report: a staff member reports a message they received, flagged by the model or not.

The report is routed by the same policy as model alerts (marked as a staff report, with no model score
and no cool-down; never taken for a repeat of the model's alert on the same message), and kept as a
labelled example for retraining: one line in the data/SCHEMA.md format with ``source: "staff_report"``,
appended to ``policy.staff_reports_path`` (default
data/staff_reports.jsonl, outside data/corpus so it is reviewed before it joins the training pool).
The stored text is PII-masked; the staff member's name is not stored in the example.  The person who
reported gets :meth:`StaffReportResult.acknowledgement`: a short note, in the policy's language, that the
report was received, that they are not alone, and what happens next (or that it could not be sent).

>>> import tempfile, os
>>> from .policy_parse import parse_policy
>>> d = tempfile.mkdtemp()
>>> policy = parse_policy({"state_dir": d, "staff_reports_path": os.path.join(d, "sr.jsonl")})
>>> r = report_message("土下座しろ。090-1234-5678に電話しろ", staff="山田", categories=["demand"], severity=2,
...                    policy=policy)
>>> r.summary.sent, r.example["source"], r.example["text"]
(1, 'staff_report', '土下座しろ。[電話]に電話しろ')
>>> print(r.acknowledgement().splitlines()[0])
申告を受け付けました。知らせてくれてありがとうございます。
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import ConfigError, LabelError
from ..labels import validate_labels
from ..pii import mask_text
from .alerts import alert_key, message_ref
from .destinations import append_jsonl
from .policy import JST, RoutingPolicy
from .policy_parse import load_policy
from .router import RouteSummary, Router
from .staff_ack import acknowledgement_text

__all__ = ["CHANNELS", "StaffReportResult", "report_message"]

_RANK = {"sent": 0, "resolved": 0, "pending": 1, "held": 1, "retry": 2, "dead": 3}
#: Channels of data/SCHEMA.md, plus "other".
CHANNELS = ("email", "chat", "phone", "meeting", "web_form", "sns_dm", "review_reply", "one_liner", "other")


@dataclass(frozen=True)
class StaffReportResult:
    """What a report did: the routing summary, and the labelled example kept (``added`` False when the
    same report was already kept).  ``deliveries``: destination -> status (sent, held, retry, dead) of the
    report's alerts after routing, for all its categories; empty when no rule routes it."""

    summary: RouteSummary
    example: dict[str, Any]
    example_path: Path
    added: bool
    deliveries: dict[str, str] = field(default_factory=dict)
    severity: int = 0
    manager: str = ""  # the manager named in the alert, when a matching rule notifies them
    language: str = "ja"
    care_message: str = ""
    guideline_url: str = ""

    def acknowledgement(self) -> str:
        """What to tell the person who reported (Japanese by default; the policy's message.language)."""
        return acknowledgement_text(self)


def _has_id(path: Path, example_id: str) -> bool:
    if not path.exists():
        return False
    needle = json.dumps(example_id)
    with open(path, encoding="utf-8") as f:
        return any(f'"id": {needle}' in line for line in f)


def report_message(text: str, *, staff: str, categories: list[str] | tuple[str, ...], severity: int,
                   policy: RoutingPolicy | str | Path | None = None, conversation_id: str | None = None,
                   message_id: str | None = None, channel: str = "web_form", quote: str | None = None,
                   note: str = "", router: Router | None = None) -> StaffReportResult:
    """Route a message a staff member reports, and keep it as a labelled example.

    Args:
        text: the message as received.
        staff: the reporting staff member (their manager is looked up in the policy's staff map).
        categories: category ids (at least one); severity: 1-3.
        policy: the routing policy (or pass a ``router`` to reuse one).
        quote: the part of ``text`` that is harassment, shown in the alert as evidence.
        note: one short line on why, kept in the example's ``notes``.
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("text: the reported message is empty; pass the text the customer sent")
    if not staff or not staff.strip():
        raise ConfigError("staff: name the staff member who received the message")
    categories = list(dict.fromkeys(categories))
    if not categories:
        raise ConfigError("categories: give at least one category, e.g. abuse")
    try:
        validate_labels(categories, severity)
    except LabelError as exc:
        raise ConfigError(f"categories/severity: {exc}") from None
    if channel not in CHANNELS:
        raise ConfigError(f"channel: must be one of {', '.join(CHANNELS)}, got {channel!r}")
    if quote is not None and quote not in text:
        raise ConfigError("quote: must be an exact part of the reported text")
    own_router = router is None
    router = router or Router(load_policy(policy))
    masked = mask_text(text).text
    digest = hashlib.sha256(f"{staff}\x1f{text}".encode("utf-8")).hexdigest()[:16]
    example_id = f"sr-{digest}"
    reported = datetime.now(timezone.utc)
    now = reported.isoformat(timespec="seconds").replace("+00:00", "Z")
    masked_quote = mask_text(quote).text if quote else None
    evidence = []
    if masked_quote:
        start = masked.find(masked_quote)
        evidence = [{"label": c, "start": start, "end": start + len(masked_quote), "text": masked_quote,
                     "score": None} for c in categories]
    result = {
        "id": example_id, "kind": "message", "status": "ok", "flagged": True, "labels": categories,
        "scores": {}, "severity": severity, "evidence": evidence, "text": masked, "model": "staff_report",
        "model_version": "", "conversation_id": conversation_id, "message_id": message_id,
        "timestamp_utc": now, "timestamp_local": reported.astimezone(JST).isoformat(timespec="seconds"),
        "author_role": "customer", "channel": channel, "staff_name": staff.strip(), "staff_report": True,
    }
    ref = message_ref(result)
    try:
        summary = router.route(result)
        deliveries: dict[str, str] = {}
        for category in categories:
            for dest, status in router.state.statuses(alert_key(ref, category, severity, staff_report=True)).items():
                # The worst status of a destination across categories is the one to tell the reporter.
                if _RANK.get(status, 0) >= _RANK.get(deliveries.get(dest, ""), -1):
                    deliveries[dest] = status
    finally:
        if own_router:
            router.close()
    p = router.policy
    entry = p.staff_entry(staff)
    notifies = any(r.notify_manager and r.matches(c, severity, None) for r in p.rules for c in categories)
    example = {
        "id": example_id, "family": f"sr-f{digest}", "text": masked,
        "label_quote": masked_quote if masked_quote and masked_quote in masked else None,
        "channel": channel, "industry": "other", "register": "unknown", "labels": categories,
        "severity": severity, "subtypes": [], "hard_negative": False, "source": "staff_report",
        "notes": " ".join(("staff report. " + note).split())[:300], "reported_at": now,
    }
    path = router.policy.staff_reports_path
    added = not _has_id(path, example_id)
    if added:
        append_jsonl(path, example)
    return StaffReportResult(summary=summary, example=example, example_path=path, added=added,
                             deliveries=deliveries, severity=severity,
                             manager=entry.manager if entry and notifies else "", language=p.message.language,
                             care_message=p.message.care_message, guideline_url=p.message.guideline_url)
