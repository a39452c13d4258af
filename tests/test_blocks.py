"""Block scoring (blocks.py): long messages also scored in blocks of sentences, when a model's config asks for it."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from kasuhara_nlp.blocks import BlockScorer, block_spans
from kasuhara_nlp.classifier import KasuharaClassifier
from kasuhara_nlp.config import CONFIG_NAME


@pytest.mark.parametrize("text, size, expected", [
    ("届きません。ふざけるな！返金しろ。よろしく", 12, ["届きません。ふざけるな！", "返金しろ。よろしく"]),
    ("届きません。ふざけるな！返金しろ。よろしく", 100, ["届きません。ふざけるな！返金しろ。よろしく"]),
    ("一文目です。\n\n二文目です。", 14, ["一文目です。\n\n二文目です。"]),  # the gap between sentences joins the block
    ("長い長い長い長い文。短い。", 5, ["長い長い長い長い文。", "短い。"]),  # a longer sentence is a block of its own
    ("", 10, []),
], ids=["two_blocks", "one_block", "gap_joins", "long_sentence", "empty"])
def test_block_spans(text: str, size: int, expected: list[str]) -> None:
    assert [text[s:e] for s, e in block_spans(text, size)] == expected


def _bangs(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """A stand-in model: "abuse" is the share of "!" in a text; severity follows it."""
    share = np.array([t.count("!") / max(len(t), 1) for t in texts])
    return np.stack([share, 0 * share, 0 * share, 0 * share], 1), np.stack([1 - share, share, 0 * share, 0 * share], 1)


def test_a_long_text_takes_its_highest_block_and_that_blocks_severity() -> None:
    text = "ご確認ください。" * 4 + "ふざけるな!!"
    whole_cat, _ = _bangs([text])
    cat, sev = BlockScorer(_bangs, block_chars=12).score([text, "短い!"])
    assert cat[0, 0] > 3 * whole_cat[0, 0] and cat[0, 0] == pytest.approx(2 / 7)
    assert sev[0, 1] == pytest.approx(2 / 7)  # from the block, not the whole text
    assert cat[1, 0] == pytest.approx(_bangs(["短い!"])[0][0, 0])  # at most block_chars: scored as before


def test_a_model_config_turns_block_scoring_on(tmp_path, tiny_classifier_dir) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_classifier_dir, folder)
    config = json.loads((folder / CONFIG_NAME).read_text(encoding="utf-8"))
    config.setdefault("extra", {})["block_chars"] = 20
    (folder / CONFIG_NAME).write_text(json.dumps(config), encoding="utf-8")
    plain, blocked = KasuharaClassifier.from_pretrained(tiny_classifier_dir), KasuharaClassifier.from_pretrained(folder)
    assert not isinstance(plain.scorer, BlockScorer) and isinstance(blocked.scorer, BlockScorer)
    short, long = "返金してください。", "いつもお世話になっております。商品が届きません。" * 3 + "ふざけるな、誠意を見せろ。"
    assert blocked.predict(short).scores == plain.predict(short).scores
    p, b = plain.predict(long).scores, blocked.predict(long).scores
    assert all(b[c] >= p[c] - 1e-6 for c in p) and b != p
