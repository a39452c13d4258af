"""Training records from analyst decisions (:mod:`.corrections`).

:func:`build_training` joins the decisions with the results files they were made on (one or several) and makes
data/SCHEMA.md records with source ``"analyst_feedback"``, whose ``notes`` and ``provenance`` say who decided,
when, and on which model's output: one record per message, from its latest decision, with every disagreement
between decisions listed (:class:`Conflict`).  :func:`corrections_to_training` and ``kasuhara feedback`` write
them.  The decision functions are re-exported here, so a notebook needs one import.

>>> import json, os, tempfile
>>> d = tempfile.mkdtemp(); corrections, results = os.path.join(d, "c.jsonl"), os.path.join(d, "scan.jsonl")
>>> result = {"id": "m1", "status": "ok", "labels": ["abuse"], "severity": 2, "text": "バカ。", "model": "demo"}
>>> _ = open(results, "w", encoding="utf-8").write(json.dumps(result, ensure_ascii=False))
>>> _ = record_decision(corrections, result, "not_harassment", analyst="sato")
>>> [(r["labels"], r["hard_negative"]) for r in build_training(corrections, results).records]
[([], True)]
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

from .results_file import read_results
from .corrections import (DECISIONS, decision_key, labels_problem, read_corrections, read_decisions, record_decision,
                          record_decisions, result_ref, text_hash, unscored_reason)
from .errors import InputFormatError
from .pii import mask_text
from .scan_output import ResultWriter, check_output

__all__ = ["CHANNEL_MAP", "Conflict", "DECISIONS", "DecisionLine", "FeedbackSummary", "build_training",
           "corrections_to_training", "read_corrections", "record_decision", "record_decisions", "text_hash",
           "check_training_output", "training_record", "training_text", "write_training"]
FEEDBACK_SOURCE = "analyst_feedback"
#: Result channels -> data/SCHEMA.md channels.  Unknown channels become "web_form" (written text of
#: unknown origin); the original value is kept in ``provenance.channel``.
CHANNEL_MAP = {"email": "email", "mail": "email", "chat": "chat", "messaging_line": "chat", "line": "chat",
               "phone": "phone", "phone_transcript": "phone", "voice": "phone", "call": "phone",
               "meeting": "meeting", "web_form": "web_form", "web": "web_form", "form": "web_form",
               "sns_dm": "sns_dm", "sns": "sns_dm", "twitter": "sns_dm", "facebook": "sns_dm",
               "review_reply": "review_reply", "one_liner": "one_liner"}
DEFAULT_CHANNEL = "web_form"


def _feedback_id(key: str) -> str:
    # The trailing NUL (a model name once followed it) keeps every id this version writes unchanged.
    return "fb-" + hashlib.sha1(f"{key}\x00".encode("utf-8")).hexdigest()[:12]


def training_text(result: Mapping[str, Any]) -> str:
    """The text a training record keeps: the result's text with personal data masked.

    Training records join data/corpus/ (git), so they never hold what ``kasuhara scan --no-mask`` kept;
    masking a masked text changes nothing, so a masked and an unmasked scan of one message give one text
    (and one record id).  Decisions are still matched on the text as the results file has it.

    >>> training_text({"text": "山田太郎様、090-1234-5678に電話しろ"})
    '[氏名]様、[電話]に電話しろ'
    """
    return mask_text(str(result.get("text") or "")).text


def training_record(decision: Mapping[str, Any], result: Mapping[str, Any], results_name: str) -> dict[str, Any]:
    """One data/SCHEMA.md record from a decision and the result it was made on.

    The ``id`` comes from the text, so a message has one id whichever scan, model or analyst the
    decision came from: two feedback files holding the same message show up as a duplicate id in
    ``data/tools/check_records.py``.

    >>> d = {"result_id": "m1", "decision": "not_harassment", "labels": [], "severity": 0,
    ...      "predicted_labels": ["abuse"], "analyst": "sato", "decided_at": "2026-11-05T10:00:00+00:00"}
    >>> r = {"id": "m1", "text": "本当に困っています。", "channel": "email", "model": "demo", "model_version": "1"}
    >>> rec = training_record(d, r, "scan.jsonl")
    >>> rec["source"], rec["hard_negative"], rec["channel"]
    ('analyst_feedback', True, 'email')
    """
    channel = str(result.get("channel") or "other")
    model = " ".join(str(x) for x in (result.get("model"), result.get("model_version")) if x) or "unknown model"
    predicted = ",".join(decision.get("predicted_labels") or []) or "none"
    family_key = result.get("conversation_id") or decision_key(decision)
    text = training_text(result)
    return {
        "id": _feedback_id(text_hash(text)),
        "family": _feedback_id(str(family_key)),
        "text": text,
        "label_quote": None,
        "channel": CHANNEL_MAP.get(channel, DEFAULT_CHANNEL),
        "industry": "other",
        "register": "unknown",
        "labels": list(decision["labels"]),
        "severity": int(decision["severity"]),
        "subtypes": [],
        # A message the model flagged but an analyst cleared is exactly the angry-but-legitimate
        # text the model must learn to leave alone.
        "hard_negative": decision["decision"] == "not_harassment" and bool(decision.get("predicted_labels")),
        "source": FEEDBACK_SOURCE,
        "notes": (f"analyst {decision.get('analyst', 'unknown')} on {decision.get('decided_at', '?')}: "
                  f"{decision['decision']}; model {model} predicted {predicted}; "
                  f"scan {results_name} record {decision['result_id']}"),
        "provenance": {
            "decision": decision["decision"], "analyst": decision.get("analyst"),
            "decided_at": decision.get("decided_at"), "model": result.get("model"),
            "model_version": result.get("model_version"), "predicted_labels": decision.get("predicted_labels"),
            "predicted_severity": decision.get("predicted_severity"), "results_file": results_name,
            "result_id": decision["result_id"], "channel": channel, "comment": decision.get("comment", ""),
        },
    }


@dataclass(frozen=True)
class DecisionLine:
    """Where one decision is (corrections file and line) and what it says; no message text."""

    path: str
    line: int
    analyst: str
    decided_at: str
    labels: tuple[str, ...]
    severity: int

    def __str__(self) -> str:
        return (f"{self.path}:{self.line} ({self.analyst}, {self.decided_at}: "
                f"{','.join(self.labels) or 'none'} severity {self.severity})")


@dataclass(frozen=True)
class Conflict:
    """Decisions on one message that disagree (labels or severity), oldest first; ``kept`` is the one used."""

    result_id: str
    results_file: str
    decisions: tuple[DecisionLine, ...]

    @property
    def kept(self) -> DecisionLine:
        """The decision used: the latest."""
        return self.decisions[-1]

    def __str__(self) -> str:
        return (f"result {self.result_id!r} ({self.results_file}): {len(self.decisions)} decisions disagree: "
                + "; ".join(map(str, self.decisions)) + f"; kept {self.kept.path}:{self.kept.line}")


@dataclass
class FeedbackSummary:
    """What :func:`build_training` made of the decisions.

    ``records`` holds one training record per message (per distinct text); ``problems`` the decisions
    that could not be used (each names its corrections file and line); ``conflicts`` the messages whose
    decisions disagree (the latest decision is used for each).
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    decisions: int = 0
    problems: list[InputFormatError] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Counts and locations, for JSON output (no message text)."""
        return {"records": len(self.records), "decisions": self.decisions,
                "problems": [str(p) for p in self.problems], "conflicts": [str(c) for c in self.conflicts]}


def _decision_line(decision: Mapping[str, Any], path: Path) -> DecisionLine:
    return DecisionLine(str(path), int(decision["_line"]), str(decision.get("analyst") or "unknown"),
                        str(decision.get("decided_at") or "?"), tuple(sorted(decision["labels"])),
                        int(decision["severity"]))


def _as_paths(value: str | Path | Sequence[str | Path]) -> list[Path]:
    paths = [Path(value)] if isinstance(value, (str, Path)) else [Path(v) for v in value]
    if not paths:
        raise InputFormatError("no file given; pass at least one")
    return paths


def _decided_at(decision: Mapping[str, Any]) -> datetime:
    try:
        when = datetime.fromisoformat(str(decision.get("decided_at")))
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)  # unknown time: older than any dated decision
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _files(paths: Sequence[Path]) -> str:
    return str(paths[0]) if len(paths) == 1 else "any of " + ", ".join(str(p) for p in paths)


def _where(result: Mapping[str, Any], results_name: str) -> str:
    """Where a result's message came from, e.g. ``inbox.csv line 6``, for messages that must tell rows apart."""
    place = " ".join(str(result[k]) for k in ("source_file", "source_locator") if result.get(k))
    return place or f"{results_name} id {result.get('id')}"


def _resolve(decision: Mapping[str, Any], by_ref: dict[str, list[tuple[dict[str, Any], str]]],
             by_id: dict[str, list[tuple[dict[str, Any], str]]], results_paths: Sequence[Path], where: Path
             ) -> tuple[dict[str, Any], str]:
    """The result a decision was made on, and the name of its results file; InputFormatError if none fits."""
    line = decision["_line"]
    candidates = by_ref.get(decision["result_ref"], []) if "result_ref" in decision else \
        by_id.get(decision["result_id"], [])
    if not candidates:
        raise InputFormatError(f"result {decision['result_id']!r} is not in {_files(results_paths)}; pass the "
                               "results file the decision was made on (--results takes several)",
                               path=str(where), line=line)
    refs = {result_ref(r) for r, _ in candidates}
    if "result_ref" not in decision and len(refs) > 1:
        raise InputFormatError(f"result id {decision['result_id']!r} is in {_files(results_paths)} "
                               f"{len(refs)} times (several exports in one scan) and "
                               "this decision, from an older version, does not say which; record it again",
                               path=str(where), line=line)
    if decision.get("text_sha256"):
        same_text = [c for c in candidates if text_hash(c[0].get("text") or "") == decision["text_sha256"]]
        if not same_text:
            found_in = sorted({name for _, name in candidates})
            raise InputFormatError(f"the text of result {decision['result_id']!r} in {', '.join(found_in)} differs "
                                   "from the one the analyst saw; pass the results file the decisions were made on",
                                   path=str(where), line=line)
        candidates = same_text
    # The same message in several results files (a re-scan): prefer the output the analyst looked at.
    seen = [c for c in candidates if (c[0].get("model"), c[0].get("model_version")) ==
            (decision.get("model"), decision.get("model_version"))]
    candidates = seen or candidates
    # One id on several rows of an export (no text hash to choose by): which one was meant is unknown.
    texts = {text_hash(c[0].get("text") or "") for c in candidates}
    if len(texts) > 1:
        rows = ", ".join(_where(result, name) for result, name in candidates)
        raise InputFormatError(f"result id {decision['result_id']!r} matches {len(texts)} different messages "
                               f"({rows}) and this decision has no text_sha256 to tell which; record it again "
                               "with record_decision() (it stores the hash of the text shown)",
                               path=str(where), line=line)
    result, name = candidates[0]
    unscored = unscored_reason(result)
    if unscored:
        raise InputFormatError(f"result {decision['result_id']!r} {unscored}; a decision on it cannot become a "
                               "training record: delete this line", path=str(where), line=line)
    # A decision written without predicted_labels (by hand, or by an older version) is held to the result's.
    predicted = result.get("labels") if "predicted_labels" not in decision else None
    problem = labels_problem(decision["decision"], decision["labels"],
                             predicted if isinstance(predicted, list) else None)
    if problem:
        raise InputFormatError(f"{problem} (the model's labels as {name} has them)", path=str(where), line=line)
    return result, name


def build_training(corrections: str | Path | Sequence[str | Path], results: str | Path | Sequence[str | Path]
                   ) -> FeedbackSummary:
    """Join decisions with the results they were made on; one training record per message.

    ``corrections`` and ``results`` are one file or several: an append-only corrections log that grew
    over several scans is joined with all of them at once.  A decision is matched to its result by the
    message (``result_ref``) and the hash of the text the analyst saw, in whichever results file holds it.

    Rules (README, "Analyst report"):

    - A decision whose result is in none of the results files, or whose text changed, or a bad line,
      is a *problem*: it names its corrections file and line and is left out; the rest still count.
    - Several decisions on one message (the same text): the one with the latest ``decided_at`` is used
      (on a tie, the later line, then the later file).  When they disagree on labels or severity, the
      message is listed in ``conflicts`` with every decision's file and line, so a reviewer sees it.
    - Exactly one record per distinct text, so the output never holds the same message twice with
      different labels (``data/tools/check_records.py`` rejects duplicate texts).

    Unreadable or missing files raise :class:`~kasuhara_nlp.errors.InputFormatError`.

    >>> import json, os, tempfile
    >>> d = tempfile.mkdtemp(); c = os.path.join(d, "c.jsonl"); r = os.path.join(d, "r.jsonl")
    >>> res = {"id": "m1", "labels": ["abuse"], "severity": 2, "text": "バカ。"}
    >>> _ = open(r, "w", encoding="utf-8").write(json.dumps(res, ensure_ascii=False) + "\\n")
    >>> _ = record_decision(c, res, "agree", analyst="sato")
    >>> _ = record_decision(c, res, "not_harassment", analyst="suzuki")
    >>> s = build_training(c, [r])
    >>> len(s.records), s.records[0]["labels"], len(s.conflicts), s.conflicts[0].kept.analyst
    (1, [], 1, 'suzuki')
    """
    corrections_paths, results_paths = _as_paths(corrections), _as_paths(results)
    by_ref: dict[str, list[tuple[dict[str, Any], str]]] = {}
    by_id: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for path in results_paths:
        for r in read_results(path):
            if r.get("kind", "message") == "message":
                by_ref.setdefault(result_ref(r), []).append((r, path.name))
                by_id.setdefault(str(r["id"]), []).append((r, path.name))
    summary = FeedbackSummary()
    # text hash -> [(order, decision, result, results file name, corrections file)]
    groups: dict[str, list[tuple[tuple, dict[str, Any], dict[str, Any], str, Path]]] = {}
    for file_no, path in enumerate(corrections_paths):
        for d in read_decisions(path, summary.problems):
            summary.decisions += 1
            try:
                result, name = _resolve(d, by_ref, by_id, results_paths, path)
            except InputFormatError as exc:
                summary.problems.append(exc)
                continue
            order = (_decided_at(d), file_no, d["_line"])
            # Keyed by the text written, so two scans of one message (masked or not) give one record.
            groups.setdefault(text_hash(training_text(result)), []).append((order, d, result, name, path))
    winners = []
    for entries in groups.values():
        entries.sort(key=lambda e: e[0])
        order, d, result, name, _ = entries[-1]
        winners.append((order[1:], d, result, name))
        # Repeating the same labels (a second analyst agreeing) is not a conflict; different labels are.
        if len({(tuple(sorted(e[1]["labels"])), int(e[1]["severity"])) for e in entries}) > 1:
            lines = tuple(_decision_line(e[1], e[4]) for e in entries)
            summary.conflicts.append(Conflict(d["result_id"], name, lines))
    # Records in the order the decisions used were written (file, then line), as before.
    summary.records = [training_record(d, result, name) for _, d, result, name in sorted(winners, key=lambda w: w[0])]
    return summary


def check_training_output(corrections: str | Path | Sequence[str | Path], results: str | Path | Sequence[str | Path],
                          out_path: str | Path, option: str = "-o") -> None:
    """Raise :class:`~kasuhara_nlp.errors.ConfigError` when ``out_path`` is one of the corrections or results
    files: writing it would erase the append-only decision log (which cannot be made again) or a scan.

    >>> import os, tempfile
    >>> c = os.path.join(tempfile.mkdtemp(), "corrections.jsonl"); _ = open(c, "w").write("")
    >>> check_training_output(c, [], c)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kasuhara_nlp.errors.ConfigError: output (-o) ...corrections.jsonl is the input ...: writing it would erase ...
    """
    paths = [str(p) for p in _as_paths(corrections)] + [str(p) for p in (_as_paths(results) if results else [])]
    check_output(paths, str(out_path), option)


def write_training(records: Sequence[Mapping[str, Any]], out_path: str | Path) -> Path:
    """Write training records as JSONL, replacing ``out_path``; return its path.

    Written as scan results are (:class:`~kasuhara_nlp.scan_output.ResultWriter`): to ``OUT.partial`` first and
    renamed, so ``out_path`` is never left half-written; a device or pipe is written in place.
    """
    with ResultWriter(str(out_path), fmt="jsonl") as writer:
        for record in records:
            writer.write(dict(record))
    return Path(out_path)


def corrections_to_training(corrections_path: str | Path | Sequence[str | Path],
                            results_path: str | Path | Sequence[str | Path], out_path: str | Path) -> int:
    """Turn analyst decisions into labelled training records (data/SCHEMA.md); return how many.

    Strict: the first problem (a decision whose result is in none of the results files, or whose text
    changed since the decision, or a bad line) raises :class:`~kasuhara_nlp.errors.InputFormatError`
    naming its line, and nothing is written.  Conflicting decisions are settled as in
    :func:`build_training` and reported with a warning.  ``kasuhara feedback`` reports every problem
    instead and goes on.  ``out_path`` is overwritten, unless it is one of the corrections or results
    files (:class:`~kasuhara_nlp.errors.ConfigError`); check it with ``python data/tools/check_records.py OUT``.
    """
    check_training_output(corrections_path, results_path, out_path, "out_path")
    summary = build_training(corrections_path, results_path)
    if summary.problems:
        raise summary.problems[0]
    if summary.conflicts:
        warnings.warn(f"{len(summary.conflicts)} message(s) have conflicting decisions; the latest decision of "
                      "each is used: " + " | ".join(map(str, summary.conflicts)), stacklevel=2)
    write_training(summary.records, out_path)
    return len(summary.records)
