"""Conversation-level scoring: what no single message shows.

A customer who calls for two hours, or contacts the desk twelve times a day, may never use an abusive
word.  :func:`score_conversation` combines the message results of one conversation (max per category)
with signals that count toward ``restraint`` (time) or ``demand`` (repetition).  It is a pure function:
no I/O, no model.

Writing at night or asking again is what legitimate customers do too, and flagging them is a failure.
So a long call or chat and a flood of contacts label the conversation on their own (they are the
conduct), while messages outside business hours count only when the model flagged them (the guideline's
"out-of-hours demands"), and a request repeated after an answer only when the model flagged it or it
came back ``persistent_repeats`` times.  Signals that do not count are still listed, with
``"counted": false``, for the analyst.

>>> from kasuhara_nlp.records import MessageRecord
>>> recs = [MessageRecord(record_id="m1", body_text="返金しろ", conversation_id="c1", author_role="customer",
...                       timestamp_utc="2025-03-04T01:00:00Z")]
>>> res = [{"id": "m1", "status": "ok", "scores": {"demand": 0.8}, "labels": ["demand"], "severity": 2,
...         "evidence": [{"label": "demand", "start": 0, "end": 4, "text": "返金しろ", "score": 0.8}]}]
>>> out = score_conversation(recs, res, ConversationConfig())
>>> out["id"], out["kind"], out["labels"], out["evidence"][0]["message_id"]
('c1', 'conversation', ['demand'], 'm1')
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .errors import ConfigError
from .labels import CATEGORIES
from .records import MessageRecord, ScanResult

__all__ = ["ConversationConfig", "char_ngram_similarity", "score_conversation"]

_CUSTOMER_ROLES = ("customer", "unknown")


@dataclass(frozen=True)
class ConversationConfig:
    """Thresholds of the conversation signals (validated; ConfigError on bad values).

    Attributes:
        max_duration_minutes: a call/chat longer than this is a restraint signal.
        max_contacts_per_day: more contacts than this from one customer in one local day -> restraint.
        contact_gap_minutes: customer messages closer together than this are one contact (a chat's lines,
            a mail and its "forgot the attachment" follow-up).
        business_start_hour, business_end_hour: business hours [start, end) in local time.
        business_weekdays: Monday=0 ... Sunday=6.
        utc_offset_hours: local time of the business (JST, +9, by default).
        min_out_of_hours_messages: this many flagged customer messages outside business hours -> restraint.
        repeat_similarity: character n-gram similarity at which a request counts as repeated.
        persistent_repeats: a request repeated after an answer this many times counts even if no
            message of it was flagged.
        ngram: n of the character n-grams.
        signal_score: the category score a signal contributes.
        threshold: score at which a category becomes a label.
        no_duration_channels: channels whose threads have no duration signal (mail).
    """

    max_duration_minutes: float = 60.0
    max_contacts_per_day: int = 5
    contact_gap_minutes: float = 30.0
    business_start_hour: int = 9
    business_end_hour: int = 18
    business_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    utc_offset_hours: float = 9.0
    min_out_of_hours_messages: int = 2
    repeat_similarity: float = 0.5
    persistent_repeats: int = 3
    ngram: int = 2
    signal_score: float = 0.6
    threshold: float = 0.5
    no_duration_channels: tuple[str, ...] = ("email",)
    signal_categories: dict[str, str] = field(
        default_factory=lambda: {
            "long_duration": "restraint",
            "contacts_per_day": "restraint",
            "out_of_hours": "restraint",
            "repeated_demand": "demand",
        }
    )

    def __post_init__(self) -> None:
        def bad(name: str, rule: str) -> ConfigError:
            return ConfigError(f"ConversationConfig.{name}={getattr(self, name)!r}: {rule}")

        if not self.max_duration_minutes > 0:
            raise bad("max_duration_minutes", "must be a positive number of minutes")
        if not (isinstance(self.max_contacts_per_day, int) and self.max_contacts_per_day >= 1):
            raise bad("max_contacts_per_day", "must be an integer >= 1")
        if not 0 <= self.business_start_hour < self.business_end_hour <= 24:
            raise bad("business_start_hour", "business hours need 0 <= start < end <= 24")
        if not self.business_weekdays or any(d not in range(7) for d in self.business_weekdays):
            raise bad("business_weekdays", "use weekday numbers 0 (Monday) to 6 (Sunday)")
        if not -14 <= self.utc_offset_hours <= 14:
            raise bad("utc_offset_hours", "must be between -14 and 14")
        if not self.contact_gap_minutes >= 0:
            raise bad("contact_gap_minutes", "must be a number of minutes >= 0")
        for name in ("min_out_of_hours_messages", "persistent_repeats"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                raise bad(name, "must be an integer >= 1")
        if not 0 < self.repeat_similarity <= 1:
            raise bad("repeat_similarity", "must be in (0, 1]")
        if not (isinstance(self.ngram, int) and self.ngram >= 1):
            raise bad("ngram", "must be an integer >= 1")
        for name in ("signal_score", "threshold"):
            if not 0 <= getattr(self, name) <= 1:
                raise bad(name, "must be in [0, 1]")
        unknown = {c for c in self.signal_categories.values() if c not in CATEGORIES}
        if unknown:
            raise bad("signal_categories", f"unknown categories {sorted(unknown)}; use {', '.join(CATEGORIES)}")


def char_ngram_similarity(a: str, b: str, n: int = 2) -> float:
    """Dice similarity of the character n-gram sets of two texts (whitespace ignored).

    >>> round(char_ngram_similarity("返金してください", "早く返金してください"), 2)
    0.88
    """
    a = "".join(a.split())
    b = "".join(b.split())
    if not a or not b:
        return 0.0
    ga = {a[i : i + n] for i in range(max(len(a) - n + 1, 1))}
    gb = {b[i : i + n] for i in range(max(len(b) - n + 1, 1))}
    return 2 * len(ga & gb) / (len(ga) + len(gb))


def _time(record: MessageRecord) -> datetime | None:
    if record.timestamp_utc:
        try:
            return datetime.fromisoformat(record.timestamp_utc.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _signal(kind: str, config: ConversationConfig, detail: str, message_ids: list[str], counted: bool = True,
            **values: Any) -> dict:
    return {
        "type": kind,
        "category": config.signal_categories[kind],
        "score": config.signal_score,
        "counted": counted,
        "detail": detail,
        "message_ids": message_ids,
        **values,
    }


def _duration_signal(records: list[MessageRecord], config: ConversationConfig) -> dict | None:
    # Duration is a call/chat notion: a mail thread spanning days is not a long conversation.
    records = [r for r in records if r.channel not in config.no_duration_channels and not r.is_auto_generated]
    times = [(t, r.record_id) for r in records if (t := _time(r)) is not None]
    if len(times) >= 2:
        times.sort()
        minutes = (times[-1][0] - times[0][0]).total_seconds() / 60
    else:
        # Call transcripts without a date carry offsets from the start of the call.
        offsets = [(r.extra["offset_seconds"], r.record_id) for r in records if "offset_seconds" in r.extra]
        if len(offsets) < 2:
            return None
        offsets.sort()
        minutes = (offsets[-1][0] - offsets[0][0]) / 60
        times = offsets  # type: ignore[assignment]
    if minutes <= config.max_duration_minutes:
        return None
    return _signal(
        "long_duration", config, f"conversation lasted {minutes:.0f} min (limit {config.max_duration_minutes:g})",
        [times[0][1], times[-1][1]], minutes=round(minutes, 1),
    )


def _customer_key(record: MessageRecord) -> str:
    return record.author_name or "customer"


def _contacts_signals(customer: list[MessageRecord], config: ConversationConfig) -> list[dict]:
    """Contacts per customer per local day; a contact starts after ``contact_gap_minutes`` of silence, so the
    twenty lines of one chat are one contact, not twenty."""
    tz = timezone(timedelta(hours=config.utc_offset_hours))
    gap = timedelta(minutes=config.contact_gap_minutes)
    timed = sorted(((t, r) for r in customer if (t := _time(r)) is not None), key=lambda tr: tr[0])
    last: dict[str, datetime] = {}
    per_day: dict[tuple[str, str], list[str]] = defaultdict(list)  # first message of each contact
    for t, r in timed:
        who = _customer_key(r)
        if who not in last or t - last[who] >= gap:
            per_day[(who, t.astimezone(tz).date().isoformat())].append(r.record_id)
        last[who] = t
    out = []
    for (_who, day), ids in sorted(per_day.items(), key=lambda kv: kv[0][1]):
        if len(ids) > config.max_contacts_per_day:
            out.append(_signal(
                "contacts_per_day", config,
                f"{len(ids)} contacts on {day} (limit {config.max_contacts_per_day})", ids,
                day=day, count=len(ids),
            ))
    return out


def _out_of_hours_signal(customer: list[MessageRecord], config: ConversationConfig,
                         flagged: set[str]) -> dict | None:
    tz = timezone(timedelta(hours=config.utc_offset_hours))
    ids = []
    for r in customer:
        t = _time(r)
        if t is None:
            continue
        local = t.astimezone(tz)
        hour = local.hour + local.minute / 60
        if local.weekday() not in config.business_weekdays or not (
            config.business_start_hour <= hour < config.business_end_hour
        ):
            ids.append(r.record_id)
    if len(ids) < config.min_out_of_hours_messages:
        return None
    demands = [i for i in ids if i in flagged]
    return _signal(
        "out_of_hours", config,
        f"{len(ids)} customer messages outside business hours, {len(demands)} of them flagged "
        f"({config.business_start_hour}:00-{config.business_end_hour}:00, weekdays {list(config.business_weekdays)})",
        ids, counted=len(demands) >= config.min_out_of_hours_messages, count=len(ids),
    )


def _repeat_signals(ordered: list[MessageRecord], config: ConversationConfig, flagged: set[str]) -> list[dict]:
    """A customer message similar to an earlier customer message that an agent already answered."""
    out = []
    answered: list[MessageRecord] = []  # customer messages followed by an agent reply
    pending: list[MessageRecord] = []
    for r in ordered:
        if r.author_role == "agent" and r.visibility == "public":
            answered.extend(pending)
            pending = []
            continue
        if r.author_role not in _CUSTOMER_ROLES:
            continue
        text = r.text_to_score if r.text_to_score is not None else r.body_text
        for earlier in answered:
            earlier_text = earlier.text_to_score if earlier.text_to_score is not None else earlier.body_text
            sim = char_ngram_similarity(text, earlier_text, config.ngram)
            if sim >= config.repeat_similarity:
                out.append(_signal(
                    "repeated_demand", config,
                    f"message repeats an earlier request after an agent answered it (similarity {sim:.2f})",
                    [earlier.record_id, r.record_id], similarity=round(sim, 3),
                ))
                break
        pending.append(r)
    persistent = len(out) >= config.persistent_repeats
    for sig in out:
        sig["counted"] = persistent or any(i in flagged for i in sig["message_ids"])
    return out


def _order(records: list[MessageRecord]) -> list[MessageRecord]:
    indexed = list(enumerate(records))
    # Timestamp when every record has one; else the source order (sequence, then input order).
    if all(_time(r) is not None for r in records):
        indexed.sort(key=lambda ir: (_time(ir[1]), ir[1].sequence, ir[0]))
    else:
        indexed.sort(key=lambda ir: (ir[1].sequence, ir[0]))
    return [r for _, r in indexed]


def score_conversation(
    records: list[MessageRecord], message_results: list[dict], config: ConversationConfig
) -> dict[str, Any]:
    """Score one conversation from its records and their message results.

    Returns a result dict with the fields of ``ScanResult.to_dict()`` (``kind`` "conversation",
    ``id`` the conversation id), scores = per-category max over scored messages raised by the
    signals, evidence spans tagged with their ``message_id``, and a ``signals`` list.

    Raises:
        ConfigError: ``records`` is empty.
    """
    if not records:
        raise ConfigError("score_conversation needs at least one record of the conversation")
    conv_id = next((r.conversation_id for r in records if r.conversation_id), records[0].record_id)
    by_id = {res.get("id"): res for res in message_results}
    scored = [by_id[r.record_id] for r in records if by_id.get(r.record_id, {}).get("status") == "ok"]
    scores = {c: 0.0 for c in CATEGORIES}
    labels: set[str] = set()
    severity = 0
    evidence: list[dict[str, Any]] = []
    for res in scored:
        for c, p in (res.get("scores") or {}).items():
            if c in scores:
                scores[c] = max(scores[c], float(p))
        labels.update(c for c in res.get("labels") or [] if c in scores)
        severity = max(severity, int(res.get("severity") or 0))
        for ev in res.get("evidence") or []:
            ev = dict(ev) if isinstance(ev, dict) else dict(vars(ev))
            evidence.append({**ev, "message_id": res.get("id")})

    ordered = _order(records)
    customer = [r for r in ordered if r.author_role in _CUSTOMER_ROLES and r.visibility == "public"
                and not r.is_auto_generated]
    flagged = {str(res.get("id")) for res in scored if res.get("labels")}
    signals: list[dict[str, Any]] = []
    for sig in (_duration_signal(ordered, config), _out_of_hours_signal(customer, config, flagged)):
        if sig is not None:
            signals.append(sig)
    signals.extend(_contacts_signals(customer, config))
    signals.extend(_repeat_signals(ordered, config, flagged))
    for sig in signals:
        if not sig["counted"]:
            continue
        c = sig["category"]
        scores[c] = max(scores[c], sig["score"])
        if sig["score"] >= config.threshold:
            labels.add(c)
    ordered_labels = [c for c in CATEGORIES if c in labels]
    if ordered_labels and severity == 0:
        severity = 1  # flagged by signals alone: mild until a person looks
    if not ordered_labels:
        severity = 0
    status, reason = ("ok", None) if scored or signals else (
        "not_scored", "no scored customer message in this conversation")
    result = ScanResult(
        id=str(conv_id), kind="conversation", status=status, reason=reason, flagged=bool(ordered_labels),
        labels=ordered_labels, scores={c: round(s, 6) for c, s in scores.items()}, severity=severity,
        extra={"conversation_id": str(conv_id), "message_ids": [r.record_id for r in ordered]},
    ).to_dict()
    result["evidence"] = evidence
    result["signals"] = signals
    return result
