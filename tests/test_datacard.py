"""Data card figures: Cohen's kappa and the per-sample agreement table."""

from __future__ import annotations

import pytest

from kasuhara_nlp.datacard import agreement, kappa, to_markdown
from tests.conftest import write_jsonl


@pytest.mark.parametrize("a, b, expected", [
    ([1, 0, 1, 0], [1, 0, 1, 0], 1.0),
    ([1, 0, 1, 0], [0, 1, 0, 1], -1.0),
    ([1, 1, 0, 0], [1, 0, 1, 0], 0.0),
    ([0, 1, 2, 2], [0, 1, 2, 1], 0.6364),
])
def test_kappa(a, b, expected):
    assert kappa(a, b) == expected


def _record(i: str, labels: list[str]) -> dict:
    return {"id": i, "family": f"{i}-f", "text": f"本文 {i}", "label_quote": None, "channel": "chat",
            "industry": "other", "register": "casual", "labels": labels, "severity": 2 if labels else 0,
            "subtypes": [], "hard_negative": False, "source": "team", "notes": ""}


def test_agreement_is_reported_per_annotated_sample(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "agreement").mkdir()
    write_jsonl(tmp_path / "corpus" / "w1_01.jsonl", [_record("w1-1", ["abuse"]), _record("w1-2", [])])
    write_jsonl(tmp_path / "corpus" / "w6_01.jsonl", [_record("w6-1", ["demand"]), _record("w6-2", [])])
    write_jsonl(tmp_path / "agreement" / "second_labels.jsonl", [
        {"id": "w1-1", "labels": ["abuse"], "severity": 2}, {"id": "w1-2", "labels": [], "severity": 0}])
    write_jsonl(tmp_path / "agreement" / "wave2_second_labels.jsonl", [
        {"id": "w6-1", "labels": [], "severity": 0}, {"id": "w6-2", "labels": ["demand"], "severity": 2}])

    result = agreement(tmp_path)
    assert result["wave 1 (w1-w5)"]["n"] == 2
    assert result["wave 1 (w1-w5)"]["any_harassment"] == 1.0
    assert result["wave 2 (w6-w13)"]["demand"] == -1.0
    assert result["wave 1 (w1-w5)"]["macro_f1"] == 1.0  # categories neither annotator used are left out
    assert result["wave 2 (w6-w13)"]["macro_f1"] == 0.0
    table = to_markdown({"corpus": {}, "blind": {}, "corpus_by_split": {}, "by_channel": {}, "by_industry": {},
                         "public": {}, "families": 2, "agreement": result,
                         "near_duplicates": {"messages": 4, "pairs_over_0.6": 0, "across_splits": 0}})
    assert "| wave 2 (w6-w13) | 2 | 1.0 | -1.0 |" in table


def test_no_second_annotation_gives_none(tmp_path):
    (tmp_path / "corpus").mkdir()
    write_jsonl(tmp_path / "corpus" / "w1_01.jsonl", [_record("w1-1", ["abuse"])])
    assert agreement(tmp_path) is None


def test_a_wave_labelled_again_is_scored_writers_against_annotator(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "agreement").mkdir()
    write_jsonl(tmp_path / "agreement" / "wave1_original_labels.jsonl", [
        {"id": "w1-1", "labels": ["abuse"], "severity": 2}, {"id": "w1-2", "labels": [], "severity": 0}])
    write_jsonl(tmp_path / "agreement" / "wave1_relabel.jsonl", [
        {"id": "w1-1", "labels": ["abuse", "demand"], "severity": 2}, {"id": "w1-2", "labels": [], "severity": 0}])
    with (tmp_path / "agreement" / "wave1_relabel.jsonl").open("a", encoding="utf-8") as f:
        f.write("\n")  # a trailing blank line is skipped, not a JSON error
    result = agreement(tmp_path)
    assert list(result) == ["wave 1, all: writers vs annotator"]
    row = result["wave 1, all: writers vs annotator"]
    assert (row["n"], row["abuse"], row["any_harassment"]) == (2, 1.0, 1.0)
    assert row["demand"] == 0.0  # the annotator adds demand where the writer had none
