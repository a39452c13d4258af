"""matplotlib figures with Japanese labels, for notebooks and the static report.

Each function takes a DataFrame and returns a :class:`matplotlib.figure.Figure` built without
pyplot, so figures never pile up in pyplot's global state and rendering works headless.  In Jupyter
(``%matplotlib inline``) a returned Figure shows as a PNG; :func:`figure_png` gives the PNG bytes.

Scan results (from :func:`kasuhara_nlp.analysis.load_results`): :func:`plot_score_distributions`,
:func:`plot_flags_over_time`, :func:`plot_channel_counts`.  Gold labels (from
:func:`kasuhara_nlp.tuning.score_labelled`): :func:`plot_precision_recall`, :func:`plot_calibration`,
:func:`plot_threshold_tradeoff`.

>>> import pandas as pd
>>> df = pd.DataFrame({f"score_{c}": [0.1, 0.9] for c in CATEGORIES})
>>> fig = plot_score_distributions(df)
>>> figure_png(fig)[:4]
b'\\x89PNG'
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Sequence

import numpy as np

from .fonts import setup_japanese_font
from .highlight import CATEGORY_COLOURS
from .labels import CATEGORIES, display_name
from .tuning import DEFAULT_GRID, threshold_curve

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


def _figure(width: float = 8.0, height: float = 5.0) -> "Figure":
    from matplotlib.figure import Figure

    setup_japanese_font()
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _colour(category: str) -> str:
    return CATEGORY_COLOURS[category][1]


def figure_png(fig: "Figure", dpi: int = 100) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def figure_data_uri(fig: "Figure", dpi: int = 100) -> str:
    """The figure as a ``data:image/png;base64,...`` URI, for a self-contained HTML page.

    >>> figure_data_uri(_figure(1, 1)).startswith("data:image/png;base64,")
    True
    """
    return "data:image/png;base64," + base64.b64encode(figure_png(fig, dpi)).decode("ascii")


def _empty(ax, message: str = "データがありません") -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def plot_score_distributions(df: "pd.DataFrame", thresholds: dict[str, float] | None = None,
                             bins: int = 20) -> "Figure":
    """A histogram of scores per category (log count axis), with the thresholds when given."""
    fig = _figure(9, 5.5)
    axes = fig.subplots(2, 2, sharex=True).ravel()
    edges = np.linspace(0, 1, bins + 1)
    for ax, c in zip(axes, CATEGORIES):
        col = f"score_{c}"
        values = df[col].dropna().to_numpy(float) if col in df else np.array([])
        if not len(values):
            _empty(ax)
        else:
            ax.hist(values, bins=edges, color=_colour(c), alpha=0.85)
            ax.set_yscale("log")
        if thresholds and c in thresholds:
            ax.axvline(thresholds[c], color="#333", linestyle="--", linewidth=1, label=f"しきい値 {thresholds[c]:.2f}")
            ax.legend(loc="upper center", fontsize=8)
        ax.set_title(display_name(c), fontsize=10)
        ax.set_xlabel("スコア（確率）")
        ax.set_ylabel("件数")
    fig.suptitle("カテゴリ別スコア分布")
    return fig


def plot_flags_over_time(df: "pd.DataFrame", freq: str = "D") -> "Figure":
    """Flagged messages per local day (``freq="W"`` per week), stacked by category, with the
    number of scored messages as a line."""
    from .analysis import require_pandas

    pd = require_pandas()
    fig = _figure(9, 4.5)
    ax = fig.subplots()
    scored = df[(df["status"].fillna("ok") == "ok") & df["date_local"].notna()] if len(df) else df
    if not len(scored):
        _empty(ax, "日時のあるメッセージがありません")
        ax.set_title("検知件数の推移")
        return fig
    periods = scored["date_local"].dt.to_period(freq)
    index = pd.period_range(periods.min(), periods.max(), freq=freq)
    counts = {c: scored[scored["labels"].map(lambda ls, c=c: c in ls)].groupby(periods).size()
              .reindex(index, fill_value=0) for c in CATEGORIES}
    total = scored.groupby(periods).size().reindex(index, fill_value=0)
    x = np.arange(len(index))
    bottom = np.zeros(len(index))
    for c in CATEGORIES:
        ax.bar(x, counts[c].to_numpy(), bottom=bottom, color=_colour(c), label=display_name(c), width=0.8)
        bottom += counts[c].to_numpy()
    ax.plot(x, total.to_numpy(), color="#333", marker="o", linewidth=1, label="判定件数（全体）")
    ax.set_xticks(x, [p.start_time.strftime("%m/%d") for p in index], rotation=45 if len(x) > 10 else 0)
    ax.set_ylabel("件数（カテゴリ別に積み上げ）")
    ax.set_xlabel("日付（現地時刻）" if freq == "D" else "期間（現地時刻）")
    ax.set_title("検知件数の推移")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: never hides a bar
    ax.yaxis.get_major_locator().set_params(integer=True)
    return fig


def plot_channel_counts(df: "pd.DataFrame") -> "Figure":
    """Messages per channel, flagged and not flagged, as horizontal bars."""
    fig = _figure(8, 4)
    ax = fig.subplots()
    scored = df[df["status"].fillna("ok") == "ok"] if len(df) else df
    if not len(scored):
        _empty(ax)
        ax.set_title("チャネル別件数")
        return fig
    flagged = scored["flagged"].astype(bool)
    table = scored.assign(f=flagged).groupby("channel")["f"].agg(["size", "sum"]).sort_values("size")
    y = np.arange(len(table))
    ax.barh(y, table["sum"], color="#b42318", label="検知あり")
    ax.barh(y, table["size"] - table["sum"], left=table["sum"], color="#c9d1dc", label="検知なし")
    ax.set_yticks(y, table.index.tolist())
    ax.set_xlabel("件数")
    ax.set_title("チャネル別件数")
    ax.legend(fontsize=8, loc="lower right")
    ax.xaxis.get_major_locator().set_params(integer=True)
    return fig


def _gold(scored: "pd.DataFrame", c: str) -> tuple[np.ndarray, np.ndarray]:
    return scored[f"gold_{c}"].to_numpy(int), scored[f"score_{c}"].to_numpy(float)


def plot_precision_recall(scored: "pd.DataFrame", thresholds: dict[str, float] | None = None) -> "Figure":
    """Precision-recall curves per category, with the point at each threshold when given."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    fig = _figure(7, 5.5)
    ax = fig.subplots()
    drawn = 0
    for c in CATEGORIES:
        y, p = _gold(scored, c)
        if not y.any():
            continue  # no positives: the curve is undefined
        prec, rec, _ = precision_recall_curve(y, p)
        ax.plot(rec, prec, color=_colour(c), drawstyle="steps-post",
                label=f"{display_name(c)} (AP {average_precision_score(y, p):.2f})")
        if thresholds and c in thresholds:
            pred = p >= thresholds[c]
            tp = int(np.sum(pred & (y == 1)))
            ax.plot(tp / y.sum(), tp / max(1, pred.sum()), "o", color=_colour(c), markersize=7)
        drawn += 1
    if not drawn:
        _empty(ax, "正例がありません")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("再現率 (recall)")
    ax.set_ylabel("適合率 (precision)")
    ax.set_title("適合率-再現率曲線" + ("（●は現在のしきい値）" if thresholds else ""))
    if drawn:
        ax.legend(fontsize=8, loc="lower left")
    return fig


def plot_calibration(scored: "pd.DataFrame", bins: int = 10) -> "Figure":
    """Reliability curves: observed share of positives against mean predicted probability."""
    fig = _figure(7, 5.5)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="#999", linestyle="--", linewidth=1, label="完全な較正")
    edges = np.linspace(0, 1, bins + 1)
    for c in CATEGORIES:
        y, p = _gold(scored, c)
        which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
        xs, ys, ns = [], [], []
        for b in range(bins):
            m = which == b
            if m.any():
                xs.append(p[m].mean())
                ys.append(y[m].mean())
                ns.append(int(m.sum()))
        ax.plot(xs, ys, marker="o", color=_colour(c), label=display_name(c))
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("予測確率（ビン平均）")
    ax.set_ylabel("実際の該当率")
    ax.set_title("較正曲線（信頼性図）")
    ax.legend(fontsize=8, loc="upper left")
    return fig


def plot_threshold_tradeoff(scored: "pd.DataFrame", categories: Sequence[str] | None = None,
                            thresholds: dict[str, float] | None = None,
                            grid: Sequence[float] = DEFAULT_GRID) -> "Figure":
    """Per category: recall and false-positive rates (benign, hard negatives) against the threshold,
    with each chosen threshold as a dashed line: the trade-off a threshold choice makes."""
    categories = list(categories or CATEGORIES)
    fig = _figure(10, 3.2 * ((len(categories) + 1) // 2))
    axes = np.atleast_1d(fig.subplots((len(categories) + 1) // 2, 2 if len(categories) > 1 else 1,
                                      squeeze=False)).ravel()
    for ax, c in zip(axes, categories):
        curve = threshold_curve(scored, c, grid)
        ax.plot(curve["threshold"], curve["recall"], color=_colour(c), label="再現率")
        ax.plot(curve["threshold"], curve["fpr_benign"], color="#333", label="誤検知率（非該当）")
        if curve["fpr_hard_negative"].notna().any():
            ax.plot(curve["threshold"], curve["fpr_hard_negative"], color="#333", linestyle=":",
                    label="誤検知率（正当なクレーム）")
        if thresholds and c in thresholds:
            ax.axvline(thresholds[c], color=_colour(c), linestyle="--", linewidth=1,
                       label=f"しきい値 {thresholds[c]:.2f}")
        ax.set_title(display_name(c), fontsize=10)
        ax.set_xlabel("しきい値")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=7, loc="upper right")
    for ax in axes[len(categories):]:
        ax.set_visible(False)
    fig.suptitle("しきい値と再現率・誤検知率のトレードオフ")
    return fig
