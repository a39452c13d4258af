"""Human-readable rendering of one prediction, for `kasuhara score` and the REPL.

>>> from kasuhara_nlp.classifier import Prediction
>>> from kasuhara_nlp.records import Evidence
>>> p = Prediction("返金しろ。バカ。", {"abuse": 0.9, "demand": 0.1, "restraint": 0.0, "other_harassment": 0.0},
...                ["abuse"], 2, [Evidence("abuse", 5, 8, "バカ。", 0.9)])
>>> print(highlight(p.text, p.evidence, color=False))
返金しろ。【バカ。】
"""

from __future__ import annotations

from .labels import CATEGORIES, SEVERITY_NAMES_JA, display_name
from .records import Evidence

_BOLD_RED = "\033[1;31m"
_RESET = "\033[0m"


def highlight(text: str, evidence: list[Evidence], color: bool = True) -> str:
    """Mark evidence spans in ``text``: ANSI colour on a terminal, 【】 brackets otherwise."""
    spans = sorted({(e.start, e.end) for e in evidence})
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out, pos = [], 0
    open_, close = (_BOLD_RED, _RESET) if color else ("【", "】")
    for s, e in merged:
        out += [text[pos:s], open_, text[s:e], close]
        pos = e
    out.append(text[pos:])
    return "".join(out)


def format_prediction(pred, color: bool = False) -> str:
    """A few lines: verdict, severity, per-category scores and the highlighted text."""
    verdict = "カスハラの疑いあり (flagged)" if pred.flagged else "該当なし (not flagged)"
    lines = [f"判定: {verdict}", f"深刻度 severity: {pred.severity} ({SEVERITY_NAMES_JA[pred.severity]})"]
    for c in CATEGORIES:
        mark = "*" if c in pred.labels else " "
        lines.append(f" {mark} {c:17s} {pred.scores[c]:.3f}  {display_name(c)}")
    if pred.evidence:
        lines.append("根拠 evidence:")
        for e in pred.evidence:
            lines.append(f"  - [{e.label}] {e.text} ({e.score:.2f}, {e.start}-{e.end})")
    lines.append("本文 text: " + highlight(pred.text, pred.evidence, color=color))
    lines.append(f"モデル model: {pred.model} {pred.model_version}")
    return "\n".join(lines)
