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
``"counted": false``, for the analyst.  A long call or chat is one session of a live channel (chat, LINE,
phone, visit) kept going by the customer: a ticket answered the next day, or an agent slow to reply, is
not the customer holding staff.

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

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .errors import ConfigError
from .labels import CATEGORIES
from .records import MessageRecord, ScanResult
from .similarity import RequestProfile, char_ngram_similarity, profile_similarity, request_profile, request_text

__all__ = ["ConversationConfig", "char_ngram_similarity", "score_conversation"]

#: Author roles whose messages are the customer's (a role the reader could not tell counts as the customer's).
CUSTOMER_ROLES = ("customer", "unknown")
# Channels whose messages are turns of a live call, chat, LINE talk or visit: what readers emit (chat,
# messaging_line, phone_transcript), Zendesk's via.channel names and common export values.  Mail, web forms
# and helpdesk tickets ("other") are answered at the desk's own pace, so their time span is no restraint.
LIVE_CHANNELS = ("chat", "messaging_line", "phone_transcript", "phone", "voice", "call", "line", "native_messaging",
                 "meeting", "visit", "チャット", "電話", "来店", "来所", "来庁", "訪問", "面談", "窓口")


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
        repeat_similarity: similarity (wording and subject, see :func:`.similarity.request_similarity`) at which a
            request, its greetings and closings left out, counts as repeated.
        persistent_repeats: a request repeated after an answer this many times counts even if no
            message of it was flagged.
        ngram: n of the character n-grams.
        signal_score: the category score a signal contributes.
        threshold: score at which a category becomes a label.
        duration_channels: live channels (compared NFKC, case-insensitively) whose customer sessions can
            be long calls/chats; other channels (mail, web tickets) never give a duration signal.
    """

    max_duration_minutes: float = 60.0
    max_contacts_per_day: int = 5
    contact_gap_minutes: float = 30.0
    business_start_hour: int = 9
    business_end_hour: int = 18
    business_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    utc_offset_hours: float = 9.0
    min_out_of_hours_messages: int = 2
    repeat_similarity: float = 0.6
    persistent_repeats: int = 3
    ngram: int = 2
    signal_score: float = 0.6
    threshold: float = 0.5
    duration_channels: tuple[str, ...] = LIVE_CHANNELS
    signal_categories: dict[str, str] = field(default_factory=lambda: {
        "long_duration": "restraint", "contacts_per_day": "restraint", "out_of_hours": "restraint",
        "repeated_demand": "demand"})

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
        if not isinstance(self.duration_channels, tuple) or not all(
                isinstance(c, str) and c.strip() for c in self.duration_channels):
            raise bad("duration_channels", "must be a tuple of channel names")
        if not (isinstance(self.ngram, int) and self.ngram >= 1):
            raise bad("ngram", "must be an integer >= 1")
        for name in ("signal_score", "threshold"):
            if not 0 <= getattr(self, name) <= 1:
                raise bad(name, "must be in [0, 1]")
        unknown = {c for c in self.signal_categories.values() if c not in CATEGORIES}
        if unknown:
            raise bad("signal_categories", f"unknown categories {sorted(unknown)}; use {', '.join(CATEGORIES)}")


def _time(record: MessageRecord) -> datetime | None:
    if record.timestamp_utc:
        try:
            return datetime.fromisoformat(record.timestamp_utc.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _signal(kind: str, config: ConversationConfig, detail: str, message_ids: list[str], counted: bool = True,
            **values: Any) -> dict:
    return {"type": kind, "category": config.signal_categories[kind], "score": config.signal_score,
            "counted": counted, "detail": detail, "message_ids": message_ids, **values}


def _channel_key(channel: str | None) -> str:
    return unicodedata.normalize("NFKC", channel or "").strip().casefold()


def _moments(records: list[MessageRecord]) -> list[tuple[float, MessageRecord]]:
    """(seconds, record) in time order: absolute times where the source has them, else the offsets within
    one transcript (a call's ``00:03:12``, clock times without a date), never a mix of the two."""
    absolute = [(t.timestamp(), r) for r in records if (t := _time(r)) is not None]
    if len(absolute) >= 2:
        return sorted(absolute, key=lambda m: m[0])
    relative = [(float(v), r) for r in records
                if isinstance(v := r.extra.get("offset_seconds", r.extra.get("elapsed_seconds")), (int, float))]
    return sorted(relative, key=lambda m: m[0])


def _duration_signals(customer: list[MessageRecord], config: ConversationConfig) -> list[dict]:
    """Customer sessions on a live channel longer than ``max_duration_minutes``, one signal each.

    A session is what the contacts signal counts as one contact: customer messages less than
    ``contact_gap_minutes`` apart.  Only the customer's messages mark it, so an agent's slow reply or
    the agent's own lines never lengthen it, and a customer who comes back hours later starts anew.
    """
    live = {_channel_key(c) for c in config.duration_channels}
    gap = config.contact_gap_minutes * 60
    sessions: list[list[tuple[float, MessageRecord]]] = []
    for moment in _moments([r for r in customer if _channel_key(r.channel) in live]):
        if sessions and moment[0] - sessions[-1][-1][0] < gap:
            sessions[-1].append(moment)
        else:
            sessions.append([moment])
    out = []
    for session in sessions:
        minutes = (session[-1][0] - session[0][0]) / 60
        if minutes > config.max_duration_minutes:
            out.append(_signal(
                "long_duration", config,
                f"customer kept a call/chat going for {minutes:.0f} min (limit {config.max_duration_minutes:g}; "
                f"a pause of {config.contact_gap_minutes:g} min ends a session)",
                [session[0][1].record_id, session[-1][1].record_id], minutes=round(minutes, 1),
            ))
    return out


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


def _repeat_signals(ordered: list[MessageRecord], config: ConversationConfig, flagged: set[str], *,
                    make_profile: Callable[[str, int], Any] = request_profile,
                    compare: Callable[[Any, Any], float] = profile_similarity) -> list[dict]:
    """A customer request near-identical to an earlier customer request that an agent already answered.

    Persistence is per request: ``persistent_repeats`` repeats must go back to the same first request
    (``first_message_id``), so three different questions asked once more each are not persistent.
    Each request's profile is built once, when it is read, so a pair costs only its set intersections.
    (``make_profile`` and ``compare`` are there for benchmarks/bench_repeats.py, which times the same loop
    with the texts compared pair by pair, as before request profiles.)
    """
    out = []
    answered: list[tuple[MessageRecord, RequestProfile]] = []  # customer requests followed by an agent reply
    pending: list[tuple[MessageRecord, RequestProfile]] = []
    first: dict[str, str] = {}  # record id of a repeat -> record id of the request it repeats
    for r in ordered:
        if r.author_role == "agent" and r.visibility == "public":
            answered.extend(pending)
            pending = []
            continue
        if r.author_role not in CUSTOMER_ROLES:
            continue
        request = request_text(r)
        profile = make_profile(request, config.ngram)
        sim, earlier = max(((compare(profile, p), e) for e, p in answered),
                           key=lambda se: se[0], default=(0.0, None))
        if request and earlier is not None and sim >= config.repeat_similarity:
            first[r.record_id] = first.get(earlier.record_id, earlier.record_id)
            out.append(_signal(
                "repeated_demand", config,
                f"message repeats an earlier request after an agent answered it (similarity {sim:.2f})",
                [earlier.record_id, r.record_id], similarity=round(sim, 3), first_message_id=first[r.record_id],
            ))
        pending.append((r, profile))
    repeats = Counter(first.values())
    for sig in out:
        persistent = repeats[sig["first_message_id"]] >= config.persistent_repeats
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
    customer = [r for r in ordered if r.author_role in CUSTOMER_ROLES and r.visibility == "public"
                and not r.is_auto_generated]
    flagged = {str(res.get("id")) for res in scored if res.get("labels")}
    signals: list[dict[str, Any]] = []
    signals.extend(_duration_signals(customer, config))
    if (sig := _out_of_hours_signal(customer, config, flagged)) is not None:
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
