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
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

from .errors import InputFormatError, LabelError
from .labels import validate_labels
from .records import message_ref

__all__ = ["DECISIONS", "decision_key", "read_corrections", "read_decisions", "record_decision", "record_decisions",
           "labels_problem", "result_ref", "text_hash", "unscored_reason"]

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


def unscored_reason(result: Any) -> str:
    """Why a result cannot be decided on (a reader error, a skipped empty row, an agent turn), or "".

    A result with no ``status`` (written by hand) counts as scored.

    >>> unscored_reason({"status": "skipped", "text": ""})
    "has no scored text (status 'skipped', text empty)"
    >>> unscored_reason({"status": "ok", "text": "返品したいです。"})
    ''
    """
    status = _get(result, "status", "ok")
    empty = not str(_get(result, "text", "")).strip()
    if status != "ok" or empty:
        return f"has no scored text (status {status!r}{', text empty' if empty else ''})"
    return ""


def labels_problem(decision: str, labels: Sequence[str], predicted: Sequence[str] | None) -> str:
    """What breaks ``decision``'s rule for ``labels``, or "": the one rule record_decision(), a corrections
    file and ``kasuhara feedback`` all apply.  ``predicted``: the model's labels, None when not known.

    >>> labels_problem("agree", ["demand"], ["abuse"])  # doctest: +ELLIPSIS
    "'agree' keeps the model's labels (['abuse']), but these are ['demand']; use decision 'wrong_category' ..."
    >>> labels_problem("agree", ["abuse"], None), labels_problem("not_harassment", [], ["abuse"])
    ('', '')
    """
    if decision == "agree" and predicted is not None and sorted(labels) != sorted(predicted):
        return (f"'agree' keeps the model's labels ({list(predicted)}), but these are {list(labels)}; "
                "use decision 'wrong_category' to correct them")
    if decision == "not_harassment" and labels:
        return "'not_harassment' takes no labels; use decision 'wrong_category' to relabel"
    if decision == "wrong_category" and not labels:
        return ("'wrong_category' needs the corrected labels, e.g. labels ['demand'] and severity 2; use decision "
                "'not_harassment' when no category applies")
    return ""


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
    unscored = unscored_reason(result)
    if unscored:
        raise LabelError(f"result {_get(result, 'id')!r} {unscored}; there is nothing to decide on: "
                         "review the scored messages (status 'ok')")
    predicted = [c for c in (_get(result, "labels") or [])]
    predicted_severity = int(_get(result, "severity", 0))
    # No labels given to 'agree': the model's are meant, so there is nothing to compare.
    problem = labels_problem(decision, labels or [], predicted if labels is not None else None)
    if problem:
        raise LabelError(problem)
    if decision == "agree":
        labels, severity = predicted, predicted_severity if severity is None else severity
    elif decision == "not_harassment":
        labels, severity = [], 0
    else:
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


#: Fields every decision line must have; the other fields record_decision() writes are optional.
REQUIRED_FIELDS = ("result_id", "decision", "labels", "severity")
_WRITTEN_FIELDS = {*REQUIRED_FIELDS, "result_ref", "predicted_labels", "predicted_severity", "model", "model_version",
                   "analyst", "decided_at", "text_sha256", "comment"}
_NOT_JSONL = ("corrections must be JSONL as written by record_decision() (one JSON object per line); this looks "
              "like CSV{encoding}: record the decisions with record_decision() or notebooks/01 instead")


def _missing_field(entry: Mapping[str, Any], name: str) -> str:
    # A hand-written line often has "id" for "result_id", "label" for "labels", "sev" for "severity".
    near = [k for k in entry if k not in _WRITTEN_FIELDS and isinstance(k, str) and k
            and (k.lower() in name or name.startswith(k.lower()))]
    return f"missing field {name!r}" + (f" (is {near[0]!r} meant?)" if near else "")


def _decision_problem(entry: Mapping[str, Any]) -> str:
    """What is wrong with a decision line (already JSON), or "".  The rules of record_decision()."""
    missing = [_missing_field(entry, name) for name in REQUIRED_FIELDS if name not in entry]
    if missing:
        return "; ".join(missing)
    decision, labels = entry["decision"], entry["labels"]
    if decision not in DECISIONS:
        near = [d for d in DECISIONS if isinstance(decision, str) and d == decision.strip().lower()]
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        return f"unknown decision {decision!r}{hint}; expected one of {', '.join(DECISIONS)}"
    if not isinstance(labels, (list, str)):
        return f'labels must be a list of category ids, e.g. ["abuse"], got {labels!r}'
    validate_labels(labels, entry["severity"])  # LabelError names what is wrong
    predicted = entry.get("predicted_labels")
    return labels_problem(decision, labels, predicted if isinstance(predicted, list) else None)


def _looks_like_csv(lines: list[str]) -> bool:
    first = next((line.strip() for line in lines if line.strip()), "")
    return not first.startswith(("{", "[", "#")) and ("," in first or "\t" in first)


def _decoded_lines(path: Path) -> list[str]:
    """The lines of a corrections file; InputFormatError (line 1 or the first bad line) for a file that
    is not a corrections log at all: CSV, or not UTF-8 (Excel and Notepad save CP932 as 'ANSI')."""
    raw = path.read_bytes()
    try:
        lines = re.split(r"\r\n|\r|\n", raw.decode("utf-8-sig"))  # a BOM: Notepad's "UTF-8 with BOM"
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        try:
            as_cp932 = raw.decode("cp932").splitlines()
        except UnicodeDecodeError:
            raise InputFormatError("not UTF-8 and not text (a corrections log is UTF-8 JSONL as record_decision() "
                                   "writes it); pass the corrections file", path=str(path), line=line) from None
        if _looks_like_csv(as_cp932):
            raise InputFormatError(_NOT_JSONL.format(encoding=", saved as CP932"), path=str(path), line=1) from None
        raise InputFormatError("not UTF-8: it looks like CP932 (Shift_JIS), as Excel and Notepad save 'ANSI'; "
                               "save the file as UTF-8 and run again", path=str(path), line=line) from None
    if _looks_like_csv(lines):
        raise InputFormatError(_NOT_JSONL.format(encoding=""), path=str(path), line=1)
    return lines


def read_decisions(path: Path, problems: list[InputFormatError] | None = None) -> list[dict[str, Any]]:
    """Every decision of one corrections file, in file order, each with ``_line`` (its line number).

    A bad line raises, or, when a ``problems`` list is given, is added to it and skipped (so that one
    bad line does not hide the problems of the others).  A file that is no corrections log at all (a CSV,
    a file not in UTF-8) is one problem, for the whole file.  UTF-8, with or without a BOM.
    """
    if not path.is_file():
        raise InputFormatError("corrections file not found; record decisions with record_decision() first",
                               path=str(path))
    try:
        lines = _decoded_lines(path)
    except InputFormatError as error:
        if problems is None:
            raise
        problems.append(error)
        return []
    everything = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            if not isinstance(entry, dict):
                raise TypeError(f"a JSON object is expected, got {type(entry).__name__}")
            problem = _decision_problem(entry)
            if problem:
                raise ValueError(problem)
            entry["result_id"] = str(entry["result_id"])
        except (json.JSONDecodeError, TypeError, ValueError) as exc:  # LabelError is a ValueError
            error = InputFormatError(f"bad decision: {exc}; fix or delete this line", path=str(path), line=n)
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
