"""Records shared by every stage: what readers yield and what scanning writes.

Data flows one way: readers yield :class:`MessageRecord`; the scanner turns each one into a
:class:`ScanResult`, the output contract written as JSONL or CSV.  No logic lives here but
:func:`message_ref`, the contract's rule for which message a result is.

>>> r = MessageRecord(record_id="m1", body_text="こんにちは")
>>> r.author_role, r.status
('unknown', 'ok')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

#: Version of the JSONL output contract below.  Bump on incompatible changes.
SCHEMA_VERSION = "1.0"

#: Statuses of a result.  Every input record gets exactly one result.
STATUSES = ("ok", "not_scored", "skipped", "error")

#: Segment kinds of a message body.  Only "new" is scored by default.
SEGMENT_KINDS = ("new", "quoted", "signature", "forward", "system", "agent")

#: Author roles.  Only "customer" and "unknown" public messages are scored.
ROLES = ("customer", "agent", "bot", "system", "unknown")


@dataclass(frozen=True)
class Segment:
    """A labelled span ``[start, end)`` of a message body."""

    kind: str
    start: int
    end: int


@dataclass
class MessageRecord:
    """One message, as read from any source (mail, helpdesk export, CSV, chat transcript).

    ``status`` is "ok" for a message that can be scored; readers set "not_scored" (agent reply,
    internal note, auto-reply: with ``reason``), "skipped" (empty text) or "error" (a record that could
    not be read: ``reason`` names the file and line) so that every input record is accounted for.
    """

    record_id: str
    body_text: str = ""
    text_to_score: str | None = None  # None: derive it from body_text
    segments: list[Segment] = field(default_factory=list)
    source_format: str = ""
    source_file: str = ""
    source_locator: str = ""  # line number, mbox key, JSON pointer
    conversation_id: str | None = None
    message_id: str | None = None
    sequence: int = 0
    timestamp_utc: str | None = None  # ISO 8601 with Z
    timestamp_local: str | None = None  # ISO 8601 with the source's offset (JST assumed if none)
    timestamp_assumed_tz: bool = False
    author_role: str = "unknown"
    role_basis: str = ""
    author_name: str | None = None
    staff_name: str | None = None  # the staff member the message is addressed to, when known
    visibility: str = "public"
    channel: str = "other"
    subject: str | None = None
    is_auto_generated: bool = False
    decode_warnings: list[str] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    pii_findings: list[dict[str, Any]] = field(default_factory=list)
    status: str = "ok"
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    text_fallback: bool = False  # no new text was found, so the whole body is scored

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Evidence:
    """A span of the scored text that drove a flagged category.

    ``start``/``end`` point into the scored text.  ``original_start``/``original_end``, set by
    ``KasuharaClassifier.predict``, point into the text that was passed to it (None elsewhere).
    """

    label: str
    start: int
    end: int
    text: str
    score: float
    original_start: int | None = None
    original_end: int | None = None


@dataclass
class ScanResult:
    """The output contract: one per input record, in input order (documented in README)."""

    id: str
    kind: str = "message"  # "message" or "conversation"
    status: str = "ok"
    reason: str | None = None
    flagged: bool = False
    labels: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    severity: int = 0
    evidence: list[Evidence] = field(default_factory=list)
    text: str = ""
    model: str = ""
    model_version: str = ""
    schema_version: str = SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)  # source, conversation_id, timestamps, ...

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        extra = d.pop("extra")
        d.update({k: v for k, v in extra.items() if k not in d})
        return d


def message_ref(result: Mapping[str, Any]) -> str:
    """The message's identity for de-duplication and analyst decisions: its Message-ID / ticket comment id
    when the result carries one (global), else the record id qualified by the source file (ids like row
    numbers repeat across files).

    >>> message_ref({"id": "7", "source_file": "inbox.csv"}), message_ref({"id": "7", "message_id": "<a@b>"})
    ('inbox.csv#7', '<a@b>')
    """
    if result.get("message_id"):
        return str(result["message_id"])
    source = result.get("source_file") or ""
    return f"{source}#{result.get('id', '')}" if source else str(result.get("id", ""))
