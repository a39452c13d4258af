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

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from .errors import LabelError, MissingDependencyError
from .labels import CATEGORIES, SEVERITY_NAMES_JA, display_name
from .results_file import SCAN_FIELDS, read_results

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
    return results_frame(read_results(path, SCAN_FIELDS), kinds=kinds)


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


def review_page(df: "pd.DataFrame", number: int = 1, size: int = 5) -> tuple["pd.DataFrame", str]:
    """Page ``number`` (counted from 1, as shown to people) of ``size`` rows, and a title that says which.

    When nothing matches, or the page is past the end, the rows are empty and the title says why.

    >>> import pandas as pd
    >>> rows, title = review_page(pd.DataFrame({"x": range(12)}), 3, 5)
    >>> rows["x"].tolist(), title
    ([10, 11], 'ページ 3 / 3（12 件中 11〜12 件目）')
    >>> review_page(pd.DataFrame({"x": []}), 1)[1]
    '該当するメッセージはありません（絞り込みの条件に合うメッセージは 0 件です）'
    """
    if number < 1 or size < 1:
        raise ValueError(f"pages are counted from 1 and hold at least 1 row, got page {number} of size {size}")
    total, pages = len(df), page_count(df, size)
    rows = page(df, number - 1, size)
    if not total:
        return rows, "該当するメッセージはありません（絞り込みの条件に合うメッセージは 0 件です）"
    if rows.empty:
        return rows, f"ページ {number} はありません（{total} 件、全 {pages} ページ）"
    first = (number - 1) * size + 1
    return rows, f"ページ {number} / {pages}（{total} 件中 {first}〜{first + len(rows) - 1} 件目）"


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
    df = split_kinds(df)[0]
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


def split_kinds(df: "pd.DataFrame") -> tuple["pd.DataFrame", "pd.DataFrame"]:
    """The message rows and the conversation rows of a results frame (see ``load_results(kinds=...)``).

    >>> import pandas as pd
    >>> [len(x) for x in split_kinds(pd.DataFrame({"kind": ["message", "conversation", None]}))]
    [2, 1]
    """
    if "kind" not in df:
        return df, df.iloc[0:0]
    conversation = df["kind"].eq("conversation")
    return df[~conversation], df[conversation]


def overview(df: "pd.DataFrame") -> dict[str, Any]:
    """Headline numbers: records, scored, flagged, flag rate, period and models; conversations apart.

    The message counts are over message rows.  ``conversations`` and ``flagged_conversations`` count
    the conversation rows, present when loaded with ``kinds=("message", "conversation")``: a long chat
    or a flood of contacts is flagged on the conversation while none of its messages is.

    >>> import pandas as pd
    >>> overview(pd.DataFrame({"status": ["ok", "ok"], "flagged": [True, False]}))["flag_rate"]
    0.5
    """
    df, conversations = split_kinds(df)
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
        "conversations": int(len(conversations)),
        "flagged_conversations": int(conversations["flagged"].astype(bool).sum()) if len(conversations) else 0,
    }
