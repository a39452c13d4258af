"""Build the :class:`Alert` for one flagged category of one scan result: what the response team is sent.

The router decides *whether* a category of a result is alerted (rules, idempotency, cool-down, quiet hours);
this says *what* the alert holds: masked evidence and body, the staff member and their manager, and a link to
the ticket.

>>> from .policy_parse import parse_policy
>>> policy = parse_policy({"message": {"ticket_url": "https://hd.example.jp/t/{conversation_id}"}})
>>> alert = build_alert({"id": "m1", "conversation_id": "c/1", "labels": ["abuse"], "scores": {"abuse": 0.91}},
...                     policy, key="k1", ref="m1", category="abuse", severity=2, score=0.91,
...                     rules=list(policy.rules), staff_report=False)
>>> alert.ticket_url, alert.destinations, alert.scores
('https://hd.example.jp/t/c%2F1', ('queue',), {'abuse': 0.91})
"""

from __future__ import annotations

import string
from typing import Any
from urllib.parse import quote

from ..labels import CATEGORIES
from .alerts import Alert, jst_time, masked_body, masked_evidence
from .policy import RoutingPolicy, Rule
from .state import utc_now

__all__ = ["build_alert", "ticket_url"]


def build_alert(result: dict[str, Any], policy: RoutingPolicy, *, key: str, ref: str, category: str, severity: int,
                score: float | None, rules: list[Rule], staff_report: bool) -> Alert:
    """The alert for ``category`` of ``result``, sent to every destination of the matching ``rules``.

    ``key`` is its idempotency key (:func:`~.alerts.alert_key`), ``ref`` the result's message reference and
    ``score`` None for a staff report (no model score stands behind it).
    """
    staff_name = result.get("staff_name") or None
    entry = policy.staff_entry(staff_name)
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
        timestamp=jst_time(result.get("timestamp_local") or result.get("timestamp_utc")),
        ticket_url=ticket_url(policy.message.ticket_url, result), destinations=dests,
        rules=tuple(r.name for r in rules),
        body=masked_body(result.get("text", "")) if policy.message.include_body else None,
        created_at=utc_now())


def ticket_url(template: str, result: dict[str, Any]) -> str:
    """``message.ticket_url`` filled in from the result's ids; "" when it uses an id the result lacks.

    >>> ticket_url("https://hd.example.jp/t/{conversation_id}", {"conversation_id": "42/../x"})
    'https://hd.example.jp/t/42%2F..%2Fx'
    >>> ticket_url("https://hd.example.jp/t/{conversation_id}", {"id": "m1"})
    ''
    """
    values = {"conversation_id": result.get("conversation_id"), "message_id": result.get("message_id"),
              "id": result.get("id")}
    used = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    if not template or any(not values.get(n) for n in used):
        return ""  # a link without its id would point nowhere useful
    # Ids come from customers' mail headers: percent-encode all of them, "/" included, so that an id
    # can neither change the link's path nor smuggle in another URL.
    return template.format(**{k: quote(str(v or ""), safe="") for k, v in values.items()})
