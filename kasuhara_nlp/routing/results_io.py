"""Read scan results for routing: the JSONL results file, and the shape check of one result record.

>>> shape_problem({"labels": ["abuse"], "scores": {"abuse": 0.9}, "severity": 2}) is None
True
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

from ..errors import InputFormatError

__all__ = ["read_results", "shape_problem"]


def shape_problem(result: dict[str, Any]) -> str | None:
    """What makes a result record unusable for routing, or None (the fields routing reads, as scanning writes them).

    >>> shape_problem({"labels": ["abuse"], "scores": {"abuse": 0.9}, "severity": 2}) is None
    True
    >>> shape_problem({"labels": "abuse"})
    'labels is not a list of category ids'
    """
    labels, scores, severity = result.get("labels"), result.get("scores"), result.get("severity")
    if labels is not None and not (isinstance(labels, list) and all(isinstance(c, str) for c in labels)):
        return "labels is not a list of category ids"
    if scores is not None and not (isinstance(scores, dict) and all(
            v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in scores.values())):
        return "scores is not an object of category -> number"
    if severity is not None and (isinstance(severity, bool) or not isinstance(severity, int)):
        return "severity is not an integer 0-3"
    return None


def read_results(path: str | Path, on_problem: Callable[[str], None] | None = None,
                 problems: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Yield the result records of a JSONL results file ("-": stdin); bad lines are reported, not fatal."""
    if str(path).lower().endswith(".csv"):
        raise InputFormatError("routing reads JSONL results; write them with `kasuhara scan ... -o results.jsonl`",
                               path=str(path))
    f = sys.stdin if str(path) == "-" else open(path, encoding="utf-8-sig")
    try:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            problem = "not a JSON object" if not isinstance(record, dict) else shape_problem(record)
            if problem:
                message = f"{path}:{n}: {problem}; line skipped"
                if problems is not None:
                    problems.append(message)
                if on_problem:
                    on_problem(message)
                continue
            yield record
    finally:
        if f is not sys.stdin:
            f.close()
