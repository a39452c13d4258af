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


# -- QA analyst pass: conversations, encodings, non-scan files, paging titles ------------------------

def conversation(id_: str, labels=("restraint",), message_ids=("m1", "m2"), counted=True) -> dict:
    """A conversation record as `kasuhara scan` writes it: no text, signals that say why it was flagged."""
    return {"id": id_, "kind": "conversation", "status": "ok", "reason": None, "flagged": bool(labels),
            "labels": list(labels), "scores": {c: (0.6 if c in labels else 0.01) for c in CATEGORIES},
            "severity": 1 if labels else 0, "evidence": [], "text": "", "model": "kasuhara-baseline",
            "model_version": "0.1.0", "schema_version": "1.0", "conversation_id": id_,
            "message_ids": list(message_ids),
            "signals": [{"type": "long_duration", "category": "restraint", "score": 0.6, "counted": counted,
                         "detail": "customer kept a call/chat going for 187 min (limit 60; a pause of 30 min "
                                   "ends a session)", "message_ids": list(message_ids), "minutes": 187.0},
                        {"type": "out_of_hours", "category": "restraint", "score": 0.6, "counted": False,
                         "detail": "12 customer messages outside business hours, 0 of them flagged",
                         "message_ids": list(message_ids), "count": 12}]}


def test_overview_counts_flagged_conversations_apart_from_messages() -> None:
    # A polite customer writing all night: no message is flagged, the conversation is (restraint).
    rows = [result("m1", ts="2026-11-02T23:00:00+09:00", channel="chat"),
            result("m2", ts="2026-11-03T02:00:00+09:00", channel="chat"),
            conversation("chat.txt"), conversation("quiet", labels=())]
    df = results_frame(rows, kinds=("message", "conversation"))
    ov = overview(df)
    assert (ov["records"], ov["scored"], ov["flagged"]) == (2, 2, 0)  # messages only, as before
    assert (ov["conversations"], ov["flagged_conversations"]) == (2, 1)
    # Conversation rows do not count as scored messages in the tables either.
    tables = summary_tables(df)
    assert dict(zip(tables["status"]["status"], tables["status"]["件数"])) == {"ok": 2}
    assert tables["channel"]["件数"].tolist() == [2]
    assert overview(results_frame(rows))["conversations"] == 0  # messages only: nothing to count


def test_conversation_signals_survive_the_csv(tmp_path: Path) -> None:
    from kasuhara_nlp.scan import ResultWriter

    rows = [result("m1"), result("m2"), conversation("chat.txt")]
    out = tmp_path / "r.csv"
    with ResultWriter(str(out)) as w:
        for r in rows:
            w.write(r)
    conv = load_results(out, kinds=("conversation",)).iloc[0]
    assert conv["message_ids"] == ["m1", "m2"]
    assert [(s["type"], s["category"], s["counted"]) for s in conv["signals"]] == \
        [("long_duration", "restraint", True), ("out_of_hours", "restraint", False)]
    assert conv["signals"][0]["detail"] == rows[2]["signals"][0]["detail"]  # a "; " inside the detail stays
    assert conv["signals"][0]["message_ids"] == ["m1", "m2"]


EXCEL_TEXT = "①㈱髙﨑の担当者は無能だ。土下座しろ。"


def _scan_csv(tmp_path: Path) -> bytes:
    from kasuhara_nlp.scan import ResultWriter

    out = tmp_path / "scan.csv"
    with ResultWriter(str(out)) as w:
        w.write(result("x1", ["abuse"], 2, EXCEL_TEXT, ts="2026-11-02T09:00:00+09:00"))
        w.write(result("x2"))
    return out.read_bytes()


@pytest.mark.parametrize("encoding, newline", [("cp932", "\r\n"), ("utf-8-sig", "\r\n"), ("utf-8", "\n")],
                         ids=["excel-cp932", "excel-csv-utf8-bom", "utf8"])
def test_results_csv_saved_again_by_excel_is_read(tmp_path: Path, encoding: str, newline: str) -> None:
    # Excel's "CSV (カンマ区切り)" writes CP932 with CRLF and no BOM; "CSV UTF-8" writes a BOM.
    text = _scan_csv(tmp_path).decode("utf-8-sig").replace("\r\n", "\n").replace("\n", newline)
    path = tmp_path / "resaved.csv"
    path.write_bytes(text.encode(encoding))
    df = load_results(path)
    assert df["id"].tolist() == ["x1", "x2"] and df.loc[0, "text"] == EXCEL_TEXT
    assert df.loc[0, "labels"] == ["abuse"] and df.loc[0, "score_abuse"] == pytest.approx(0.9)


def test_results_jsonl_saved_as_cp932_is_read(tmp_path: Path) -> None:
    path = tmp_path / "notepad.jsonl"
    path.write_bytes("".join(json.dumps(result("x1", text=EXCEL_TEXT), ensure_ascii=False) + "\r\n"
                             for _ in range(2)).encode("cp932"))
    assert read_results(path)[1]["text"] == EXCEL_TEXT


@pytest.mark.parametrize("name, data", [
    ("utf16.csv", "\ufeffid,status\r\n".encode("utf-16-le")),
    ("mixed.jsonl", json.dumps(result("x1", text="髙﨑"), ensure_ascii=False).encode("utf-8") + b"\n"
     + json.dumps(result("x2", text="髙﨑"), ensure_ascii=False).encode("cp932")[:-3] + b"\x81\n"),
], ids=["utf16", "utf8-then-broken-cp932"])
def test_undecodable_results_name_the_file_line_and_encoding(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputFormatError) as exc:
        read_results(path)
    message = str(exc.value)
    assert str(path) in message and "UTF-8" in message and "CP932" in message


@pytest.mark.parametrize("name, content", [
    # The scan's *input* (id and text, no scores): reported as six messages and 0 flagged before.
    ("inbox.jsonl", '{"id": "QA-1", "channel": "email", "text": "殺すぞ"}\n'),
    # A helpdesk export has a status of its own (the ticket's), still no scores.
    ("tickets.jsonl", '{"id": 7, "status": "open", "text": "返金しろ"}\n'),
    ("inbox.csv", "id,text,channel\nQA-1,殺すぞ,email\n"),
    ("tickets.csv", "id,status,本文\n7,open,返金しろ\n"),
], ids=["input-jsonl", "ticket-jsonl", "input-csv", "ticket-csv"])
def test_files_that_are_not_scan_output_are_refused(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputFormatError, match="not a `kasuhara scan` output") as exc:
        load_results(path)
    assert str(path) in str(exc.value)


def test_review_page_is_numbered_from_one_and_says_when_nothing_matches() -> None:
    from kasuhara_nlp.analysis import review_page

    df = pd.DataFrame({"x": range(12)})
    rows, title = review_page(df, 1, 5)
    assert rows["x"].tolist() == [0, 1, 2, 3, 4] and title.startswith("ページ 1 / 3")
    rows, title = review_page(df, 3, 5)
    assert rows["x"].tolist() == [10, 11] and title.startswith("ページ 3 / 3") and "11〜12" in title
    rows, title = review_page(df.iloc[0:0], 1, 5)
    assert rows.empty and "該当するメッセージはありません" in title and "/ 0" not in title and "-1" not in title
    rows, title = review_page(df, 4, 5)
    assert rows.empty and "ページ 4 はありません" in title
    with pytest.raises(ValueError, match="from 1"):
        review_page(df, 0, 5)


def test_cards_isolate_bidi_controls_and_mask_ids() -> None:
    row = {"id": "QA-RTL\u202e<b>x</b> yamada.taro@example.co.jp 090-1234-5678", "channel": "email\u202e",
           "text": "\u202eお前を殺すぞ。家は分かってる", "labels": ["abuse"], "severity": 3,
           "timestamp_local": "2026-11-06T10:00:00+09:00",
           "evidence": [{"label": "abuse", "start": 1, "end": 8, "text": "お前を殺すぞ。"}]}
    html = message_card_html(row)
    assert "\u202e" not in html  # shown as a visible marker, never as a live override
    assert "U+202E" in html and "&lt;b&gt;" in html
    assert "yamada.taro@example.co.jp" not in html and "090-1234-5678" not in html and "[メール]" in html
    # id, channel and text each sit in their own isolate: nothing in them can reorder the rest of the line.
    assert '<bdi class="kh-id-value">QA-RTL' in html and "<bdi>email" in html and '<bdi class="kh-body">' in html
    assert ">お前を殺すぞ。</mark>" in html
    assert "yamada.taro" in message_card_html(row, mask=False)  # mask=False shows what the file holds
