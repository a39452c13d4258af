"""Analyst decisions on scan results, and training records made from them.

An analyst reviewing flagged messages records one decision per message with
:func:`record_decision` (appended to a JSONL corrections file, never rewritten, so the file is an
audit log; the latest decision on a message wins).  :func:`corrections_to_training` joins the
decisions with the results file they were made on and writes data/SCHEMA.md records with source
``"analyst_feedback"``, whose ``notes`` and ``provenance`` say who decided, when, and on which
model's output.  The corrections file holds no message text, only a hash of it.

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

from .analysis import read_results
from .errors import InputFormatError, LabelError
from .labels import validate_labels
from .records import message_ref

DECISIONS = ("agree", "wrong_category", "not_harassment")
FEEDBACK_SOURCE = "analyst_feedback"
#: Result channels -> data/SCHEMA.md channels.  Unknown channels become "web_form" (written text of
#: unknown origin); the original value is kept in ``provenance.channel``.
CHANNEL_MAP = {"email": "email", "mail": "email", "chat": "chat", "messaging_line": "chat", "line": "chat",
               "phone": "phone", "phone_transcript": "phone", "voice": "phone", "call": "phone",
               "meeting": "meeting", "web_form": "web_form", "web": "web_form", "form": "web_form",
               "sns_dm": "sns_dm", "sns": "sns_dm", "twitter": "sns_dm", "facebook": "sns_dm",
               "review_reply": "review_reply", "one_liner": "one_liner"}
DEFAULT_CHANNEL = "web_form"


def text_hash(text: str) -> str:
    """A short SHA-256 of a text: ties a decision to the exact text shown without storing it.

    >>> text_hash("バカ。")
    'ecacbad1fa97bd35'
    """
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()[:16]


def _get(result: Any, key: str, default: Any = None) -> Any:
    value = result.get(key, default) if isinstance(result, Mapping) or hasattr(result, "get") else default
    return default if value is None or (isinstance(value, float) and value != value) else value


def _ref(result: Any) -> str:
    """Which message a result is (:func:`~kasuhara_nlp.records.message_ref`): ids such as row numbers repeat
    when one scan covers several exports.  Read through ``_get`` because a load_results() row holds NaN for
    missing fields."""
    return message_ref({k: _get(result, k) for k in ("id", "message_id", "source_file")})


def _key(decision: Mapping[str, Any]) -> str:
    # Decisions written before result_ref existed carry only the bare id.
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
        "result_id": str(_get(result, "id")), "result_ref": _ref(result), "decision": decision, "labels": labels, "severity": int(severity),
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


def read_corrections(corrections_path: str | Path, latest_only: bool = True) -> list[dict[str, Any]]:
    """The decisions of a corrections file; with ``latest_only``, the last one per message.

    Each decision gets ``_line``, its line number, for error messages.
    """
    path = Path(corrections_path)
    if not path.is_file():
        raise InputFormatError("corrections file not found; record decisions with record_decision() first",
                               path=str(path))
    decisions: dict[str, dict[str, Any]] = {}
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
                raise InputFormatError(f"bad decision ({exc}); fix or delete this line", path=str(path),
                                       line=n) from None
            entry["_line"] = n
            everything.append(entry)
            decisions.pop(_key(entry), None)  # re-insert: keep the order of the latest decisions
            decisions[_key(entry)] = entry
    return list(decisions.values()) if latest_only else everything


def _feedback_id(result_id: str, model: str | None) -> str:
    return "fb-" + hashlib.sha1(f"{result_id}\x00{model or ''}".encode("utf-8")).hexdigest()[:12]


def training_record(decision: Mapping[str, Any], result: Mapping[str, Any], results_name: str) -> dict[str, Any]:
    """One data/SCHEMA.md record from a decision and the result it was made on.

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
    family_key = result.get("conversation_id") or _key(decision)
    return {
        "id": _feedback_id(_key(decision), result.get("model")),
        "family": _feedback_id(str(family_key), None),
        "text": result.get("text") or "",
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


def corrections_to_training(corrections_path: str | Path, results_path: str | Path, out_path: str | Path
                            ) -> int:
    """Turn analyst decisions into labelled training records (data/SCHEMA.md); return how many.

    The text is the (PII-masked) text of the result each decision was made on; a decision whose
    result is missing or whose text changed since the decision is an error naming its line.
    ``out_path`` is overwritten; check it with ``python data/tools/check_records.py OUT``.
    """
    decisions = read_corrections(corrections_path)
    messages = [r for r in read_results(results_path) if r.get("kind", "message") == "message"]
    results = {_ref(r): r for r in messages}
    by_id: dict[str, list[dict[str, Any]]] = {}
    for r in messages:
        by_id.setdefault(str(r["id"]), []).append(r)
    records = []
    for d in decisions:
        if "result_ref" in d:
            result = results.get(d["result_ref"])
        elif len(by_id.get(d["result_id"], [])) > 1:
            raise InputFormatError(f"result id {d['result_id']!r} is in {results_path} {len(by_id[d['result_id']])} "
                                   "times (several exports in one scan) and this decision, from an older version, "
                                   "does not say which; record it again", path=str(corrections_path), line=d["_line"])
        else:
            result = (by_id.get(d["result_id"]) or [None])[0]
        if result is None:
            raise InputFormatError(f"result {d['result_id']!r} is not in {results_path}; pass the results file "
                                   "the decisions were made on", path=str(corrections_path), line=d["_line"])
        if d.get("text_sha256") and d["text_sha256"] != text_hash(result.get("text") or ""):
            raise InputFormatError(f"the text of result {d['result_id']!r} in {results_path} differs from the "
                                   "one the analyst saw; pass the results file the decisions were made on",
                                   path=str(corrections_path), line=d["_line"])
        records.append(training_record(d, result, Path(results_path).name))
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return len(records)
