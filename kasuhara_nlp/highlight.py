"""HTML that highlights evidence spans in category colours: for Jupyter and for static reports.

Every piece of text, id and attribute is escaped, so a message cannot inject markup into a report.
Text and ids are masked again before rendering (idempotent: placeholders such as ``[メール]`` are not
PII), so a results file written with ``--no-mask`` still shows no addresses or phone numbers here.
Ids, channels and texts each sit in a ``<bdi>``, and bidi override/embedding/isolate controls are shown
as ``[U+202E]``: a U+202E in an id cannot turn the rest of the card's line around.

>>> ev = [{"label": "abuse", "start": 5, "end": 8, "text": "バカ。", "score": 0.9}]
>>> html_text = highlight_html("返金しろ。バカ。<b>", ev)
>>> "&lt;b&gt;" in html_text and 'data-labels="abuse"' in html_text
True
>>> HighlightedText("連絡は a@example.com まで", [])._repr_html_().count("[メール]")
1
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .labels import CATEGORIES, SEVERITY_NAMES_JA, display_name
from .pii import mask_text, remap_span

if TYPE_CHECKING:
    import pandas as pd

#: Highlight (background) and accent (border, chip) colours per category.  Light backgrounds keep
#: dark text readable; hues differ in lightness too, so they stay apart for colour-blind readers.
CATEGORY_COLOURS: dict[str, tuple[str, str]] = {
    "abuse": ("#f9b8b8", "#b42318"),
    "demand": ("#fdd89b", "#a15c07"),
    "restraint": ("#b3dcf5", "#1f5f99"),
    "other_harassment": ("#d6c5f5", "#5b34a8"),
}

#: Fonts that carry Japanese glyphs, tried in order by the browser; no web fonts (no network).
FONT_STACK = ('"Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "IPAGothic", "Hiragino Sans", '
              '"Hiragino Kaku Gothic ProN", "Yu Gothic", "Meiryo", sans-serif')

STYLE = f"""
.kh {{ font-family: {FONT_STACK}; line-height: 1.7; color: #1d2433; }}
.kh-card {{ border: 1px solid #d5dae3; border-radius: 8px; padding: 10px 14px; margin: 10px 0; background: #fff; }}
.kh-meta {{ font-size: 0.85em; color: #4a5568; margin-bottom: 4px; }}
.kh-meta span {{ margin-right: 12px; }}
.kh-text {{ white-space: pre-wrap; word-break: break-word; font-size: 1.02em; }}
.kh-ev {{ border-radius: 3px; padding: 1px 0; color: inherit; }}
.kh-chip {{ display: inline-block; border-radius: 10px; padding: 0 8px; margin-right: 4px; font-size: 0.85em;
           color: #fff; }}
.kh-sev {{ font-weight: bold; }}
.kh-scores {{ font-size: 0.8em; color: #4a5568; }}
.kh-legend span {{ margin-right: 10px; }}
.kh-ctl {{ font-size: 0.75em; color: #b42318; border: 1px solid #b42318; border-radius: 3px; padding: 0 2px; }}
""" + "".join(
    f".kh-{c} {{ background: {bg}; border-bottom: 2px solid {fg}; }}\n.kh-chip-{c} {{ background: {fg}; }}\n"
    for c, (bg, fg) in CATEGORY_COLOURS.items())


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


#: Bidi embedding, override and isolate controls: invisible, and they reorder the text after them.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def visible_controls(value: Any, *, markup: bool = True) -> str:
    """Escaped ``value`` with each bidi control shown as ``[U+XXXX]`` (in a marked span, or plain for attributes).

    >>> visible_controls("a\u202e<b>", markup=False)
    'a[U+202E]&lt;b&gt;'
    """
    out = _esc(value)
    for ch in BIDI_CONTROLS & set(out):
        name = f"[U+{ord(ch):04X}]"
        out = out.replace(ch, f'<span class="kh-ctl" title="bidi">{name}</span>' if markup else name)
    return out


def display_id(value: Any, *, mask: bool = True) -> str:
    """An id (or channel) as shown: PII masked like text (ids can be Message-IDs or e-mail addresses).

    >>> display_id("QA-1 yamada@example.com"), display_id("QA-1 yamada@example.com", mask=False)
    ('QA-1 [メール]', 'QA-1 yamada@example.com')
    """
    text = "" if value is None else str(value)
    return mask_text(text).text if mask else text


def _field(ev: Any, name: str, default: Any = None) -> Any:
    return ev.get(name, default) if isinstance(ev, Mapping) else getattr(ev, name, default)


def _spans(text: str, evidence: Iterable[Any]) -> list[tuple[int, int, str, float]]:
    """Evidence as (start, end, label, score), with offsets checked against ``text``."""
    out = []
    for ev in evidence or ():
        label, start, end = _field(ev, "label"), _field(ev, "start"), _field(ev, "end")
        if label not in CATEGORY_COLOURS or not isinstance(start, int) or not isinstance(end, int):
            continue
        quoted = _field(ev, "text") or ""
        if text[start:end] != quoted and quoted and quoted in text:
            # Offsets from an edited or re-masked text: trust the quoted sentence instead.
            start = text.index(quoted)
            end = start + len(quoted)
        start, end = max(0, start), min(len(text), end)
        if start < end:
            out.append((start, end, label, float(_field(ev, "score", 0.0) or 0.0)))
    return out


def mask_with_evidence(text: str, evidence: Iterable[Any]) -> tuple[str, list[dict[str, Any]]]:
    """Mask PII in ``text`` and move the evidence offsets to match.

    >>> mask_with_evidence("090-1234-5678 殺すぞ", [{"label": "abuse", "start": 14, "end": 17}])[1][0]["start"]
    5
    """
    spans = [{"label": _field(e, "label"), "start": _field(e, "start"), "end": _field(e, "end"),
              "score": _field(e, "score", 0.0), "text": _field(e, "text")} for e in evidence or ()]
    masked = mask_text(text)
    if not masked.mapping:
        return text, spans
    out = []
    for s in spans:
        a, b = s["start"], s["end"]
        if isinstance(a, int) and isinstance(b, int) and (not s["text"] or text[a:b] == s["text"]):
            a, b = remap_span(masked, a, b)
            out.append(dict(s, start=a, end=b, text=masked.text[a:b]))
        else:
            out.append(s)  # offsets that do not fit the text: _spans falls back to the quoted sentence
    return masked.text, out


def highlight_html(text: str, evidence: Iterable[Any] = (), *, mask: bool = True) -> str:
    """``text`` as escaped HTML with each evidence span in a ``<mark>`` of its category's colour.

    Overlapping spans of several categories are split at every boundary; a piece covered by more
    than one category gets stripes of each colour and lists every label in ``data-labels``.

    >>> highlight_html("a<b", [])
    'a&lt;b'
    """
    text = text or ""
    if mask:
        text, evidence = mask_with_evidence(text, evidence)
    spans = _spans(text, evidence)
    if not spans:
        return visible_controls(text)
    cuts = sorted({0, len(text)} | {s for s, _, _, _ in spans} | {e for _, e, _, _ in spans})
    out = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        covering = sorted({(lab, sc) for s, e, lab, sc in spans if s <= a and b <= e},
                          key=lambda x: CATEGORIES.index(x[0]))
        piece = visible_controls(text[a:b])
        if not covering:
            out.append(piece)
            continue
        labels = [lab for lab, _ in covering]
        title = " / ".join(f"{display_name(lab)} {sc:.2f}" for lab, sc in covering)
        style = ""
        if len(labels) > 1:
            stops = ", ".join(f"{CATEGORY_COLOURS[lab][0]} {100 * i / len(labels):.0f}% "
                              f"{100 * (i + 1) / len(labels):.0f}%" for i, lab in enumerate(labels))
            style = f' style="background: linear-gradient(180deg, {stops});"'
        out.append(f'<mark class="kh-ev kh-{labels[0]}" data-labels="{_esc(" ".join(labels))}" '
                   f'title="{_esc(title)}"{style}>{piece}</mark>')
    return "".join(out)


def label_chips(labels: Iterable[str]) -> str:
    """Coloured chips with the Japanese names of ``labels``.

    >>> label_chips(["demand"])
    '<span class="kh-chip kh-chip-demand">過剰または不合理な要求</span>'
    """
    return "".join(f'<span class="kh-chip kh-chip-{_esc(c)}">{_esc(display_name(c))}</span>'
                   for c in labels if c in CATEGORY_COLOURS)


def legend_html() -> str:
    """The colour legend: one highlighted sample per category.

    >>> legend_html().count("<mark")
    4
    """
    items = "".join(f'<span><mark class="kh-ev kh-{c}">{_esc(display_name(c))}</mark></span>'
                    for c in CATEGORIES)
    return f'<div class="kh-legend">凡例: {items}</div>'


def _fmt_time(row: Mapping[str, Any]) -> str:
    ts = row.get("timestamp_local")
    if ts is None or (isinstance(ts, float) and ts != ts) or str(ts) in ("NaT", "nan", "None"):
        return ""
    return ts.strftime("%Y-%m-%d %H:%M") if hasattr(ts, "strftime") else str(ts)[:16].replace("T", " ")


def _text(value: Any) -> str:
    """A field as text; missing (None, or NaN in a DataFrame row) is empty."""
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def _source(row: Mapping[str, Any], *, mask: bool) -> str:
    """Where a message came from (file name and locator): shown when masking hid the id, so it can be found."""
    name = _text(row.get("source_file")).replace("\\", "/").rsplit("/", 1)[-1]
    locator = _text(row.get("source_locator"))
    where = " ".join(x for x in (name, "" if locator == "file" else locator) if x)
    return f"<span>出典: <bdi>{visible_controls(display_id(where, mask=mask))}</bdi></span>" if where else ""


def meta_id_html(row: Mapping[str, Any], *, mask: bool = True) -> str:
    """The card's id span: masked, isolated, with the source when masking changed the id."""
    shown = display_id(row.get("id"), mask=mask)
    source = _source(row, mask=mask) if shown != _text(row.get("id")) else ""
    return f'<span class="kh-id">ID: <bdi class="kh-id-value">{visible_controls(shown)}</bdi></span>{source}'


def card_html(row: Mapping[str, Any], meta: list[str], inner: str, *, mask: bool = True,
              index: int | None = None, classes: str = "kh-card") -> str:
    """A card: number, id, the given ``meta`` spans, severity and label chips on one line, then ``inner``.

    The frame that message cards and the report's conversation cards share; the id is masked and isolated.
    """
    severity = int(row.get("severity") or 0)
    head = [f"<span>#{index}</span>" if index is not None else "", meta_id_html(row, mask=mask), *meta,
            f'<span class="kh-sev">深刻度 {severity} ({_esc(SEVERITY_NAMES_JA.get(severity, ""))})</span>',
            label_chips(row.get("labels") or []) or "<span>該当なし</span>"]
    data_id = visible_controls(display_id(row.get("id"), mask=mask), markup=False)
    return f'<div class="{classes}" data-id="{data_id}"><div class="kh-meta">{"".join(head)}</div>{inner}</div>'


def message_card_html(row: Mapping[str, Any], *, mask: bool = True, index: int | None = None) -> str:
    """One message as a card: id, time, channel, severity, labels, scores and highlighted text.

    Id, channel and text are each isolated (``<bdi>``) and PII-masked unless ``mask=False``.
    """
    scores = row.get("scores") or {c: row.get(f"score_{c}") for c in CATEGORIES}
    score_text = "スコア: " + " ／ ".join(f"{display_name(c)} {float(scores[c]):.2f}" for c in CATEGORIES
                           if isinstance(scores.get(c), (int, float)) and scores[c] == scores[c])
    channel = display_id(row.get("channel") or "other", mask=mask)
    meta = [f"<span>{visible_controls(_fmt_time(row))}</span>" if _fmt_time(row) else "",
            f"<span>チャネル: <bdi>{visible_controls(channel)}</bdi></span>"]
    body = highlight_html(row.get("text") or "", row.get("evidence") or (), mask=mask)
    return card_html(row, meta, f'<div class="kh-text"><bdi class="kh-body">{body}</bdi></div>'
                                f'<div class="kh-scores">{_esc(score_text)}</div>', mask=mask, index=index)


@dataclass
class HighlightedText:
    """One text with its evidence; shows itself highlighted in Jupyter.

    >>> HighlightedText("土下座しろ", [{"label": "demand", "start": 0, "end": 5}]).html.count('<mark class="kh-ev kh-demand')
    1
    """

    text: str
    evidence: list[Any] = field(default_factory=list)
    mask: bool = True

    @property
    def html(self) -> str:
        return (f'<div class="kh"><style>{STYLE}</style><div class="kh-text">'
                f"{highlight_html(self.text, self.evidence, mask=self.mask)}</div></div>")

    def _repr_html_(self) -> str:
        return self.html


@dataclass
class SampleView:
    """Message cards with a legend; shows itself in Jupyter, ``.html`` for a static page."""

    rows: list[dict[str, Any]]
    title: str = ""
    start: int = 0
    mask: bool = True

    @property
    def html(self) -> str:
        cards = "".join(message_card_html(r, mask=self.mask, index=self.start + i)
                        for i, r in enumerate(self.rows))
        title = f"<h3>{_esc(self.title)}</h3>" if self.title else ""
        empty = "" if self.rows else "<p>該当するメッセージはありません。</p>"
        return f'<div class="kh"><style>{STYLE}</style>{title}{legend_html()}{cards}{empty}</div>'

    def _repr_html_(self) -> str:
        return self.html

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:  # the plain-text view: no message text in logs or consoles
        return f"SampleView({len(self.rows)} messages, title={self.title!r})"


def render_samples(df: "pd.DataFrame | Iterable[Mapping[str, Any]]", title: str = "", *, start: int = 0,
                   mask: bool = True) -> SampleView:
    """Cards for the rows of a results DataFrame (or result dicts), e.g. a page of flagged messages.

    >>> view = render_samples([{"id": "m1", "text": "殺すぞ", "labels": ["abuse"], "severity": 3,
    ...                         "evidence": [{"label": "abuse", "start": 0, "end": 3, "score": 0.9}]}])
    >>> 'data-labels="abuse"' in view._repr_html_()
    True
    """
    rows = df.to_dict("records") if hasattr(df, "to_dict") else [dict(r) for r in df]
    return SampleView(rows, title=title, start=start, mask=mask)
