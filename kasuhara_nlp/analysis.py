"""Scan results as a pandas DataFrame, for analysts: load, filter, page and count.

Reads what `kasuhara scan` wrote (JSONL or CSV, README "Output schema") into one row per message.
Text in a results file is already PII-masked by the scanner; nothing here unmasks it, and nothing
here logs message text.  Needs the ``notebook`` extra (pandas).

>>> import json, os, tempfile
>>> p = os.path.join(tempfile.mkdtemp(), "r.jsonl")
>>> row = {"id": "m1", "kind": "message", "status": "ok", "flagged": True, "labels": ["abuse"],
...        "scores": {"abuse": 0.9, "demand": 0.1, "restraint": 0.0, "other_harassment": 0.0},
...        "severity": 2, "evidence": [], "text": "バカ。", "timestamp_local": "2026-11-02T09:12:00+09:00"}
>>> _ = open(p, "w", encoding="utf-8").write(json.dumps(row, ensure_ascii=False) + "\\n")
>>> df = load_results(p)
>>> float(df.loc[0, "score_abuse"]), df.loc[0, "labels_ja"], df.loc[0, "severity_ja"]
(0.9, '暴力・暴言', '明確')
>>> len(filter_results(df, categories=["demand"]))
0
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from .errors import InputFormatError, LabelError, MissingDependencyError
from .labels import CATEGORIES, SEVERITY_NAMES_JA, display_name
from .scan_output import restore_cell

if TYPE_CHECKING:  # pandas is an optional dependency (the notebook extra)
    import pandas as pd

#: Japanese names of the result statuses, for tables and reports.
STATUS_NAMES_JA: dict[str, str] = {"ok": "判定済み", "not_scored": "判定対象外", "skipped": "スキップ",
                                   "error": "読み込みエラー"}
SEPARATOR_JA = "、"


def require_pandas():
    """Import pandas, or say how to install it."""
    try:
        import pandas
    except ImportError:
        raise MissingDependencyError(
            "analysis needs pandas and matplotlib: pip install -e '.[notebook]'") from None
    return pandas


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8-sig") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputFormatError(f"not a JSON line ({exc.msg}); is this a `kasuhara scan` output?",
                                       path=str(path), line=n) from None
            if not isinstance(record, dict) or "id" not in record:
                raise InputFormatError("a result needs at least an 'id'; is this a `kasuhara scan` output?",
                                       path=str(path), line=n)
            yield record


def _read_csv(path: Path) -> Iterator[dict[str, Any]]:
    # The scanner's CSV flattens each result (README): undo that so both formats load the same.
    with path.open(encoding="utf-8-sig", newline="") as f:
        for n, cells in enumerate(csv.DictReader(f), 2):
            if "id" not in cells:
                raise InputFormatError("no 'id' column; is this a `kasuhara scan` CSV?", path=str(path), line=n)
            # Text cells that could start a spreadsheet formula were written with a leading ' (scan_output).
            row = {k: restore_cell(v) if isinstance(v, str) else v for k, v in cells.items()}
            record: dict[str, Any] = {k: (v if v != "" else None) for k, v in row.items()
                                      if not k.startswith("score_")}
            record["scores"] = {c: float(row[f"score_{c}"]) for c in CATEGORIES if row.get(f"score_{c}")}
            record["labels"] = [x for x in (row.get("labels") or "").split("|") if x]
            record["flagged"] = (row.get("flagged") or "").lower() == "true"
            record["severity"] = int(row.get("severity") or 0)
            record["sequence"] = int(row["sequence"]) if row.get("sequence") else None
            record["decode_warnings"] = [x for x in (row.get("decode_warnings") or "").split("|") if x]
            try:
                record["evidence"] = json.loads(row.get("evidence") or "[]")
            except json.JSONDecodeError:
                raise InputFormatError("the evidence column is not JSON", path=str(path), line=n) from None
            yield record


def read_results(path: str | Path) -> list[dict[str, Any]]:
    """The records of a `kasuhara scan` output file (.jsonl or .csv), as dicts.

    >>> read_results("missing.jsonl")
    Traceback (most recent call last):
    ...
    kasuhara_nlp.errors.InputFormatError: missing.jsonl: file not found; pass the -o file of `kasuhara scan`
    """
    path = Path(path)
    if not path.is_file():
        raise InputFormatError("file not found; pass the -o file of `kasuhara scan`", path=str(path))
    reader = _read_csv if path.suffix.lower() == ".csv" else _read_jsonl
    return list(reader(path))


def labels_ja(labels: Iterable[str]) -> str:
    """Japanese names of category ids, joined for display.

    >>> labels_ja(["abuse", "demand"])
    '暴力・暴言、過剰または不合理な要求'
    """
    return SEPARATOR_JA.join(display_name(c) for c in labels)


def _parse_local(values: "pd.Series") -> "pd.Series":
    pd = require_pandas()
    present = values.dropna().astype(str)
    # One UTC offset (the usual case): a tz-aware column.  Several offsets cannot share one dtype (and
    # pandas versions disagree on what to do then): keep a Timestamp with its own offset per row.
    if present.str.slice(19).str.lstrip(".0123456789").nunique() <= 1:
        return pd.to_datetime(values, errors="coerce")
    return values.map(lambda v: pd.Timestamp(v) if isinstance(v, str) and v else pd.NaT).astype(object)


def results_frame(records: Iterable[dict[str, Any]], kinds: Iterable[str] = ("message",)) -> "pd.DataFrame":
    """One row per result of the given kinds; see :func:`load_results` for the columns."""
    pd = require_pandas()
    kinds = set(kinds)
    rows = []
    for r in records:
        if r.get("kind", "message") not in kinds:
            continue
        row = dict(r)
        scores = row.pop("scores", None) or {}
        labels = [c for c in (row.get("labels") or []) if c in CATEGORIES]
        row["labels"] = labels
        row["evidence"] = list(row.get("evidence") or [])
        row["severity"] = int(row.get("severity") or 0)
        row["flagged"] = bool(row.get("flagged", bool(labels)))
        for c in CATEGORIES:
            row[f"score_{c}"] = float(scores[c]) if c in scores else float("nan")
            row[f"is_{c}"] = c in labels
        row["labels_ja"] = labels_ja(labels)
        row["severity_ja"] = SEVERITY_NAMES_JA.get(row["severity"], str(row["severity"]))
        row["status_ja"] = STATUS_NAMES_JA.get(row.get("status") or "ok", row.get("status"))
        row["n_evidence"] = len(row["evidence"])
        rows.append(row)
    df = pd.DataFrame(rows)
    if df.empty:
        df = pd.DataFrame(columns=["id", "kind", "status", "flagged", "labels", "severity", "evidence", "text"])
    for col, default in (("text", ""), ("channel", None), ("timestamp_utc", None), ("timestamp_local", None),
                         ("model", None), ("model_version", None), ("status", "ok")):
        if col not in df:
            df[col] = default
    score_cols = [f"score_{c}" for c in CATEGORIES]
    for c in CATEGORIES:
        if f"score_{c}" not in df:
            df[f"score_{c}"] = float("nan")
            df[f"is_{c}"] = False
    df["max_score"] = df[score_cols].max(axis=1, skipna=True)
    # Records that were not scored (errors, agent turns) have no scores: pandas 3 refuses idxmax on them.
    scored = df[score_cols].notna().any(axis=1)
    df["top_category"] = None
    if scored.any():
        df.loc[scored, "top_category"] = df.loc[scored, score_cols].idxmax(axis=1).str.removeprefix("score_")
    df["channel"] = df["channel"].fillna("other")
    df["timestamp_utc"] = pd.to_datetime(df["timestamp_utc"], errors="coerce", utc=True)
    local = df["timestamp_local"]
    # The calendar day where the customer wrote: analysts count per local day, not per UTC day.
    df["date_local"] = pd.to_datetime(local.where(local.notna(), None).astype("string").str.slice(0, 10),
                                      errors="coerce")
    df["timestamp_local"] = _parse_local(local)
    return df.reset_index(drop=True)


def load_results(path: str | Path, kinds: Iterable[str] = ("message",)) -> "pd.DataFrame":
    """Load a `kasuhara scan` output (.jsonl or .csv) as a DataFrame, one row per message.

    Columns: every field of the output schema (``labels`` and ``evidence`` stay lists); one
    ``score_<id>`` and one boolean ``is_<id>`` column per category; ``labels_ja`` (Japanese category
    names), ``severity_ja``, ``status_ja``; ``max_score``, ``top_category``, ``n_evidence``;
    ``timestamp_utc`` as UTC datetimes, ``timestamp_local`` parsed with its offset and ``date_local``,
    the local calendar day.  ``kinds`` may add ``"conversation"`` rows (their evidence offsets point
    into the messages, not into a text of their own).

    >>> load_results("missing.jsonl")
    Traceback (most recent call last):
    ...
    kasuhara_nlp.errors.InputFormatError: missing.jsonl: file not found; pass the -o file of `kasuhara scan`
    """
    return results_frame(read_results(path), kinds=kinds)


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, (str, int)):
        return [value]
    return list(value)


def filter_results(df: "pd.DataFrame", *, categories: Iterable[str] | str | None = None,
                   severity: Iterable[int] | int | None = None, min_severity: int | None = None,
                   start: str | None = None, end: str | None = None, flagged: bool | None = None,
                   channels: Iterable[str] | str | None = None, status: str | None = "ok",
                   sort: str | None = "max_score") -> "pd.DataFrame":
    """Rows matching every filter given, most suspicious first.

    Args:
        categories: keep messages flagged with any of these category ids.
        severity: keep these severity levels; ``min_severity`` keeps levels at or above it.
        start, end: first and last local calendar day to keep, ``"YYYY-MM-DD"`` (inclusive).
            Rows without a timestamp are left out when either is given.
        flagged: True keeps flagged messages, False the others, None both.
        channels: keep these channels.
        status: keep this status (default "ok", the scored messages); None keeps all.
        sort: column to sort by, descending (None keeps file order).

    >>> import pandas as pd
    >>> df = pd.DataFrame({"status": ["ok", "ok"], "labels": [["abuse"], []], "severity": [2, 0],
    ...                    "max_score": [0.9, 0.1]})
    >>> filter_results(df, categories="abuse", min_severity=1).index.tolist()
    [0]
    """
    pd = require_pandas()
    mask = pd.Series(True, index=df.index)
    if status is not None:
        mask &= df["status"].fillna("ok") == status
    cats = _as_list(categories)
    unknown = [c for c in cats if c not in CATEGORIES]
    if unknown:
        raise LabelError(f"unknown categories {unknown}; use {', '.join(CATEGORIES)}")
    if cats:
        mask &= df["labels"].map(lambda ls: any(c in ls for c in cats))
    if severity is not None:
        mask &= df["severity"].isin(_as_list(severity))
    if min_severity is not None:
        mask &= df["severity"] >= min_severity
    if flagged is not None:
        mask &= df["flagged"].astype(bool) == flagged
    if channels is not None:
        mask &= df["channel"].isin(_as_list(channels))
    if start is not None or end is not None:
        days = df["date_local"]
        if start is not None:
            mask &= days >= pd.Timestamp(start)
        if end is not None:
            mask &= days <= pd.Timestamp(end)
    out = df[mask]
    if sort is not None and sort in out:
        out = out.sort_values(sort, ascending=False, kind="stable")
    return out


def page(df: "pd.DataFrame", number: int = 0, size: int = 5) -> "pd.DataFrame":
    """Page ``number`` (from 0) of ``size`` rows; an empty frame past the end.

    >>> import pandas as pd
    >>> page(pd.DataFrame({"x": range(12)}), 2, 5)["x"].tolist()
    [10, 11]
    """
    if number < 0 or size < 1:
        raise ValueError(f"page number must be >= 0 and size >= 1, got {number} and {size}")
    return df.iloc[number * size:(number + 1) * size]


def page_count(df: "pd.DataFrame", size: int = 5) -> int:
    """How many pages of ``size`` rows ``df`` has.

    >>> import pandas as pd
    >>> page_count(pd.DataFrame({"x": range(12)}), 5)
    3
    """
    return -(-len(df) // size)


def summary_tables(df: "pd.DataFrame") -> dict[str, "pd.DataFrame"]:
    """Counts for a report: per status, per category, per severity and per channel.

    Each table has a Japanese name column, a count column ``件数`` and, where it helps, a share of
    the scored messages ``割合``.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"status": ["ok", "ok", "error"], "labels": [["abuse"], [], []],
    ...                    "severity": [2, 0, 0], "flagged": [True, False, False],
    ...                    "channel": ["email", "chat", "other"]})
    >>> summary_tables(df)["category"]["件数"].tolist()
    [1, 0, 0, 0]
    """
    pd = require_pandas()
    scored = df[df["status"].fillna("ok") == "ok"]
    n = max(1, len(scored))
    statuses = [s for s in STATUS_NAMES_JA if s in set(df["status"])] + \
        sorted(set(df["status"].dropna()) - set(STATUS_NAMES_JA))
    by_status = pd.DataFrame({"status": statuses,
                              "状態": [STATUS_NAMES_JA.get(s, s) for s in statuses],
                              "件数": [int((df["status"] == s).sum()) for s in statuses]})
    cat_counts = [int(scored["labels"].map(lambda ls, c=c: c in ls).sum()) for c in CATEGORIES]
    by_category = pd.DataFrame({"category": list(CATEGORIES), "カテゴリ": [display_name(c) for c in CATEGORIES],
                                "件数": cat_counts, "割合": [round(k / n, 4) for k in cat_counts]})
    sev_counts = [int((scored["severity"] == s).sum()) for s in SEVERITY_NAMES_JA]
    by_severity = pd.DataFrame({"severity": list(SEVERITY_NAMES_JA), "深刻度": list(SEVERITY_NAMES_JA.values()),
                                "件数": sev_counts, "割合": [round(k / n, 4) for k in sev_counts]})
    channel = scored.groupby("channel", sort=True).agg(件数=("flagged", "size"),
                                                        検知=("flagged", lambda s: int(s.astype(bool).sum())))
    by_channel = channel.reset_index().rename(columns={"channel": "チャネル"})
    return {"status": by_status, "category": by_category, "severity": by_severity, "channel": by_channel}


def overview(df: "pd.DataFrame") -> dict[str, Any]:
    """Headline numbers: records, scored, flagged, flag rate, period and models.

    >>> import pandas as pd
    >>> overview(pd.DataFrame({"status": ["ok", "ok"], "flagged": [True, False]}))["flag_rate"]
    0.5
    """
    scored = df[df["status"].fillna("ok") == "ok"]
    flagged = int(scored["flagged"].astype(bool).sum()) if len(scored) else 0
    days = df["date_local"].dropna() if "date_local" in df else []
    models = sorted({f"{m} {v}".strip() for m, v in zip(df.get("model", []), df.get("model_version", []))
                     if isinstance(m, str) and m})
    return {
        "records": int(len(df)), "scored": int(len(scored)), "flagged": flagged,
        "flag_rate": round(flagged / len(scored), 4) if len(scored) else 0.0,
        "first_day": days.min().date().isoformat() if len(days) else None,
        "last_day": days.max().date().isoformat() if len(days) else None,
        "models": models,
    }
