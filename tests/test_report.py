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
