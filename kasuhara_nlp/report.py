"""`kasuhara report`: a self-contained static HTML report of a scan, in Japanese.

One HTML file: summary counts per status, category, severity and channel; plots embedded as
base64 PNG; the top flagged messages with their evidence highlighted; the flagged conversations with
the signals behind them (a long chat is flagged on the conversation while none of its messages is).
No external resources (a Content-Security-Policy forbids them), no script, masked text and ids only
(see :mod:`kasuhara_nlp.highlight`).  A results file without results still gets a page that says so,
and a logged warning.

Scores of different models (or versions of one model) are calibrated differently, so when the results
come from several, the page says so at the top (which versions, how many messages each) and shows the
score distribution and the top flagged messages per version; the counts stay totals over all of them.

>>> import pandas as pd
>>> from kasuhara_nlp.analysis import results_frame
>>> df = results_frame([{"id": "m1", "status": "ok", "labels": ["abuse"], "severity": 2, "text": "殺すぞ",
...                      "scores": {"abuse": 0.9}, "evidence": [{"label": "abuse", "start": 0, "end": 3}]}])
>>> page = render_report(df, plots=False)
>>> "<h2>概要</h2>" in page and 'data-labels="abuse"' in page and "http" not in page.split("<body")[1]
True
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from .analysis import filter_results, load_results, overview, require_pandas, split_kinds, summary_tables
from .highlight import STYLE, card_html, display_id, label_chips, legend_html, message_card_html, visible_controls
from .pii import mask_text
from .results_file import parse_signals
from .scan_output import check_output

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

REPORT_TITLE = "カスタマーハラスメント検知レポート"
#: Japanese names of the conversation signals (kasuhara_nlp.conversation); others show their id.
SIGNAL_NAMES_JA = {"long_duration": "長時間の通話・チャット", "contacts_per_day": "1日の連絡回数",
                   "out_of_hours": "営業時間外の連絡", "repeated_demand": "同じ要求の繰り返し"}
# Nothing may load from outside the file: images are data: URIs, styles are inline, no scripts.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

PAGE_STYLE = """
body { margin: 0 auto; max-width: 1100px; padding: 24px 32px; background: #f6f7f9; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.25em; border-left: 5px solid #1f5f99; padding-left: 8px; margin-top: 32px; }
.kh-sub { color: #4a5568; font-size: 0.9em; }
.kh-cards { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 16px; }
.kh-stat { background: #fff; border: 1px solid #d5dae3; border-radius: 8px; padding: 10px 18px; min-width: 150px; }
.kh-stat .v { font-size: 1.8em; font-weight: bold; }
.kh-stat .k { color: #4a5568; font-size: 0.9em; }
.kh-tables { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px; align-items: start; }
table { border-collapse: collapse; background: #fff; width: 100%; font-size: 0.92em; }
caption { text-align: left; font-weight: bold; padding: 4px 0; }
th, td { border: 1px solid #d5dae3; padding: 4px 8px; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #eef1f5; }
figure { background: #fff; border: 1px solid #d5dae3; border-radius: 8px; margin: 12px 0; padding: 8px; }
figure img { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { color: #4a5568; font-size: 0.85em; text-align: center; }
footer { margin-top: 32px; color: #4a5568; font-size: 0.85em; }
.kh-notice { background: #fff8e1; border: 1px solid #e0b000; border-left: 6px solid #e0b000; border-radius: 6px;
             padding: 10px 16px; margin: 16px 0; }
.kh-notice table { margin-top: 8px; }
h3 { font-size: 1.05em; margin: 20px 0 6px; }
.kh-conv ul { margin: 4px 0; padding-left: 20px; }
.kh-counted { font-weight: bold; color: #b42318; }
.kh-not-counted { color: #4a5568; }
"""


def _esc(value: Any) -> str:
    # Escaped, with bidi controls visible: a channel or model name cannot reorder the rest of its line.
    return visible_controls(value, markup=False)


def _table(caption: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], table_id: str) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f'<td class="n">{_esc(v)}</td>' if isinstance(v, (int, float)) and
                                    not isinstance(v, bool) else f"<td>{_esc(v)}</td>" for v in row) + "</tr>"
                   for row in rows)
    return f'<table id="{_esc(table_id)}"><caption>{_esc(caption)}</caption><tr>{head}</tr>{body}</table>'


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _summary_html(df: "pd.DataFrame") -> str:
    ov = overview(df)
    tables = summary_tables(df)
    stats = [("総レコード数", ov["records"]), ("判定済みメッセージ", ov["scored"]), ("検知件数", ov["flagged"]),
             ("検知率", _pct(ov["flag_rate"]))]
    if ov["conversations"]:
        stats.append(("検知された会話", ov["flagged_conversations"]))
    cards = "".join(f'<div class="kh-stat"><div class="v">{_esc(v)}</div><div class="k">{_esc(k)}</div></div>'
                    for k, v in stats)
    st, cat, sev, ch = tables["status"], tables["category"], tables["severity"], tables["channel"]
    parts = [
        _table("状態別", ["状態", "status", "件数"], zip(st["状態"], st["status"], st["件数"].astype(int)), "by-status"),
        _table("カテゴリ別（判定済みメッセージ中）", ["カテゴリ", "id", "件数", "割合"],
               zip(cat["カテゴリ"], cat["category"], cat["件数"].astype(int), map(_pct, cat["割合"])), "by-category"),
        _table("深刻度別", ["深刻度", "レベル", "件数", "割合"],
               zip(sev["深刻度"], sev["severity"].astype(int), sev["件数"].astype(int), map(_pct, sev["割合"])),
               "by-severity"),
        _table("チャネル別", ["チャネル", "件数", "検知"],
               zip(map(display_id, ch["チャネル"]), ch["件数"].astype(int), ch["検知"].astype(int)), "by-channel"),
    ]
    return (f'<section id="summary"><h2>概要</h2><div class="kh-cards">{cards}</div>'
            f'<div class="kh-tables">{"".join(parts)}</div></section>')


UNKNOWN_MODEL = "モデル不明"


def _model_labels(df: "pd.DataFrame") -> "pd.Series":
    """``"<model> <version>"`` per row (:data:`UNKNOWN_MODEL` when the result does not say)."""
    pd = require_pandas()

    def label(model: Any, version: Any) -> str:
        # Missing values are NaN in a DataFrame: only strings name a model.
        if not (isinstance(model, str) and model.strip()):
            return UNKNOWN_MODEL
        return f"{model.strip()} {version.strip()}".strip() if isinstance(version, str) else model.strip()

    models = df["model"] if "model" in df else [None] * len(df)
    versions = df["model_version"] if "model_version" in df else [None] * len(df)
    return pd.Series([label(m, v) for m, v in zip(models, versions)], index=df.index, dtype=object)


def model_groups(df: "pd.DataFrame") -> list[tuple[str, "pd.DataFrame"]]:
    """The scored messages per model version, largest group first: ``[(label, rows), ...]``.

    Only scored rows count: unreadable records carry no model and no scores.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"status": ["ok", "ok", "ok", "error"], "model": ["a", "b", "b", None],
    ...                    "model_version": ["1", "2", "2", None]})
    >>> [(label, len(rows)) for label, rows in model_groups(df)]
    [('b 2', 2), ('a 1', 1)]
    """
    scored = df[df["status"].fillna("ok") == "ok"] if "status" in df else df
    if scored.empty:
        return []
    labels = _model_labels(scored)
    groups = [(label, scored[labels == label]) for label in labels.unique()]
    return sorted(groups, key=lambda g: (-len(g[1]), g[0]))


def _model_notice_html(groups: list[tuple[str, "pd.DataFrame"]]) -> str:
    """A visible notice that several model versions are mixed, with their counts; empty for one version."""
    if len(groups) < 2:
        return ""
    rows = []
    for label, rows_of_model in groups:
        flagged = int(rows_of_model["flagged"].astype(bool).sum()) if "flagged" in rows_of_model else 0
        rows.append((label, len(rows_of_model), flagged, _pct(flagged / len(rows_of_model))))
    names = "、".join(f"{label}（{n:,} 件）" for label, n, _, _ in rows)
    return ('<div class="kh-notice" id="model-notice" role="note"><p><strong>複数のモデルの結果が混在しています'
            f"（{len(groups)} 種類）</strong>：{_esc(names)}。</p>"
            "<p>スコアの較正はモデルごとに異なり、比べられません。スコア分布と検知されたメッセージの上位は"
            "モデル別に示します。件数の集計（概要・推移・チャネル別）は全モデルの合計です。</p>"
            + _table("モデル別（判定済みメッセージ）", ["モデル", "判定済み", "検知", "検知率"], rows, "by-model")
            + "</div>")


def _plots_html(df: "pd.DataFrame", groups: list[tuple[str, "pd.DataFrame"]]) -> str:
    from .plots import figure_data_uri, plot_channel_counts, plot_flags_over_time, plot_score_distributions

    if len(groups) < 2:
        scores = [(plot_score_distributions(df), "カテゴリ別スコア分布", "全メッセージのカテゴリ別スコア（縦軸は対数）")]
    else:
        # Pooling two models' scores would draw one distribution that neither model produces.
        scores = []
        for label, rows in groups:
            fig = plot_score_distributions(rows)
            # The model name is data: a "$" in it must not switch matplotlib into mathtext (or break it).
            fig.suptitle(f"カテゴリ別スコア分布：{label}".replace("$", r"\$"))
            scores.append((fig, f"カテゴリ別スコア分布（{label}）",
                           f"{label} が判定した {len(rows):,} 件のカテゴリ別スコア（縦軸は対数）"))
    figures = [
        (plot_flags_over_time(df), "検知件数の推移", "日ごとの検知件数（カテゴリ別の積み上げ）と判定件数"),
        *scores,
        (plot_channel_counts(df), "チャネル別件数", "チャネルごとの判定件数と検知件数"),
    ]
    items = "".join(f'<figure><img alt="{_esc(alt)}" src="{figure_data_uri(fig)}">'
                    f"<figcaption>{_esc(caption)}</figcaption></figure>" for fig, alt, caption in figures)
    return f'<section id="charts"><h2>グラフ</h2>{items}</section>'


def top_flagged(df: "pd.DataFrame", top: int = 20) -> "pd.DataFrame":
    """The ``top`` flagged messages, most severe first, then by highest score."""
    flagged = filter_results(df, flagged=True, sort=None)
    return flagged.sort_values(["severity", "max_score"], ascending=False, kind="stable").head(top)


def _samples_html(df: "pd.DataFrame", groups: list[tuple[str, "pd.DataFrame"]], top: int,
                  flagged_conversations: int = 0) -> str:
    intro = "深刻度の高い順、同じ深刻度ではスコアの高い順。色付きの部分が判定の根拠となった文です。"
    if len(groups) < 2:
        rows = top_flagged(df, top)
        shown = len(rows)
        cards = "".join(message_card_html(r, index=i + 1) for i, r in enumerate(rows.to_dict("records")))
        if not cards:
            # "None" must not read as "nothing found" when whole conversations were flagged.
            cards = "<p>検知されたメッセージはありません。" + (
                f"ただし会話 {flagged_conversations} 件が会話単位で検知されています（下の「検知された会話」）。"
                if flagged_conversations else "") + "</p>"
    else:
        # Scores of different models do not rank against each other: the top of each, per model.
        intro = f"モデルごとに上位 {top} 件まで、" + intro
        shown, parts = 0, []
        for label, group in groups:
            rows = top_flagged(group, top)
            head = f"<h3>{_esc(label)}（上位 {len(rows)} 件）</h3>"
            cards = "".join(message_card_html(r, index=shown + i + 1) for i, r in enumerate(rows.to_dict("records")))
            parts.append(f'<div class="kh-model-group" data-model="{_esc(label)}">{head}'
                         f'{cards or "<p>このモデルで検知されたメッセージはありません。</p>"}</div>')
            shown += len(rows)
        cards = "".join(parts)
    return (f'<section id="samples"><h2>検知されたメッセージ（上位 {shown} 件）</h2>'
            f'<p class="kh-sub">{intro}</p>'
            f"{legend_html()}{cards}</section>")


def _signals_html(signals: Any) -> str:
    """A conversation's signals: name, category, whether it counted toward the flag, detail, messages."""
    items = []
    for sig in parse_signals(signals) if isinstance(signals, str) else list(signals or []):
        counted = bool(sig.get("counted", True))
        state = ('<span class="kh-counted">[判定に反映]</span>' if counted
                 else '<span class="kh-not-counted">[参考・判定には数えていません]</span>')
        ids = [str(i) for i in sig.get("message_ids") or []]
        shown = "、".join(f"<bdi>{visible_controls(display_id(i))}</bdi>" for i in ids[:3])
        more = f" ほか（計 {len(ids)} 件）" if len(ids) > 3 else ""
        name = SIGNAL_NAMES_JA.get(sig.get("type"), sig.get("type") or "シグナル")
        items.append(f"<li>{state} {_esc(name)} {label_chips([sig.get('category')])}："
                     f"<bdi>{visible_controls(sig.get('detail'))}</bdi>"
                     + (f"（メッセージ：{shown}{more}）" if ids else "") + "</li>")
    return f'<ul class="kh-signals">{"".join(items)}</ul>' if items else ""


def _conversation_evidence_html(evidence: Any, limit: int = 5) -> str:
    """The sentences behind a conversation's flag (already masked by the scan; masked again), with their message."""
    items = []
    for ev in list(evidence or [])[:limit]:
        label = ev.get("label") if isinstance(ev, dict) else None
        text = visible_controls(mask_text(str(ev.get("text") or "")).text) if isinstance(ev, dict) else ""
        if not text:
            continue
        mark = f'<mark class="kh-ev kh-{_esc(label)}">{text}</mark>' if label else text
        source = f"（メッセージ <bdi>{visible_controls(display_id(ev.get('message_id')))}</bdi>）" \
            if ev.get("message_id") else ""
        items.append(f"<li><bdi>{mark}</bdi>{source}</li>")
    return f'<ul class="kh-conv-ev">{"".join(items)}</ul>' if items else ""


def conversation_card_html(row: dict[str, Any], index: int | None = None) -> str:
    """One flagged conversation: id, messages, severity, labels, the signals and the evidence sentences."""
    meta = [f"<span>メッセージ {len(row.get('message_ids') or [])} 件</span>"]
    inner = _signals_html(row.get("signals")) + _conversation_evidence_html(row.get("evidence"))
    return card_html(row, meta, inner, index=index, classes="kh-card kh-conv")


def _conversations_html(conversations: "pd.DataFrame", top: int) -> str:
    """The flagged conversations, most severe first; nothing when the results hold no conversation."""
    if conversations.empty:
        return ""
    flagged = filter_results(conversations, flagged=True, sort=None)
    rows = top_flagged(flagged, top)  # most severe first, then by highest score, as the messages
    cards = "".join(conversation_card_html(r, index=i + 1) for i, r in enumerate(rows.to_dict("records")))
    intro = ("スレッドや通話・チャット全体で判断した検知です（長時間の通話・チャット、1日の連絡回数、同じ要求の"
             "繰り返しなど）。個々のメッセージは検知されていないことがあります。「判定に反映」のシグナルが判定に"
             f"数えられたもの、「参考」は数えていないものです。会話 {len(conversations):,} 件中 {len(flagged):,} 件。")
    return (f'<section id="conversations"><h2>検知された会話（{len(flagged)} 件）</h2>'
            f'<p class="kh-sub">{_esc(intro)}</p>'
            f'{cards or "<p>会話単位で検知された会話はありません。</p>"}</section>')


def _emptiness(ov: dict[str, Any]) -> str:
    """"empty" (no result at all), "unscored" (no message scored) or "" (something to report)."""
    if ov["records"] == 0 and ov["conversations"] == 0:
        return "empty"
    return "unscored" if ov["scored"] == 0 else ""


def _empty_notice_html(ov: dict[str, Any]) -> str:
    """A visible notice when there is nothing to report: an empty file, or no message was scored."""
    text = {
        "empty": ("この結果ファイルには結果が 1 件もありません。`kasuhara scan` が最後まで終わったか"
                  "（途中で止まった場合、結果は OUT.partial に残ります）と、入力にメッセージがあったかを確認してください。"),
        "unscored": ("判定済みのメッセージがありません（すべて読み込みエラー・スキップ・判定対象外です）。"
                     "状態別の表と、`kasuhara scan` が表示したエラーを確認してください。"),
    }.get(_emptiness(ov))
    return f'<div class="kh-notice" id="empty-notice" role="note"><p><strong>{_esc(text)}</strong></p></div>' \
        if text else ""


def render_report(df: "pd.DataFrame", *, top: int = 20, source_name: str = "", plots: bool = True,
                  generated_at: str | None = None) -> str:
    """The report page for a results DataFrame (from :func:`kasuhara_nlp.analysis.load_results`).

    Conversation rows (``load_results(path, kinds=("message", "conversation"))``) are counted and
    listed apart; every other part is about the messages.
    """
    ov = overview(df)
    everything = df  # the summary counts conversations apart from messages itself
    df, conversations = split_kinds(df)
    generated_at = generated_at or datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    period = f"{ov['first_day']} 〜 {ov['last_day']}" if ov["first_day"] else "日時情報なし"
    sub = "　".join(f"{k}: {_esc(v)}" for k, v in (("入力", source_name or "-"), ("期間", period),
                                                  ("モデル", ", ".join(ov["models"]) or "-"), ("作成", generated_at)))
    groups = model_groups(df)
    body = [f"<header><h1>{_esc(REPORT_TITLE)}</h1><p class=\"kh-sub\">{sub}</p></header>",
            _empty_notice_html(ov), _model_notice_html(groups), _summary_html(everything)]
    if plots:
        body.append(_plots_html(df, groups))
    body.append(_samples_html(df, groups, top, ov["flagged_conversations"]))
    body.append(_conversations_html(conversations, top))
    body.append("<footer>本文と ID は個人情報（メールアドレス・電話番号・カード番号など）をマスクして表示しています。"
                "正当なクレームは、どれほど強い表現でもハラスメントではありません。判定は担当者が確認してください。"
                "<br>kasuhara-nlp で作成。このファイルは外部のリソースを読み込みません。</footer>")
    return ("<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_esc(REPORT_TITLE)}</title><style>{STYLE}{PAGE_STYLE}</style></head>"
            f'<body class="kh">{"".join(body)}</body></html>\n')


def write_report(results_path: str | Path, out_path: str | Path, top: int = 20) -> Path:
    """Read a `kasuhara scan` output and write the HTML report to ``out_path``; return its path.

    Refuses (:class:`~kasuhara_nlp.errors.ConfigError`) an ``out_path`` that is the results file itself.
    A file with no results, or none scored, still gets a report that says so, and a logged warning.
    Needs the ``notebook`` extra (pandas, matplotlib, a Japanese font).
    """
    if top < 0:
        raise ValueError(f"top must be >= 0, got {top}")
    # Writing the page over the results would lose the scan (and what analysts decided on it).
    check_output([str(results_path)], str(out_path))
    df = load_results(results_path, kinds=("message", "conversation"))
    ov = overview(df)
    emptiness = _emptiness(ov)
    if emptiness == "empty":
        log.warning("%s: no results in this file; the report is empty (is it the -o file of a finished "
                    "`kasuhara scan`?)", results_path)
    elif emptiness == "unscored":
        log.warning("%s: none of its %d results was scored (errors, skipped or agent messages); the report has "
                    "counts only", results_path, ov["records"])
    page = render_report(df, top=top, source_name=Path(results_path).name)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
