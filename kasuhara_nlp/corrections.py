"""Analyst decisions on scan results: the append-only corrections log.

An analyst reviewing flagged messages records one decision per message with :func:`record_decision`
(appended to a JSONL corrections file, never rewritten, so the file is an audit log that may grow over many
scans).  The file holds no message text, only a hash of it.  :mod:`.feedback` turns the decisions into
training records.

>>> import os, tempfile
>>> d = tempfile.mkdtemp(); corrections = os.path.join(d, "corrections.jsonl")
>>> result = {"id": "m1", "labels": ["abuse"], "severity": 2, "text": "バカ。", "model": "demo"}
>>> record_decision(corrections, result, "not_harassment", analyst="sato")["labels"]
[]
>>> [c["decision"] for c in read_corrections(corrections)]
['not_harassment']
"""

from __future__ import annotations

import getpass
import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from .errors import InputFormatError, LabelError
from .labels import validate_labels
from .records import message_ref

__all__ = ["DECISIONS", "decision_key", "read_corrections", "read_decisions", "record_decision", "record_decisions",
           "result_ref", "text_hash"]

DECISIONS = ("agree", "wrong_category", "not_harassment")


def text_hash(text: str) -> str:
    """A short SHA-256 of a text: ties a decision to the exact text shown without storing it.

    >>> text_hash("バカ。")
    'ecacbad1fa97bd35'
    """
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()[:16]


def _get(result: Any, key: str, default: Any = None) -> Any:
    value = result.get(key, default) if isinstance(result, Mapping) or hasattr(result, "get") else default
    return default if value is None or (isinstance(value, float) and value != value) else value


def result_ref(result: Any) -> str:
    """Which message a result is (:func:`~kasuhara_nlp.records.message_ref`): ids such as row numbers repeat
    when one scan covers several exports.  Read through ``_get`` because a load_results() row holds NaN for
    missing fields."""
    return message_ref({k: _get(result, k) for k in ("id", "message_id", "source_file")})


def decision_key(decision: Mapping[str, Any]) -> str:
    """The message a decision is about: its ``result_ref``, or the bare id of decisions written before
    result_ref existed."""
    return decision.get("result_ref") or decision["result_id"]


def _analyst(analyst: str | None) -> str:
    if analyst:
        return analyst
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers: still record the decision
        return "unknown"


def record_decision(corrections_path: str | Path, result: Any, decision: str, *,
                    labels: list[str] | None = None, severity: int | None = None,
                    analyst: str | None = None, comment: str = "") -> dict[str, Any]:
    """Append one analyst decision on a scan result to ``corrections_path`` and return it.

    Args:
        result: a result dict or a row of :func:`kasuhara_nlp.analysis.load_results`.
        decision: ``"agree"`` (the model's labels and severity are right), ``"wrong_category"``
            (give the corrected ``labels`` and ``severity``; also for a missed harassment), or
            ``"not_harassment"`` (a legitimate message the model flagged).
        analyst: who decided (default: the login name).
        comment: a short reason; do not paste message text or personal data here.
    """
    if decision not in DECISIONS:
        raise LabelError(f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}")
    predicted = [c for c in (_get(result, "labels") or [])]
    predicted_severity = int(_get(result, "severity", 0))
    if decision == "agree":
        if labels is not None and sorted(labels) != sorted(predicted):
            raise LabelError("'agree' keeps the model's labels; use decision='wrong_category' to correct them")
        labels, severity = predicted, predicted_severity if severity is None else severity
    elif decision == "not_harassment":
        if labels:
            raise LabelError("'not_harassment' takes no labels; use decision='wrong_category' to relabel")
        labels, severity = [], 0
    else:
        if not labels:
            raise LabelError("'wrong_category' needs the corrected labels, e.g. labels=['demand'], severity=2; "
                             "use decision='not_harassment' when no category applies")
        if severity is None:
            severity = predicted_severity if predicted_severity >= 1 else None
        if severity is None:
            raise LabelError("'wrong_category' on a message the model did not flag needs severity=1, 2 or 3")
    labels = list(labels)
    validate_labels(labels, severity)
    if _get(result, "id") is None:
        raise LabelError("the result has no 'id'; pass a row of load_results() or a result dict")
    entry = {
        "result_id": str(_get(result, "id")), "result_ref": result_ref(result), "decision": decision, "labels": labels, "severity": int(severity),
        "predicted_labels": predicted, "predicted_severity": predicted_severity,
        "model": _get(result, "model"), "model_version": _get(result, "model_version"),
        "analyst": _analyst(analyst), "decided_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "text_sha256": text_hash(_get(result, "text", "")), "comment": comment,
    }
    path = Path(corrections_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return entry


def record_decisions(corrections_path: str | Path, rows: Any,
                     decisions: Mapping[int, tuple[str, list[str] | None, int | None]], *,
                     analyst: str | None = None) -> list[dict[str, Any]]:
    """Record several decisions on a page of results: ``{row position: (decision, labels, severity)}``.

    ``rows`` is the DataFrame page shown to the analyst (positions as shown, from 0) or a list of
    result dicts.  See :func:`record_decision` for the decisions.

    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "c.jsonl")
    >>> rows = [{"id": "m1", "labels": ["abuse"], "severity": 2, "text": "バカ。"}]
    >>> [e["decision"] for e in record_decisions(p, rows, {0: ("agree", None, None)}, analyst="sato")]
    ['agree']
    """
    records = rows.to_dict("records") if hasattr(rows, "to_dict") else list(rows)
    out = []
    for position, (decision, labels, severity) in decisions.items():
        if not 0 <= position < len(records):
            raise LabelError(f"row {position} is not on this page (rows 0-{len(records) - 1}); "
                             "use the row numbers (#) shown above the samples")
        out.append(record_decision(corrections_path, records[position], decision, labels=labels,
                                   severity=severity, analyst=analyst))
    return out


def read_decisions(path: Path, problems: list[InputFormatError] | None = None) -> list[dict[str, Any]]:
    """Every decision of one corrections file, in file order, each with ``_line`` (its line number).

    A bad line raises, or, when a ``problems`` list is given, is added to it and skipped (so that one
    bad line does not hide the problems of the others).
    """
    if not path.is_file():
        raise InputFormatError("corrections file not found; record decisions with record_decision() first",
                               path=str(path))
    everything = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                if entry["decision"] not in DECISIONS:
                    raise ValueError(f"unknown decision {entry['decision']!r}")
                validate_labels(entry["labels"], entry["severity"])
                entry["result_id"] = str(entry["result_id"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                error = InputFormatError(f"bad decision ({exc}); fix or delete this line", path=str(path), line=n)
                if problems is None:
                    raise error from None
                problems.append(error)
                continue
            entry["_line"] = n
            everything.append(entry)
    return everything


def read_corrections(corrections_path: str | Path, latest_only: bool = True) -> list[dict[str, Any]]:
    """The decisions of a corrections file; with ``latest_only``, the last one per message.

    Each decision gets ``_line``, its line number, for error messages.
    """
    everything = read_decisions(Path(corrections_path))
    decisions: dict[str, dict[str, Any]] = {}
    for entry in everything:
        decisions.pop(decision_key(entry), None)  # re-insert: keep the order of the latest decisions
        decisions[decision_key(entry)] = entry
    return list(decisions.values()) if latest_only else everything
