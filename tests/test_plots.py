"""matplotlib figures with Japanese labels: the font is registered, no glyph is missing, all plots render."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")
matplotlib = pytest.importorskip("matplotlib")

from kasuhara_nlp import fonts  # noqa: E402
from kasuhara_nlp.analysis import load_results, results_frame  # noqa: E402
from kasuhara_nlp.labels import CATEGORIES  # noqa: E402
from kasuhara_nlp.plots import (figure_data_uri, figure_png, plot_calibration, plot_channel_counts,  # noqa: E402
                                plot_flags_over_time, plot_precision_recall, plot_score_distributions,
                                plot_threshold_tradeoff)

REPO = Path(__file__).resolve().parent.parent
SAMPLE_RESULTS = REPO / "notebooks" / "sample" / "scan-results.jsonl"


@pytest.fixture(autouse=True)
def _restore_rcparams():
    with matplotlib.rc_context():
        yield


@pytest.fixture(scope="module")
def results() -> "pd.DataFrame":
    return load_results(SAMPLE_RESULTS)


@pytest.fixture(scope="module")
def scored() -> "pd.DataFrame":
    import numpy as np

    rng = np.random.default_rng(0)
    n = 60
    data = {"hard_negative": rng.random(n) < 0.2}
    for c in CATEGORIES:
        gold = rng.random(n) < 0.3
        data[f"gold_{c}"] = gold.astype(int)
        data[f"score_{c}"] = np.clip(gold * 0.6 + rng.random(n) * 0.5, 0, 1)
    return pd.DataFrame(data)


def _png_without_missing_glyphs(fig) -> bytes:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = figure_png(fig)
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert not missing, f"Japanese glyphs missing (tofu): {missing[:2]}"
    assert png[:4] == b"\x89PNG"
    return png


def test_a_japanese_font_is_registered_and_used() -> None:
    from matplotlib import font_manager

    name = fonts.setup_japanese_font()
    assert name is not None, "no Japanese font: pip install -e '.[notebook]' (matplotlib-fontja)"
    if fonts.bundled_font_file() is not None:
        assert name == "IPAexGothic"
    path = font_manager.findfont(font_manager.FontProperties(family=matplotlib.rcParams["font.family"]))
    assert "DejaVu" not in path
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1))
    fig.text(0.1, 0.5, "暴力・暴言 過剰または不合理な要求")
    _png_without_missing_glyphs(fig)


def test_missing_font_warns_with_a_fix(monkeypatch) -> None:
    from matplotlib import font_manager

    monkeypatch.setattr(fonts, "_chosen", [])
    monkeypatch.setattr(fonts, "bundled_font_file", lambda: None)
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    with pytest.warns(fonts.JapaneseFontWarning, match="fonts-noto-cjk"):
        assert fonts.setup_japanese_font() is None
    monkeypatch.setattr(fonts, "_chosen", [])  # the next test finds the real font again


@pytest.mark.parametrize("plot", [plot_score_distributions, plot_flags_over_time, plot_channel_counts])
def test_result_plots_render(plot, results) -> None:
    fig = plot(results)
    png = _png_without_missing_glyphs(fig)
    assert len(png) > 5000
    assert fig.get_suptitle() or any(ax.get_title() for ax in fig.axes)


def test_score_distribution_shows_thresholds(results) -> None:
    fig = plot_score_distributions(results, thresholds={"abuse": 0.7})
    assert any("しきい値 0.70" in t.get_text() for ax in fig.axes if ax.get_legend()
               for t in ax.get_legend().get_texts())


@pytest.mark.parametrize("plot", [plot_precision_recall, plot_calibration, plot_threshold_tradeoff])
def test_gold_plots_render(plot, scored) -> None:
    kwargs = {} if plot is plot_calibration else {"thresholds": {c: 0.5 for c in CATEGORIES}}
    _png_without_missing_glyphs(plot(scored, **kwargs))


def test_plots_cope_with_empty_input(scored) -> None:
    empty = results_frame([])
    for plot in (plot_score_distributions, plot_flags_over_time, plot_channel_counts):
        _png_without_missing_glyphs(plot(empty))
    no_positives = scored.assign(**{f"gold_{c}": 0 for c in CATEGORIES})
    _png_without_missing_glyphs(plot_precision_recall(no_positives))


def test_threshold_tradeoff_for_some_categories(scored) -> None:
    fig = plot_threshold_tradeoff(scored, categories=["abuse"], thresholds={"abuse": 0.6})
    assert sum(ax.get_visible() for ax in fig.axes) == 1


def test_data_uri_is_a_png(results) -> None:
    import base64

    from PIL import Image

    uri = figure_data_uri(plot_channel_counts(results))
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert image.format == "PNG" and image.size == (800, 400)
