"""The classifier API on a tiny random BERT fine-tuned in the test session and exported to ONNX."""

import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from kasuhara_nlp import bert
from kasuhara_nlp.bert import length_batches, windows
from kasuhara_nlp.classifier import KasuharaClassifier, Prediction
from kasuhara_nlp.cli import EXIT_FAILURE, main
from kasuhara_nlp.config import BASELINE_WEIGHTS_NAME, CONFIG_NAME, ONNX_NAME, TOKENIZER_NAME
from kasuhara_nlp.errors import ConfigError, KasuharaError, ModelNotFoundError
from kasuhara_nlp.labels import CATEGORIES

pytest.importorskip("torch")

TEXTS = ["土下座して謝れ。", "商品が届きません。確認してください。", "お前は本当に無能だな。今すぐ家に来い。", "ありがとうございました。"]

WINDOW_CASES = [
    (5, 8, 2, [(0, 5)]),
    (8, 8, 2, [(0, 8)]),
    (9, 8, 2, [(0, 8), (6, 9)]),
    (20, 8, 2, [(0, 8), (6, 14), (12, 20)]),
    (0, 8, 2, [(0, 0)]),
]


@pytest.mark.parametrize("n,body,stride,expected", WINDOW_CASES)
def test_windows_cover_every_token(n, body, stride, expected):
    assert windows(list(range(n)), body, stride) == expected


BATCH_CASES = [
    # lengths, budget, max_rows, batches
    ([3, 10, 2, 9], 20, 64, [[2, 0], [3, 1]]),
    ([5, 5, 5, 5], 20, 64, [[0, 1, 2, 3]]),
    ([5, 5, 5, 5], 20, 3, [[0, 1, 2], [3]]),
    ([30, 4], 20, 64, [[1], [0]]),  # longer than the budget: alone, never dropped
    ([], 20, 64, []),
]


@pytest.mark.parametrize("lengths,budget,max_rows,expected", BATCH_CASES)
def test_length_batches_pad_within_the_budget(lengths, budget, max_rows, expected):
    batches = length_batches(lengths, budget, max_rows)
    assert batches == expected
    assert sorted(k for b in batches for k in b) == list(range(len(lengths)))


@pytest.fixture(scope="module")
def clf(tiny_classifier_dir):
    return KasuharaClassifier.from_pretrained(tiny_classifier_dir)


def test_single_string_gives_single_result(clf):
    p = clf.predict(TEXTS[0])
    assert isinstance(p, Prediction)
    assert set(p.scores) == set(CATEGORIES)
    assert all(0.0 <= v <= 1.0 for v in p.scores.values())
    assert p.model == "kasuhara-bert-ja" and p.model_version
    ps = clf.predict(TEXTS)
    assert isinstance(ps, list) and len(ps) == len(TEXTS)
    # Dynamic int8 quantisation scales activations per batch, so batch-mates move scores slightly.
    assert ps[0].scores == pytest.approx(p.scores, abs=0.01)
    assert clf.predict([]) == []


def test_severity_is_positive_exactly_when_flagged(clf):
    low = KasuharaClassifier.from_pretrained(clf.folder, thresholds={c: 0.01 for c in CATEGORIES})
    high = KasuharaClassifier.from_pretrained(clf.folder, thresholds={c: 0.99 for c in CATEGORIES})
    for p in low.predict(TEXTS):
        assert p.flagged and p.severity >= 1 and p.evidence
        for e in p.evidence:
            assert p.text[e.start:e.end] == e.text and e.label in p.labels
    for p in high.predict(TEXTS):
        assert not p.flagged and p.severity == 0 and p.evidence == []


def test_a_score_reported_at_its_threshold_is_flagged(clf):
    # Scores are reported with 6 digits; a threshold tuned on reported scores (notebook 02) may equal one.
    # A raw score just below its rounded value must still flag at that threshold, or the output would show
    # "score 0.998346, threshold 0.998346, no label".
    raw = {text: clf.predict_proba(text)[0] for text in TEXTS}  # one at a time, as predict(text) scores it
    text, j = next((t, j) for t, r in raw.items() for j in range(len(CATEGORIES)) if r[j] < round(float(r[j]), 6))
    at = KasuharaClassifier.from_pretrained(clf.folder, thresholds={CATEGORIES[j]: round(float(raw[text][j]), 6)})
    p = at.predict(text)
    assert p.scores[CATEGORIES[j]] == at.config.thresholds[CATEGORIES[j]]
    assert CATEGORIES[j] in p.labels


def test_save_and_load_give_the_same_predictions(clf, tmp_path):
    tuned = KasuharaClassifier.from_pretrained(clf.folder, thresholds={"abuse": 0.2})
    tuned.save_pretrained(tmp_path / "copy")
    again = KasuharaClassifier.from_pretrained(tmp_path / "copy")
    assert again.thresholds["abuse"] == 0.2
    assert [p.to_dict() for p in again.predict(TEXTS)] == [p.to_dict() for p in tuned.predict(TEXTS)]


def test_onnx_int8_matches_pytorch(clf):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(clf.folder, dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(clf.folder)
    enc = tok(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**{k: enc[k] for k in ("input_ids", "attention_mask")}).logits.numpy()
    t = np.array([clf.config.temperatures[c] for c in CATEGORIES])
    torch_probs = 1 / (1 + np.exp(-logits[:, :4] / t))
    onnx_probs = clf.predict_proba(TEXTS, raw=True)
    assert np.max(np.abs(torch_probs - onnx_probs)) < 0.05
    assert clf.config.extra["onnx_int8_max_prob_diff"] < 0.05


def test_torch_runtime_serves_the_same_folder(clf):
    torch_clf = KasuharaClassifier.from_pretrained(clf.folder, runtime="torch")
    diff = np.abs(torch_clf.predict_proba(TEXTS, raw=True) - clf.predict_proba(TEXTS, raw=True))
    assert diff.max() < 0.05


def test_long_messages_are_scored_in_windows_not_truncated(clf):
    calls = []
    runner = clf.scorer.runner

    def counting(ids, mask):
        calls.append(ids.shape)
        return runner(ids, mask)

    clf.scorer.runner = counting
    try:
        tail = "土下座して謝れ。"
        long_text = "商品が届きません。" * 40 + tail
        p = clf.predict(long_text, raw=True, evidence=False)
    finally:
        clf.scorer.runner = runner
    n_windows = sum(shape[0] for shape in calls)
    assert n_windows > 1
    assert all(shape[1] <= clf.config.max_length for shape in calls)
    # The last window holds the demand; max-aggregation keeps its score.
    alone = clf.predict("商品が届きません。" * 2 + tail, raw=True, evidence=False)
    assert p.scores["demand"] >= alone.scores["demand"] - 0.05


def test_batching_does_not_change_scores(clf):
    texts = TEXTS + ["商品が届きません。" * 40 + "土下座して謝れ。"]
    default = clf.predict_proba(texts, raw=True)
    clf.scorer.token_budget, clf.scorer.max_rows = 10**9, 1  # every window alone
    try:
        alone = clf.predict_proba(texts, raw=True)
    finally:
        clf.scorer.token_budget, clf.scorer.max_rows = bert.TOKEN_BUDGET, bert.MAX_ROWS
    assert np.max(np.abs(default - alone)) < 1e-5


def test_concurrent_predict_calls_agree(clf):
    expected = [p.to_dict() for p in clf.predict(TEXTS)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: [p.to_dict() for p in clf.predict(TEXTS)], range(32)))
    assert all(r == expected for r in results)


def test_quoted_reply_is_not_scored_unless_raw(clf):
    mail = "承知しました。\n\n2025年3月4日(火) 10:15 山田 太郎 <taro@example.com>:\n> 土下座して謝れ。\n"
    assert "土下座" not in clf.predict(mail).text
    assert "土下座" in clf.predict(mail, raw=True).text


def test_missing_model_folder_says_how_to_fix(tmp_path):
    with pytest.raises(ModelNotFoundError, match="save_pretrained"):
        KasuharaClassifier.from_pretrained(tmp_path)


@pytest.mark.parametrize("bad, words", [
    ({"text": "殺すぞ。"}, "got dict"),      # a ticket object: iterating it would score its keys
    (None, "got NoneType"),
    (3, "got int"),
    ("殺すぞ。".encode(), "got bytes"),
    (["土下座しろ。", None], "item 1 is NoneType"),
])
def test_predict_refuses_what_is_not_text(clf, bad, words):
    with pytest.raises(TypeError, match=words):
        clf.predict(bad)
    with pytest.raises(TypeError, match=words):
        clf.predict_proba(bad)


def test_predict_takes_any_iterable_of_str(clf):
    assert [p.text for p in clf.predict(t for t in TEXTS[:2])] == [p.text for p in clf.predict(TEXTS[:2])]


LFS = b"version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 44000000\n"
# (file, what it is replaced by, error type, words the message must contain)
BROKEN_FOLDER_CASES = [
    (ONNX_NAME, LFS, ModelNotFoundError, "git lfs pull"),
    (ONNX_NAME, b"\x08\x07truncated", ModelNotFoundError, "damaged or incomplete"),
    (TOKENIZER_NAME, b'{"version": "1.0", "trunc', ModelNotFoundError, "damaged or incomplete"),
    (CONFIG_NAME, b"[]", ConfigError, "JSON object"),
    (CONFIG_NAME, b'{"name": "x"}', ConfigError, "incomplete"),
    (CONFIG_NAME, None, ConfigError, "cannot be read"),  # None: a folder where the file should be
]


@pytest.mark.parametrize("name, content, error, words", BROKEN_FOLDER_CASES,
                         ids=[f"{c[0]}-{c[3].split()[0]}" for c in BROKEN_FOLDER_CASES])
def test_a_damaged_model_folder_says_which_file_and_how_to_fix(tmp_path, tiny_classifier_dir, name, content,
                                                                 error, words):
    folder = tmp_path / "model"
    shutil.copytree(tiny_classifier_dir, folder)
    (folder / name).unlink()
    if content is None:
        (folder / name).mkdir()
    else:
        (folder / name).write_bytes(content)
    with pytest.raises(error, match=words):
        KasuharaClassifier.from_pretrained(folder)


def test_a_damaged_baseline_folder_is_a_model_error(tmp_path, baseline_dir):
    folder = tmp_path / "model"
    shutil.copytree(baseline_dir, folder)
    (folder / BASELINE_WEIGHTS_NAME).write_bytes(b"not an npz")
    with pytest.raises(ModelNotFoundError, match="damaged or incomplete"):
        KasuharaClassifier.from_pretrained(folder)


def test_info_reports_a_damaged_model_instead_of_crashing(tmp_path, tiny_classifier_dir, capsys):
    folder = tmp_path / "model"
    shutil.copytree(tiny_classifier_dir, folder)
    (folder / ONNX_NAME).write_bytes(LFS)
    assert main(["info", "--model", str(folder)]) == EXIT_FAILURE
    out = capsys.readouterr().out
    assert "kasuhara_nlp:" in out and "model_error:" in out and "git lfs pull" in out
    assert issubclass(ModelNotFoundError, KasuharaError)


def test_japanese_bert_format_trains_and_serves_without_transformers_tokenizer(tmp_path, tiny_messages):
    """The tohoku-nlp/bert-base-japanese-v3 path: vocab.txt + MeCab, exported for ONNX scanning."""
    from transformers import AutoTokenizer

    from tests.conftest import build_tiny_japanese_bert
    from kasuhara_nlp.bert_train import train_bert
    from kasuhara_nlp.train import TrainConfig

    base = build_tiny_japanese_bert(tmp_path / "jbase")
    cfg = TrainConfig(model="bert", base=str(base), out_dir=str(tmp_path / "jm"), epochs=1, batch_size=16,
                      max_length=32, stride=8)
    clf = train_bert(cfg, tiny_messages)
    assert clf.config.extra["pretokenize"] == "mecab"
    hf = AutoTokenizer.from_pretrained(base)
    for text in ["土下座して謝れ。", "ｶｽﾀﾏｰ！お前は無能だ"]:
        ids, offsets = clf.scorer.encoder.encode(text)
        assert ids == hf(text, add_special_tokens=False)["input_ids"]
        assert all(0 <= s < e <= len(text) for s, e in offsets)
    assert clf.predict("お前は本当に無能だな。").model == "kasuhara-bert-ja"
