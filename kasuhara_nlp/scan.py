"""Batch scanning: input files -> one result per record (in input order) -> JSONL or CSV, and a summary.

Data flows one way: :func:`~kasuhara_nlp.readers.read_records` yields records lazily; customer
messages are scored in mini-batches; every record, scored or not, becomes exactly one result; a
record of kind "conversation" follows the messages of each thread or transcript.

>>> from kasuhara_nlp.records import MessageRecord
>>> s = ScanSummary(); s.add({"status": "ok", "labels": ["abuse"], "kind": "message", "source_format": "csv"})
>>> s.by_category["abuse"]
1
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, TextIO

from .labels import CATEGORIES
from .pii import mask_text, remap_span
from .readers import read_records
from .records import Evidence, MessageRecord, ScanResult

OUTPUT_FORMATS = ("jsonl", "csv")
# Record fields copied into each result so that routing and reports can work from the file alone.
_CONTEXT_FIELDS = ("source_format", "source_file", "source_locator", "conversation_id", "message_id",
                   "sequence", "timestamp_utc", "timestamp_local", "author_role", "channel", "staff_name",
                   "decode_warnings")


@dataclass(frozen=True)
class ScanOptions:
    """How to read and score the inputs of `kasuhara scan`.

    Args:
        format: force an input format (default: by extension and content).
        preset: a column-mapping preset for CSV/JSON exports.
        text_field, id_field: column names of the text and id (found automatically when common).
        raw: score the whole body instead of the customer's new words only.
        mask_pii: replace e-mail addresses, phone numbers, card numbers... in output text.
        batch_size: messages scored together.
        conversations: add a "conversation" record after the messages of each thread.
    """

    format: str | None = None
    preset: str | None = None
    text_field: str | None = None
    id_field: str | None = None
    raw: bool = False
    mask_pii: bool = True
    batch_size: int = 64
    conversations: bool = True
    conversation_config: Any = None  # a ConversationConfig; None = defaults
    encoding: str | None = None
    support_domains: tuple[str, ...] = ()
    agent_addresses: tuple[str, ...] = ()
    name_roles: dict[str, str] | None = None


@dataclass
class ScanSummary:
    """Counts per status, per input format and per category, and alerts per 1,000 messages."""

    by_status: Counter = field(default_factory=Counter)
    by_format: Counter = field(default_factory=Counter)
    by_category: Counter = field(default_factory=Counter)
    flagged_messages: int = 0
    conversations: int = 0
    flagged_conversations: int = 0

    def add(self, result: dict[str, Any]) -> None:
        if result.get("kind") == "conversation":
            self.conversations += 1
            self.flagged_conversations += bool(result.get("labels"))
            return
        self.by_status[result["status"]] += 1
        self.flagged_messages += bool(result.get("flagged"))
        self.by_format[result.get("source_format") or "unknown"] += 1
        for label in result.get("labels", []):
            self.by_category[label] += 1

    @property
    def records(self) -> int:
        return sum(self.by_status.values())

    @property
    def alerts_per_1000(self) -> float:
        scored = self.by_status.get("ok", 0)
        return round(1000 * self.flagged_messages / scored, 2) if scored else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"records": self.records, "by_status": dict(self.by_status), "by_format": dict(self.by_format),
                "by_category": {c: self.by_category.get(c, 0) for c in CATEGORIES},
                "flagged_messages": self.flagged_messages, "alerts_per_1000": self.alerts_per_1000,
                "conversations": self.conversations, "flagged_conversations": self.flagged_conversations}


def _result_for(record: MessageRecord, pred, options: ScanOptions, model: tuple[str, str]) -> dict[str, Any]:
    context = {k: getattr(record, k) for k in _CONTEXT_FIELDS}
    if pred is None:
        # Unscored records still name the model of the run, so every line says what produced the file.
        return ScanResult(id=record.record_id, status=record.status, reason=record.reason, model=model[0],
                          model_version=model[1], extra=context).to_dict()
    text, evidence = pred.text, pred.evidence
    if options.mask_pii:
        masked = mask_text(text)
        if masked.mapping:
            remapped = []
            for ev in evidence:
                s, e = remap_span(masked, ev.start, ev.end)
                remapped.append(Evidence(ev.label, s, e, masked.text[s:e], ev.score))
            text, evidence = masked.text, remapped
    return ScanResult(
        id=record.record_id, status="ok", flagged=pred.flagged, labels=pred.labels, scores=pred.scores,
        severity=pred.severity, evidence=evidence, text=text, model=pred.model,
        model_version=pred.model_version, extra=context,
    ).to_dict()


def scan_records(records: Iterable[MessageRecord], classifier, options: ScanOptions = ScanOptions()
                 ) -> Iterator[dict[str, Any]]:
    """Score records lazily; yield one result per record in input order, then conversation records."""
    threads: dict[str, list[tuple[MessageRecord, dict]]] = {}
    batch: list[MessageRecord] = []

    def flush() -> Iterator[dict[str, Any]]:
        scorable = [r for r in batch if r.status == "ok"]
        texts = [r.body_text if options.raw else (r.text_to_score or r.body_text) for r in scorable]
        preds = iter(classifier.predict(texts, raw=True)) if texts else iter(())
        for r in batch:
            result = _result_for(r, next(preds) if r.status == "ok" else None, options,
                                 (classifier.config.name, classifier.config.version))
            if options.conversations and r.conversation_id:
                threads.setdefault(r.conversation_id, []).append((r, result))
            yield result
        batch.clear()

    source = iter(records)
    while True:
        try:
            record = next(source)
        except StopIteration:
            break
        except Exception:
            # An input that stops the run part-way (a missing path, an unknown encoding) must not
            # take the records read before it with it: score and yield them, then let it stop.
            yield from flush()
            raise
        batch.append(record)
        if len(batch) >= options.batch_size:
            yield from flush()
    yield from flush()
    if options.conversations:
        yield from _conversation_results(threads, classifier, options)


def _conversation_results(threads: dict[str, list[tuple[MessageRecord, dict]]], classifier,
                          options: ScanOptions) -> Iterator[dict]:
    threads = {k: v for k, v in threads.items() if len(v) >= 2}  # a single message is its own result
    if not threads:
        return
    from .conversation import ConversationConfig, score_conversation

    config = options.conversation_config or ConversationConfig()
    for items in threads.values():
        result = score_conversation([r for r, _ in items], [res for _, res in items], config)
        result.update(model=classifier.config.name, model_version=classifier.config.version)
        yield result


def scan(paths: list[str], classifier, options: ScanOptions = ScanOptions()) -> Iterator[dict[str, Any]]:
    """Read ``paths`` (``-`` = stdin) and score them; see :func:`scan_records`."""
    records = read_records(paths, format=options.format, text_field=options.text_field,
                           id_field=options.id_field, preset=options.preset, encoding=options.encoding,
                           support_domains=options.support_domains, agent_addresses=options.agent_addresses,
                           name_roles=options.name_roles)
    return scan_records(records, classifier, options)


# -- writing -------------------------------------------------------------------------------------
CSV_COLUMNS = ["id", "kind", "status", "reason", "flagged", "labels", "severity",
               *[f"score_{c}" for c in CATEGORIES], "evidence", "text", "model", "model_version",
               "schema_version", *_CONTEXT_FIELDS]


def to_csv_row(result: dict[str, Any]) -> dict[str, Any]:
    """Flatten a result: ``score_<id>`` columns, labels joined with "|", evidence as JSON."""
    row = {k: result.get(k) for k in CSV_COLUMNS if not k.startswith("score_")}
    for c in CATEGORIES:
        row[f"score_{c}"] = result.get("scores", {}).get(c, "")
    row["labels"] = "|".join(result.get("labels", []))
    row["evidence"] = json.dumps(result.get("evidence", []), ensure_ascii=False)
    row["decode_warnings"] = "|".join(result.get("decode_warnings") or [])
    return row


class ResultWriter:
    """Writes results as JSONL or CSV (by the output file's extension); ``-`` writes JSONL to stdout."""

    def __init__(self, out: str, fmt: str | None = None):
        self.fmt = fmt or ("csv" if out.lower().endswith(".csv") else "jsonl")
        if out == "-":
            self._f: TextIO = sys.stdout
            if hasattr(self._f, "reconfigure"):
                # Japanese text must not depend on the terminal's locale.
                self._f.reconfigure(encoding="utf-8")
            self._own = False
        else:
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            # utf-8-sig for CSV so that Excel in Japan opens it without mojibake.
            enc = "utf-8-sig" if self.fmt == "csv" else "utf-8"
            self._f = open(out, "w", encoding=enc, newline="")
            self._own = True
        self._csv = csv.DictWriter(self._f, fieldnames=CSV_COLUMNS) if self.fmt == "csv" else None
        if self._csv:
            self._csv.writeheader()

    def write(self, result: dict[str, Any]) -> None:
        if self._csv:
            self._csv.writerow(to_csv_row(result))
        else:
            self._f.write(json.dumps(result, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self._f.flush()
        if self._own:
            self._f.close()

    def __enter__(self) -> "ResultWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def run_scan(paths: list[str], out: str, classifier, options: ScanOptions = ScanOptions(), *,
             progress: bool = False, on_problem=None) -> ScanSummary:
    """Scan ``paths`` into ``out`` and return the summary.

    ``on_problem(result)`` is called for every record with status "error" or "skipped" (its reason
    names the file and line; no message text), so a CLI can report it while the run goes on.
    """
    summary = ScanSummary()
    results: Iterable[dict[str, Any]] = scan(paths, classifier, options)
    if progress:
        from tqdm import tqdm

        results = tqdm(results, unit=" records", file=sys.stderr)
    with ResultWriter(out) as writer:
        for result in results:
            writer.write(result)
            summary.add(result)
            if on_problem and result.get("status") in ("error", "skipped"):
                on_problem(result)
    return summary


def predict_conversation(classifier, turns: list, conversation_id: str = "conversation",
                         config: Any = None, mask_pii: bool = True) -> dict[str, Any]:
    """Score one conversation: each customer turn, then the whole thread with its signals.

    ``turns`` are :class:`MessageRecord` objects or dicts with ``text`` and optionally ``role``
    ("customer", "agent", ...), ``timestamp`` (ISO string or epoch), ``id`` and ``channel``.
    Returns the conversation result with the per-message results under ``"messages"``.
    """
    from .readers.common import finish_record, normalise_role
    from .readers.timestamps import parse_timestamp

    records = []
    for i, turn in enumerate(turns):
        if isinstance(turn, MessageRecord):
            records.append(replace(turn, conversation_id=conversation_id))  # the caller's record stays as is
            continue
        utc, local, assumed = parse_timestamp(turn.get("timestamp"))
        rec = MessageRecord(
            record_id=str(turn.get("id", f"{conversation_id}#{i}")), body_text=turn.get("text") or "",
            conversation_id=conversation_id, sequence=i, timestamp_utc=utc, timestamp_local=local,
            timestamp_assumed_tz=assumed, author_role=normalise_role(turn.get("role")), role_basis="caller",
            channel=turn.get("channel", "chat"), source_format="library", source_locator=f"turn {i}",
        )
        records.append(finish_record(rec))
    results = list(scan_records(records, classifier, ScanOptions(mask_pii=mask_pii, conversation_config=config)))
    messages = [r for r in results if r["kind"] == "message"]
    conversation = next((r for r in results if r["kind"] == "conversation"), None)
    if conversation is None:  # a single turn: the thread is that message
        conversation = dict(messages[0], kind="conversation", id=conversation_id) if messages else {}
    conversation["messages"] = messages
    return conversation
