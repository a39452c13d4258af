"""Scan results as a DataFrame, filters, paging, summaries, and the evidence highlighting HTML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")

from kasuhara_nlp.analysis import (filter_results, labels_ja, load_results, overview, page, page_count,  # noqa: E402
                                   read_results, results_frame, summary_tables)
from kasuhara_nlp.errors import InputFormatError, LabelError  # noqa: E402
from kasuhara_nlp.highlight import (HighlightedText, highlight_html, mask_with_evidence,  # noqa: E402
                                    message_card_html, render_samples)
from kasuhara_nlp.labels import CATEGORIES  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SAMPLE_RESULTS = REPO / "notebooks" / "sample" / "scan-results.jsonl"


def result(id_: str, labels=(), severity=0, text="普通の問い合わせです。", evidence=(), ts=None, channel="email",
           status="ok", kind="message", **extra) -> dict:
    # As the scanner writes them: a record that was not scored (error, not_scored) has no scores.
    scores = {c: (0.9 if c in labels else 0.05) for c in CATEGORIES} if status == "ok" else {}
    return {"id": id_, "kind": kind, "status": status, "flagged": bool(labels), "labels": list(labels),
            "scores": scores, "severity": severity, "evidence": list(evidence), "text": text,
            "model": "kasuhara-baseline", "model_version": "0.1.0", "schema_version": "1.0",
            "timestamp_utc": ts and ts.replace("+09:00", "Z"), "timestamp_local": ts, "channel": channel, **extra}


ROWS = [
    result("m1", ["abuse"], 2, "ふざけるな。バカ野郎。", [{"label": "abuse", "start": 6, "end": 11, "text": "バカ野郎。",
                                                       "score": 0.95}], "2026-11-02T09:00:00+09:00", "phone"),
    result("m2", ["demand", "restraint"], 3, "土下座しろ。家に来い。", [], "2026-11-03T23:30:00+09:00", "chat"),
    result("m3", [], 0, "返品したいです。", [], "2026-11-04T10:00:00+09:00"),
    result("m4", status="error", text="", reason="bad row"),
    result("conv", ["abuse"], 2, kind="conversation"),
]


@pytest.fixture()
def results_file(tmp_path: Path) -> Path:
    path = tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    return path


def test_load_results_columns(results_file: Path) -> None:
    df = load_results(results_file)
    assert df["id"].tolist() == ["m1", "m2", "m3", "m4"]  # conversation rows are left out by default
    for c in CATEGORIES:
        assert f"score_{c}" in df and f"is_{c}" in df
    assert df.loc[1, "labels"] == ["demand", "restraint"]
    assert df.loc[1, "labels_ja"] == "過剰または不合理な要求、合理的範囲を超える時間的・場所的拘束"
    assert df.loc[0, "severity_ja"] == "明確" and df.loc[3, "status_ja"] == "読み込みエラー"
    assert str(df["timestamp_utc"].dt.tz) == "UTC"
    assert df.loc[1, "date_local"] == pd.Timestamp("2026-11-03")  # local day, not the UTC day
    assert df.loc[0, "top_category"] == "abuse" and df.loc[0, "n_evidence"] == 1
    assert pd.isna(df.loc[3, "top_category"]) and pd.isna(df.loc[3, "max_score"])  # unscored rows score nothing
    assert len(load_results(results_file, kinds=("message", "conversation"))) == 5


def test_load_results_reads_the_scanner_csv(tmp_path: Path) -> None:
    from kasuhara_nlp.scan import ResultWriter

    out = tmp_path / "r.csv"
    with ResultWriter(str(out)) as w:
        for r in ROWS[:3]:
            w.write(r)
    df = load_results(out)
    assert df["labels"].tolist() == [["abuse"], ["demand", "restraint"], []]
    assert df.loc[0, "evidence"][0]["text"] == "バカ野郎。"
    assert df.loc[0, "score_abuse"] == pytest.approx(0.9)


def test_csv_round_trip_gives_back_text_that_starts_like_a_formula(tmp_path: Path) -> None:
    # The CSV writer guards such cells against spreadsheet formulas with a leading '; reading undoes it, so the
    # text (and the evidence offsets into it) are the scanner's.
    from kasuhara_nlp.scan import ResultWriter

    texts = ["=HYPERLINK(\"x\") 払え", "-- 返金しろ", "'引用'です"]
    out = tmp_path / "r.csv"
    with ResultWriter(str(out)) as w:
        for i, text in enumerate(texts):
            w.write(dict(ROWS[2], id=f"f{i}", text=text))
    assert read_results(out)[0]["text"] == texts[0]
    assert [r["text"] for r in read_results(out)] == texts


def test_load_results_on_the_bundled_sample() -> None:
    df = load_results(SAMPLE_RESULTS)
    assert len(df) > 20 and df["flagged"].any() and df["date_local"].notna().all()
    assert set(df["channel"]) >= {"email", "phone", "chat"}


def test_bad_files_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match="kasuhara scan"):
        read_results(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a"}\nnot json\n', encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"bad.jsonl:2"):
        read_results(bad)


def test_mixed_utc_offsets_keep_each_offset() -> None:
    df = results_frame([result("a", ts="2026-11-02T09:00:00+09:00"), result("b", ts="2026-11-02T09:00:00+01:00")])
    assert df.loc[1, "timestamp_local"].utcoffset().total_seconds() == 3600
    assert df["timestamp_utc"].notna().all()


def test_empty_results_give_an_empty_frame() -> None:
    df = results_frame([])
    assert len(df) == 0 and "score_abuse" in df
    assert overview(df)["flagged"] == 0


def test_filters(results_file: Path) -> None:
    df = load_results(results_file)
    assert filter_results(df, categories="abuse")["id"].tolist() == ["m1"]
    assert set(filter_results(df, min_severity=1)["id"]) == {"m1", "m2"}
    assert filter_results(df, severity=[3])["id"].tolist() == ["m2"]
    assert filter_results(df, start="2026-11-03", end="2026-11-03")["id"].tolist() == ["m2"]
    assert filter_results(df, channels=["email"])["id"].tolist() == ["m3"]
    assert filter_results(df, flagged=False)["id"].tolist() == ["m3"]
    assert filter_results(df, status=None, sort=None)["id"].tolist() == ["m1", "m2", "m3", "m4"]
    with pytest.raises(LabelError, match="unknown categories"):
        filter_results(df, categories=["harassment"])


def test_paging() -> None:
    df = pd.DataFrame({"x": range(7)})
    assert page(df, 1, 3)["x"].tolist() == [3, 4, 5] and page_count(df, 3) == 3
    assert page(df, 5, 3).empty
    with pytest.raises(ValueError):
        page(df, -1)


def test_summary_tables_and_overview(results_file: Path) -> None:
    df = load_results(results_file)
    tables = summary_tables(df)
    cat = tables["category"].set_index("category")
    assert cat.loc["abuse", "件数"] == 1 and cat.loc["demand", "カテゴリ"] == "過剰または不合理な要求"
    assert dict(zip(tables["status"]["status"], tables["status"]["件数"])) == {"ok": 3, "error": 1}
    assert tables["severity"]["件数"].tolist() == [1, 0, 1, 1]
    ov = overview(df)
    assert (ov["scored"], ov["flagged"], ov["first_day"], ov["last_day"]) == (3, 2, "2026-11-02", "2026-11-04")
    assert labels_ja([]) == ""


# -- highlighting ----------------------------------------------------------------------------------

def test_highlight_marks_spans_and_escapes_everything() -> None:
    text = '<script>alert("x")</script>お前は無能だ。'
    start = text.index("お前")
    ev = [{"label": "abuse", "start": start, "end": start + 6, "text": "お前は無能だ", "score": 0.9}]
    out = highlight_html(text, ev)
    assert "<script" not in out and "&lt;script&gt;" in out and "&quot;x&quot;" in out
    assert '<mark class="kh-ev kh-abuse" data-labels="abuse"' in out and ">お前は無能だ</mark>" in out


def test_overlapping_categories_are_split_and_striped() -> None:
    text = "殺すぞ。晒してやる。"
    ev = [{"label": "abuse", "start": 0, "end": 10, "score": 0.9},
          {"label": "other_harassment", "start": 4, "end": 10, "score": 0.8}]
    out = highlight_html(text, ev)
    assert out.count("<mark") == 2
    assert 'data-labels="abuse other_harassment"' in out and "linear-gradient" in out


def test_bad_offsets_fall_back_to_the_quoted_sentence() -> None:
    out = highlight_html("はい。土下座しろ。", [{"label": "demand", "start": 0, "end": 2, "text": "土下座しろ。"}])
    assert ">土下座しろ。</mark>" in out
    assert highlight_html("短い", [{"label": "demand", "start": 5, "end": 9}]) == "短い"
    assert highlight_html("x", [{"label": "nonsense", "start": 0, "end": 1}]) == "x"


def test_unmasked_text_is_masked_before_rendering() -> None:
    text = "連絡先 taro@example.com 090-1234-5678 殺すぞ"
    start = text.index("殺すぞ")
    masked, ev = mask_with_evidence(text, [{"label": "abuse", "start": start, "end": start + 3, "score": 0.9}])
    assert "taro@" not in masked and ev[0]["text"] == "殺すぞ"
    html = message_card_html({"id": "x", "text": text, "labels": ["abuse"], "severity": 3,
                              "evidence": [{"label": "abuse", "start": start, "end": start + 3}]})
    assert "taro@example.com" not in html and "1234" not in html and "[メール]" in html
    assert ">殺すぞ</mark>" in html


def test_jupyter_objects(results_file: Path) -> None:
    df = load_results(results_file)
    view = render_samples(filter_results(df, flagged=True))
    html = view._repr_html_()
    assert len(view) == 2 and html.count('class="kh-card"') == 2 and "<style>" in html and "凡例" in html
    assert "バカ野郎" not in repr(view)  # the plain view holds no message text
    assert "該当するメッセージはありません" in render_samples(df.iloc[0:0])._repr_html_()
    assert HighlightedText("a&b")._repr_html_().count("a&amp;b") == 1
    card = message_card_html(df.iloc[1].to_dict())
    assert "深刻度 3 (重大)" in card and "kh-chip-restraint" in card and "2026-11-03 23:30" in card


# -- the >>> examples of the analyst modules --------------------------------------------------------

ANALYST_MODULES = ("kasuhara_nlp.analysis", "kasuhara_nlp.highlight", "kasuhara_nlp.feedback",
                   "kasuhara_nlp.tuning", "kasuhara_nlp.fonts", "kasuhara_nlp.plots", "kasuhara_nlp.report")


@pytest.mark.parametrize("name", ANALYST_MODULES)
def test_doctests(name: str) -> None:
    import doctest
    import importlib

    import matplotlib

    with matplotlib.rc_context():  # fonts.setup_japanese_font changes rcParams on purpose
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
