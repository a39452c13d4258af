"""`kasuhara report`: a self-contained Japanese HTML report, checked as text and in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from kasuhara_nlp.cli import main  # noqa: E402
from kasuhara_nlp.labels import CATEGORIES  # noqa: E402
from kasuhara_nlp.report import render_report, top_flagged, write_report  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SAMPLE_RESULTS = REPO / "notebooks" / "sample" / "scan-results.jsonl"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")

# A message written with `kasuhara scan --no-mask`, with markup in its text and id: the report must
# mask the PII and escape the markup.
HOSTILE = {"id": '"><img src=x onerror=alert(1)>', "kind": "message", "status": "ok", "flagged": True,
           "labels": ["abuse"], "severity": 3, "scores": {c: 0.97 if c == "abuse" else 0.1 for c in CATEGORIES},
           "text": "<script>alert(1)</script>連絡先 taro@example.com 090-1234-5678。殺すぞ。",
           "evidence": [], "model": "kasuhara-baseline", "model_version": "0.1.0", "channel": "chat",
           "timestamp_local": "2026-11-12T21:00:00+09:00", "timestamp_utc": "2026-11-12T12:00:00Z"}
HOSTILE["evidence"] = [{"label": "abuse", "start": HOSTILE["text"].index("殺すぞ"),
                        "end": HOSTILE["text"].index("殺すぞ") + 4, "text": "殺すぞ。", "score": 0.97}]


def chromium() -> str | None:
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    results = folder / "results.jsonl"
    results.write_text(SAMPLE_RESULTS.read_text(encoding="utf-8") + json.dumps(HOSTILE, ensure_ascii=False) + "\n",
                       encoding="utf-8")
    return write_report(results, folder / "report.html", top=20)


def test_report_content(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="ja">' in page and 'charset="utf-8"' in page
    for heading in ("カスタマーハラスメント検知レポート", "<h2>概要</h2>", "状態別", "カテゴリ別", "深刻度別",
                    "チャネル別", "<h2>グラフ</h2>", "検知されたメッセージ（上位 16 件）"):
        assert heading in page
    assert page.count('class="kh-card"') == 16  # every flagged message: fewer than --top
    # HOSTILE comes from another model than the sample (kasuhara-bert-ja 1.4.0): the score distribution
    # is drawn once per model version, so 4 plots instead of 3, and the page says the models are mixed.
    assert page.count('<img alt="') == 4 and page.count('src="data:image/png;base64,') == 4
    assert 'id="model-notice"' in page
    assert "kasuhara-baseline 0.1.0" in page and "2026-11-02 〜 2026-11-12" in page


def test_report_is_self_contained_and_safe(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    assert "default-src 'none'" in page  # the browser itself refuses any external load
    assert all(src.startswith("data:") for src in re.findall(r'src="([^"]*)"', page))
    assert not re.search(r"(href=|url\(|@import|<link|<script)", page, re.IGNORECASE)
    assert "taro@example.com" not in page and "090-1234-5678" not in page and "[メール]" in page
    assert "&lt;script&gt;" in page and "<img src=x" not in page


def test_top_orders_by_severity_then_score(report: Path) -> None:
    from kasuhara_nlp.analysis import load_results

    top = top_flagged(load_results(SAMPLE_RESULTS), top=5)
    assert len(top) == 5 and top["severity"].is_monotonic_decreasing
    page = render_report(load_results(SAMPLE_RESULTS), top=0, plots=False)
    assert "検知されたメッセージはありません" in page


def test_cli_report(tmp_path: Path, capsys) -> None:
    out = tmp_path / "sub" / "r.html"
    assert main(["report", str(SAMPLE_RESULTS), "-o", str(out), "--top", "3"]) == 0
    assert out.read_text(encoding="utf-8").count('class="kh-card"') == 3
    assert main(["report", str(tmp_path / "missing.jsonl"), "-o", str(out)]) == 3
    assert "kasuhara scan" in capsys.readouterr().err


def _run_chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    browser = chromium()
    if browser is None:
        pytest.skip("headless Chromium not installed (CI installs it: apt-get install chromium fonts-noto-cjk)")
    return subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_chromium_shows_summary_and_highlights(report: Path, tmp_path: Path) -> None:
    proc = _run_chromium("--dump-dom", report.as_uri(), tmp_path=tmp_path)
    dom = proc.stdout
    assert proc.returncode == 0 and "<h2>概要</h2>" in dom, proc.stderr[-2000:]
    assert re.search(r'<table id="by-category">.*暴力・暴言.*</table>', dom, re.DOTALL)
    for c in CATEGORIES:
        assert f'<mark class="kh-ev kh-{c}"' in dom
    assert "検知されたメッセージ" in dom and "taro@example.com" not in dom
    assert "<script>alert" not in dom  # the hostile text stayed text


def test_chromium_screenshot_is_not_blank(report: Path, tmp_path: Path) -> None:
    from PIL import Image

    shot = tmp_path / "shot.png"
    proc = _run_chromium("--window-size=1200,7000", f"--screenshot={shot}", report.as_uri(), tmp_path=tmp_path)
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 7000)
    colours = image.getcolors(maxcolors=1_000_000)
    assert len(colours) > 200, "the page looks blank"
    assert max(n for n, _ in colours) < 0.9 * 1200 * 7000, "one colour covers almost the whole page"
    # The highlight colour of 暴力・暴言 appears: evidence is visibly marked, not only in the DOM.
    assert any(rgb == (0xF9, 0xB8, 0xB8) for _, rgb in colours)


# -- several model versions in one results file ------------------------------------------

def _scored(id_: str, model: str, version: str, score: float, flagged: bool = True) -> dict:
    labels = ["abuse"] if flagged else []
    return {"id": id_, "kind": "message", "status": "ok", "flagged": flagged, "labels": labels,
            "severity": 2 if flagged else 0, "scores": {c: score if c == "abuse" else 0.01 for c in CATEGORIES},
            "text": f"メッセージ {id_}。ふざけるな。", "evidence": [], "model": model, "model_version": version,
            "channel": "email", "timestamp_local": "2026-11-12T10:00:00+09:00",
            "timestamp_utc": "2026-11-12T01:00:00Z"}


class _Page(HTMLParser):
    """The parts of the report that say which model a thing belongs to, as a browser's DOM would."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.notice_text: list[str] = []
        self.img_alts: list[str] = []
        self.cards: list[tuple[str | None, str]] = []  # (model group, card id)

    def handle_starttag(self, tag: str, attrs) -> None:
        a = dict(attrs)
        if tag == "img":
            self.img_alts.append(a.get("alt", ""))
            return
        if tag in ("meta", "br", "link"):
            return
        self.stack.append((tag, a))
        if "kh-card" in (a.get("class") or "").split():
            group = next((x.get("data-model") for _, x in reversed(self.stack)
                          if "kh-model-group" in (x.get("class") or "").split()), None)
            self.cards.append((group, a["data-id"]))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if any(x.get("id") == "model-notice" for _, x in self.stack):
            self.notice_text.append(data)


def test_mixed_model_versions_are_announced_and_ranked_per_version(tmp_path: Path) -> None:
    # The old baseline's scores run higher than the BERT's for the same messages: pooled, its messages
    # would fill the whole top-N and one histogram would mix two calibrations.
    rows = [_scored(f"old-{i}", "kasuhara-baseline", "0.6.0", 0.99 - i / 100) for i in range(4)]
    rows += [_scored(f"new-{i}", "kasuhara-bert-ja", "1.4.0", 0.75 - i / 100) for i in range(3)]
    rows += [_scored(f"new-ok-{i}", "kasuhara-bert-ja", "1.4.0", 0.02, flagged=False) for i in range(3)]
    results = tmp_path / "mixed.jsonl"
    results.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "mixed.html"
    assert main(["report", str(results), "-o", str(out), "--top", "2"]) == 0
    page = _Page()
    page.feed(out.read_text(encoding="utf-8"))

    notice = "".join(page.notice_text)
    assert "複数のモデルの結果が混在しています" in notice
    assert "kasuhara-bert-ja 1.4.0（6 件）" in notice and "kasuhara-baseline 0.6.0（4 件）" in notice
    # One score distribution per version, none pooled.
    score_plots = [alt for alt in page.img_alts if alt.startswith("カテゴリ別スコア分布")]
    assert sorted(score_plots) == ["カテゴリ別スコア分布（kasuhara-baseline 0.6.0）",
                                   "カテゴリ別スコア分布（kasuhara-bert-ja 1.4.0）"]
    # The top 2 of each version, each under its own version.
    assert page.cards == [("kasuhara-bert-ja 1.4.0", "new-0"), ("kasuhara-bert-ja 1.4.0", "new-1"),
                          ("kasuhara-baseline 0.6.0", "old-0"), ("kasuhara-baseline 0.6.0", "old-1")]


def test_one_model_version_has_no_notice(tmp_path: Path) -> None:
    from kasuhara_nlp.analysis import results_frame

    df = results_frame([_scored("a", "kasuhara-bert-ja", "1.4.0", 0.9), _scored("b", "kasuhara-bert-ja", "1.4.0", 0.8),
                        {"id": "e", "kind": "message", "status": "error", "reason": "x.csv:3: bad", "text": ""}])
    page = render_report(df, plots=False)
    assert "model-notice" not in page and "kh-model-group" not in page and page.count('class="kh-card"') == 2


# -- QA analyst pass ----------------------------------------------------------------------------------

def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("same", ["same-path", "dot-path", "symlink"])
def test_report_refuses_to_overwrite_the_results_it_reads(tmp_path: Path, same: str, capsys) -> None:
    from kasuhara_nlp.errors import ConfigError

    results = _jsonl(tmp_path / "victim.jsonl", [_scored("a", "kasuhara-bert-ja", "1.5.0", 0.9)])
    before = results.read_bytes()
    out = {"same-path": str(results), "dot-path": str(tmp_path / "." / "victim.jsonl"),
           "symlink": str(tmp_path / "link.html")}[same]
    if same == "symlink":
        Path(out).symlink_to(results)
    with pytest.raises(ConfigError, match="erase"):
        write_report(results, out)
    assert main(["report", str(results), "-o", out]) == 2  # a usage error, as `kasuhara scan` gives
    assert "victim.jsonl" in capsys.readouterr().err
    assert results.read_bytes() == before


def _night_chat() -> list[dict]:
    """What `kasuhara scan` writes for a polite customer writing every 17 min through the night: no message
    is flagged, the conversation is (restraint, a long chat)."""
    ids = [f"chat_night.txt:{i}" for i in range(2, 5)]
    rows = [dict(_scored(i, "kasuhara-bert-ja", "1.5.0", 0.02, flagged=False), channel="chat",
                 text="回答をお待ちしています。") for i in ids]
    rows.append({"id": "chat_night.txt", "kind": "conversation", "status": "ok", "reason": None, "flagged": True,
                 "labels": ["restraint"], "severity": 1, "text": "", "evidence": [],
                 "scores": {"abuse": 0.05, "demand": 0.01, "restraint": 0.6, "other_harassment": 0.005},
                 "model": "kasuhara-bert-ja", "model_version": "1.5.0", "schema_version": "1.0",
                 "conversation_id": "chat_night.txt", "message_ids": ids,
                 "signals": [{"type": "long_duration", "category": "restraint", "score": 0.6, "counted": True,
                              "detail": "customer kept a call/chat going for 187 min (limit 60; a pause of 30 min "
                                        "ends a session)", "message_ids": [ids[0], ids[-1]], "minutes": 187.0},
                             {"type": "out_of_hours", "category": "restraint", "score": 0.6, "counted": False,
                              "detail": "12 customer messages outside business hours, 0 of them flagged",
                              "message_ids": ids, "count": 12}]})
    return rows


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_flagged_conversations_are_counted_and_listed(tmp_path: Path, fmt: str) -> None:
    from kasuhara_nlp.scan import ResultWriter

    results = tmp_path / f"chat_night.{fmt}"
    with ResultWriter(str(results)) as w:
        for r in _night_chat():
            w.write(r)
    page = write_report(results, tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<section id="conversations">' in page and "検知された会話（1 件）" in page
    assert page.count('class="kh-card kh-conv"') == 1
    assert "customer kept a call/chat going for 187 min" in page and "長時間の通話・チャット" in page
    assert "kh-chip-restraint" in page.split('id="conversations"')[1]
    assert "判定に反映" in page and "参考" in page  # counted and not-counted signals are told apart
    # The summary counts the conversation; the message list says where the detection is instead of "none".
    assert '<div class="v">1</div><div class="k">検知された会話</div>' in page
    assert "会話単位で検知されています" in page


def test_chromium_shows_the_flagged_conversation(tmp_path: Path) -> None:
    results = _jsonl(tmp_path / "chat_night.jsonl", _night_chat())
    report_path = write_report(results, tmp_path / "r.html")
    proc = _run_chromium("--dump-dom", report_path.as_uri(), tmp_path=tmp_path)
    dom = proc.stdout
    assert proc.returncode == 0 and "<h2>概要</h2>" in dom, proc.stderr[-2000:]
    section = re.search(r'<section id="conversations">(.*?)</section>', dom, re.DOTALL)
    assert section and "187 min" in section.group(1) and "合理的範囲を超える時間的・場所的拘束" in section.group(1)


def test_report_reads_a_results_csv_saved_again_by_excel_in_cp932(tmp_path: Path) -> None:
    from kasuhara_nlp.scan import ResultWriter

    utf8 = tmp_path / "scan.csv"
    with ResultWriter(str(utf8)) as w:
        w.write(dict(HOSTILE, id="QA-0007", text="①㈱髙﨑の担当者は無能だ。殺すぞ。", evidence=[]))
    excel = tmp_path / "results_excel_cp932.csv"
    excel.write_bytes(utf8.read_bytes().decode("utf-8-sig").encode("cp932"))
    assert main(["report", str(excel), "-o", str(tmp_path / "r.html")]) == 0
    assert "①㈱髙﨑の担当者は無能だ。" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_report_refuses_a_file_that_is_not_scan_output(tmp_path: Path, capsys) -> None:
    raw = _jsonl(tmp_path / "hostile.jsonl", [{"id": "QA-H01", "channel": "chat", "text": "殺すぞ"}])
    out = tmp_path / "r.html"
    assert main(["report", str(raw), "-o", str(out)]) == 3  # as for a missing results file
    err = capsys.readouterr().err
    assert "hostile.jsonl" in err and "not a `kasuhara scan` output" in err and not out.exists()


def test_report_isolates_bidi_controls_and_masks_ids(tmp_path: Path) -> None:
    rtl = dict(HOSTILE, id="QA-RTL\u202e<b>x</b>", channel="email\u202e", text="\u202eお前を殺すぞ。家は分かってる",
               evidence=[])
    pii = dict(HOSTILE, id="QA-IDPII yamada.taro@example.co.jp 090-1234-5678", evidence=[])
    page = write_report(_jsonl(tmp_path / "hostile.jsonl", [rtl, pii]), tmp_path / "r.html").read_text(encoding="utf-8")
    assert "\u202e" not in page and page.count("U+202E") >= 3
    assert "yamada.taro@example.co.jp" not in page and "090-1234-5678" not in page
    assert "QA-IDPII [メール] [電話]" in page


def test_report_of_an_empty_results_file_says_so(tmp_path: Path) -> None:
    import os
    import sys

    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    out = tmp_path / "r.html"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-m", "kasuhara_nlp", "report", str(empty), "-o", str(out)],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "empty.jsonl" in proc.stderr and "no results" in proc.stderr  # a warning, not only the path
    assert "kasuhara: " in proc.stderr.split("no results")[0].splitlines()[-1]  # prefixed like the other messages
    page = out.read_text(encoding="utf-8")
    assert 'id="empty-notice"' in page and "結果が 1 件もありません" in page
