"""Batch scanning: input files -> one result per record (in input order) -> JSONL or CSV, and a summary.

Data flows one way: :func:`~kasuhara_nlp.readers.read_records` yields records lazily; customer
messages are scored in mini-batches; every record, scored or not, becomes exactly one result, yielded
as soon as its batch is scored; a record of kind "conversation" for each thread or transcript of two or
more messages follows the last message (a thread may go on until the input ends), built from what
:class:`~kasuhara_nlp.conversation_store.ConversationStore` kept on disk, so memory does not grow with
the input.

>>> from kasuhara_nlp.records import MessageRecord
>>> s = ScanSummary(); s.add({"status": "ok", "labels": ["abuse"], "kind": "message", "source_format": "csv"})
>>> s.by_category["abuse"]
1
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Iterator

from .conversation_store import ConversationStore
from .errors import ConfigError
from .labels import CATEGORIES
from .pii import mask_text, remap_span
from .readers import read_records
from .records import MessageRecord, ScanResult
from .scan_output import CONTEXT_FIELDS as _CONTEXT_FIELDS
from .scan_output import CSV_COLUMNS, ResultWriter, check_output, to_csv_row

log = logging.getLogger(__name__)
# The writer lives in scan_output; its names stay importable from here for existing callers.
__all__ = ["CSV_COLUMNS", "OUTPUT_FORMATS", "ResultWriter", "ScanOptions", "ScanSummary", "check_output",
           "check_route_output", "parse_name_roles", "predict_conversation", "run_scan", "scan", "scan_records",
           "to_csv_row"]
OUTPUT_FORMATS = ("jsonl", "csv")


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

    def text(self) -> str:
        """The four summary lines `kasuhara scan` prints on stderr (counts only, never message text).

        >>> s = ScanSummary()
        >>> for r in ({"status": "ok", "flagged": True, "labels": ["abuse"], "source_format": "csv"},
        ...           {"status": "skipped", "source_format": "csv"}, {"kind": "conversation", "labels": []}):
        ...     s.add(r)
        >>> print(s.text())
        records: 2  ok: 1  skipped: 1
        by format: csv 2
        by category: abuse 1, demand 0, restraint 0, other_harassment 0
        flagged messages: 1  alerts per 1,000 scored: 1000.0  conversations: 1 (flagged 0)
        """
        s = self.to_dict()
        return "\n".join([
            f"records: {s['records']}  " + "  ".join(f"{k}: {v}" for k, v in sorted(s["by_status"].items())),
            "by format: " + ", ".join(f"{k} {v}" for k, v in sorted(s["by_format"].items())),
            "by category: " + ", ".join(f"{k} {v}" for k, v in s["by_category"].items()),
            f"flagged messages: {s['flagged_messages']}  alerts per 1,000 scored: {s['alerts_per_1000']}  "
            f"conversations: {s['conversations']} (flagged {s['flagged_conversations']})",
        ])


def parse_name_roles(items: Iterable[str]) -> dict[str, str]:
    """``--name-role NAME=ROLE`` values as :attr:`ScanOptions.name_roles` (a later NAME wins).

    >>> parse_name_roles(["佐藤=agent", "田中=customer"])
    {'佐藤': 'agent', '田中': 'customer'}
    >>> parse_name_roles(["佐藤"])
    Traceback (most recent call last):
    ...
    kasuhara_nlp.errors.ConfigError: --name-role takes NAME=ROLE (e.g. 佐藤=agent), got '佐藤'
    """
    name_roles = {}
    for item in items:
        name, sep, role = item.partition("=")
        if not sep:
            raise ConfigError(f"--name-role takes NAME=ROLE (e.g. 佐藤=agent), got {item!r}")
        name_roles[name] = role
    return name_roles


def check_route_output(out: str) -> None:
    """Raise :class:`ConfigError` when ``out`` cannot be routed afterwards: routing reads a JSONL file.

    >>> check_route_output("results.jsonl")
    >>> check_route_output("results.CSV")
    Traceback (most recent call last):
    ...
    kasuhara_nlp.errors.ConfigError: --route needs a JSONL output file: add -o results.jsonl
    """
    if out == "-" or out.lower().endswith(".csv"):
        raise ConfigError("--route needs a JSONL output file: add -o results.jsonl")


def _result_for(record: MessageRecord, pred, options: ScanOptions, model: tuple[str, str]) -> dict[str, Any]:
    context = {k: getattr(record, k) for k in _CONTEXT_FIELDS}
    if pred is None:
        # Unscored records still name the model of the run, so every line says what produced the file.
        return ScanResult(id=record.record_id, status=record.status, reason=record.reason, model=model[0],
                          model_version=model[1], extra=context).to_dict()
    # Offsets point into the output text; the library's original_* offsets (into the text passed to
    # predict) mean nothing in the output, so evidence keeps the documented five fields.
    text = pred.text
    evidence = [{"label": ev.label, "start": ev.start, "end": ev.end, "text": ev.text, "score": ev.score}
                for ev in pred.evidence]
    if options.mask_pii:
        masked = mask_text(text)
        if masked.mapping:
            for ev in evidence:
                ev["start"], ev["end"] = remap_span(masked, ev["start"], ev["end"])
                ev["text"] = masked.text[ev["start"]:ev["end"]]
            text = masked.text
    if pred.warnings:  # e.g. a text longer than the classifier's max_chars, scored on its first part
        context["warnings"] = list(pred.warnings)
    return ScanResult(
        id=record.record_id, status="ok", flagged=pred.flagged, labels=pred.labels, scores=pred.scores,
        severity=pred.severity, evidence=evidence, text=text, model=pred.model,
        model_version=pred.model_version, extra=context,
    ).to_dict()


def scan_records(records: Iterable[MessageRecord], classifier, options: ScanOptions = ScanOptions()
                 ) -> Iterator[dict[str, Any]]:
    """Score records lazily; yield one result per record in input order, then conversation records.

    Each message's result is yielded as soon as its mini-batch is scored, and the records are then
    dropped: what the conversation records need is kept on disk (:class:`ConversationStore`), so
    memory stays bounded by a batch and the largest conversation, however long the input.

    >>> results = scan_records(read_records(["inbox.csv"]), clf)  # doctest: +SKIP
    >>> next(results)["status"]  # doctest: +SKIP
    'ok'
    """
    with ConversationStore() if options.conversations else nullcontext() as threads:
        yield from _scan_records(records, classifier, options, threads)


def _predict_each(classifier, texts: list[str], records: list[MessageRecord]) -> list:
    """Predictions for a batch; if the batch fails, each text alone, so that one text the model cannot
    take costs only its own record (turned into an error naming its file and place), not the scan."""
    if not texts:
        return []
    try:
        return classifier.predict(texts, raw=True)
    except Exception:  # noqa: BLE001 (any failure of one text must not stop the others)
        preds = []
        for text, record in zip(texts, records):
            try:
                preds.append(classifier.predict(text, raw=True))
            except Exception as exc:  # noqa: BLE001
                log.warning("%s %s: not scored (%s)", record.source_file, record.source_locator,
                            type(exc).__name__)  # the type only: an exception message may quote the text
                record.status, record.reason = "error", (
                    f"the model could not score this message ({type(exc).__name__}); please report it with "
                    "the file and place named here")
                preds.append(None)
        return preds


def _scan_records(records: Iterable[MessageRecord], classifier, options: ScanOptions,
                  threads: ConversationStore | None) -> Iterator[dict[str, Any]]:
    batch: list[MessageRecord] = []

    def flush() -> Iterator[dict[str, Any]]:
        scorable = [r for r in batch if r.status == "ok"]
        texts = [r.body_text if options.raw else (r.text_to_score or r.body_text) for r in scorable]
        preds = dict(zip(map(id, scorable), _predict_each(classifier, texts, scorable)))
        for r in batch:
            result = _result_for(r, preds.get(id(r)), options, (classifier.config.name, classifier.config.version))
            if threads is not None and r.conversation_id:
                threads.add(r, result)
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
    if threads is not None:
        yield from _conversation_results(threads, classifier, options)


def _conversation_results(threads: ConversationStore, classifier, options: ScanOptions) -> Iterator[dict]:
    from .conversation import ConversationConfig, score_conversation

    config = options.conversation_config or ConversationConfig()
    # A single message is its own result: only conversations of two or more get a record.
    for records, results in threads.conversations(min_messages=2):
        result = score_conversation(records, results, config)
        result.update(model=classifier.config.name, model_version=classifier.config.version)
        yield result


def scan(paths: list[str], classifier, options: ScanOptions = ScanOptions()) -> Iterator[dict[str, Any]]:
    """Read ``paths`` (``-`` = stdin) and score them; see :func:`scan_records`."""
    records = read_records(paths, format=options.format, text_field=options.text_field,
                           id_field=options.id_field, preset=options.preset, encoding=options.encoding,
                           support_domains=options.support_domains, agent_addresses=options.agent_addresses,
                           name_roles=options.name_roles)
    return scan_records(records, classifier, options)


def _check_some_input(paths: list[str]) -> None:
    """Refuse a run none of whose inputs can be opened (exit 3, nothing written) before any output exists."""
    from .errors import InputFormatError
    from .readers.common import unopenable_input

    problems = [unopenable_input(p) for p in paths]
    if paths and all(problems):
        raise InputFormatError(problems[0], path=paths[0])


def run_scan(paths: list[str], out: str, classifier, options: ScanOptions = ScanOptions(), *,
             progress: bool = False, on_problem=None) -> ScanSummary:
    """Scan ``paths`` into ``out`` and return the summary.

    ``on_problem(result)`` is called for every record with status "error" or "skipped" (its reason
    names the file and line; no message text), so a CLI can report it while the run goes on.

    >>> run_scan(["inbox.csv"], "results.csv", classifier).to_dict()["records"]  # doctest: +SKIP
    3

    Raises:
        ConfigError: ``out`` is one of ``paths`` or inside an input folder (checked before anything
            is opened for writing: opening it would erase the input before it is read).
        InputFormatError: not one of ``paths`` can be opened: the run has nothing to read.  When only
            some cannot, each of those becomes an error record and the others are scanned.
    """
    check_output(paths, out)
    _check_some_input(paths)
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

    Raises:
        TypeError: ``turns`` is not a list of such dicts or records, or a turn's text is not a str.
        ValueError: ``turns`` is empty.
    """
    from .readers.common import finish_record, normalise_role
    from .readers.timestamps import read_timestamp

    if isinstance(turns, (str, bytes, dict)) or not isinstance(turns, (list, tuple)):
        raise TypeError(f"predict_conversation takes a list of turns, got {type(turns).__name__}; "
                        'e.g. [{"role": "customer", "text": "…", "timestamp": "2026-11-02T09:12:00+09:00"}]')
    if not turns:
        raise ValueError("predict_conversation needs at least one turn")
    records = []
    for i, turn in enumerate(turns):
        if isinstance(turn, MessageRecord):
            records.append(replace(turn, conversation_id=conversation_id))  # the caller's record stays as is
            continue
        if not isinstance(turn, dict):
            raise TypeError(f"turn {i} must be a dict with 'text' (or a MessageRecord), got {type(turn).__name__}")
        if not isinstance(turn.get("text") or "", str):
            raise TypeError(f"turn {i}: 'text' must be a str, got {type(turn['text']).__name__}")
        warnings: list[str] = []  # an unreadable time: timing signals leave this turn out
        utc, local, assumed = read_timestamp(turn.get("timestamp"), "timestamp", warnings)
        rec = MessageRecord(
            record_id=str(turn.get("id", f"{conversation_id}#{i}")), body_text=turn.get("text") or "",
            conversation_id=conversation_id, sequence=i, timestamp_utc=utc, timestamp_local=local,
            timestamp_assumed_tz=assumed, author_role=normalise_role(turn.get("role")), role_basis="caller",
            channel=turn.get("channel", "chat"), source_format="library", source_locator=f"turn {i}",
            decode_warnings=warnings,
        )
        records.append(finish_record(rec))
    results = list(scan_records(records, classifier, ScanOptions(mask_pii=mask_pii, conversation_config=config)))
    messages = [r for r in results if r["kind"] == "message"]
    conversation = next((r for r in results if r["kind"] == "conversation"), None)
    if conversation is None:  # a single turn: the thread is that message
        conversation = dict(messages[0], kind="conversation", id=conversation_id) if messages else {}
    conversation["messages"] = messages
    return conversation
