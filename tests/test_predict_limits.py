"""predict() on long, segmented and half-width texts: a bounded cost, evidence that maps to the caller's text."""

from __future__ import annotations

import json

import pytest

from kasuhara_nlp import classifier as classifier_module
from kasuhara_nlp.classifier import KasuharaClassifier
from kasuhara_nlp.errors import ConfigError
from kasuhara_nlp.labels import CATEGORIES
from kasuhara_nlp.normalize import split_sentences
from kasuhara_nlp.records import MessageRecord
from kasuhara_nlp.scan import ScanOptions, scan_records


@pytest.fixture(scope="module")
def every_flag(tiny_classifier_dir):
    """The tiny BERT with every threshold near 0: every text is flagged in every category and gets evidence."""
    return KasuharaClassifier.from_pretrained(tiny_classifier_dir, thresholds={c: 1e-6 for c in CATEGORIES})


class CountingScorer:
    """The real scorer, counting the texts it is asked to score."""

    def __init__(self, scorer):
        self.scorer, self.rows = scorer, 0

    def score(self, texts):
        self.rows += len(texts)
        return self.scorer.score(texts)


def test_a_text_over_max_chars_is_scored_on_its_first_part_with_a_warning(tiny_classifier_dir):
    clf = KasuharaClassifier.from_pretrained(tiny_classifier_dir, max_chars=300)
    text = "ふざけるな、バカ野郎。" * 100
    p = clf.predict(text, raw=True)
    assert p.text == text and len(p.warnings) == 1
    assert "300" in p.warnings[0] and str(len(text)) in p.warnings[0] and "ふざけ" not in p.warnings[0]
    assert p.scores == clf.predict(text[:300], raw=True).scores
    assert all(e.end <= 300 for e in p.evidence)
    assert clf.predict(text[:300], raw=True).warnings == []
    assert clf.predict_proba(text, raw=True).tolist() == clf.predict_proba(text[:300], raw=True).tolist()


def test_max_chars_has_a_documented_default_and_can_be_lifted(tiny_classifier_dir):
    default = classifier_module.DEFAULT_MAX_CHARS
    assert KasuharaClassifier.from_pretrained(tiny_classifier_dir).max_chars == default == 10_000
    clf = KasuharaClassifier.from_pretrained(tiny_classifier_dir, max_chars=None)
    assert clf.predict("返金しろ。" * 3000, raw=True).warnings == []
    with pytest.raises(Exception, match="max_chars"):
        KasuharaClassifier.from_pretrained(tiny_classifier_dir, max_chars=0)


def test_evidence_scores_a_bounded_number_of_sentences(every_flag):
    from kasuhara_nlp.evidence import MAX_EVIDENCE_SENTENCES

    scorer = CountingScorer(every_flag.scorer)
    clf = KasuharaClassifier(every_flag.folder, every_flag.config, scorer, max_chars=None)
    text = "殺すぞ。\n" * 1500 + "土下座して謝れ。"
    p = clf.predict(text, raw=True)
    # Before: the message (1 row) and then each of its 1,501 sentences on its own.
    blocks = -(-len(split_sentences(text)) // 16)
    assert scorer.rows <= 1 + blocks + MAX_EVIDENCE_SENTENCES
    assert set(e.label for e in p.evidence) == set(CATEGORIES)
    assert all(p.text[e.start:e.end] == e.text and len(e.text) < 20 for e in p.evidence)


def test_short_texts_get_the_evidence_of_every_sentence(every_flag):
    text = "商品が届きません。ふざけるな、バカ野郎。\n確認してください。"
    p = every_flag.predict(text)
    spans = split_sentences(text)
    cat, _ = every_flag.scorer.score([text[s:e] for s, e in spans])
    for c in CATEGORIES:
        j = CATEGORIES.index(c)
        got = [(e.start, e.end, e.score) for e in p.evidence if e.label == c]
        assert got == [(s, e, round(float(cat[k, j]), 6)) for k, (s, e) in enumerate(spans)]


CASES = {
    "quote_before": "> 先日はお問い合わせありがとうございました。\n> ご確認のほどお願いします。\n\nふざけるな。土下座して謝れ。",
    "agent_turn_before": "オペレーター：お電話ありがとうございます。\nお客様：ふざけるな、バカ野郎。殺すぞ。\nオペレーター：承知しました。",
    "crlf": "商品が届きません。\r\nふざけるな。\r\n土下座して謝れ。\r\n",
    "nfkc_prefix": "㈱ＡＢＣ御中 ①②③ ｶｽﾀﾏｰｾﾝﾀｰ様\nふざけるな、バカ野郎。土下座して謝れ。",
    "emoji": "😡😡🙏🏻👨\u200d👩\u200d👧 ふざけるな！殺すぞ。",
    "quote_and_emoji": "> 引用です。\n\n👨\u200d👩\u200d👧 ふざけるな！\n\n-- \n山田太郎\nTEL 03-1234-5678\n",
}


@pytest.mark.parametrize("name", CASES)
def test_evidence_maps_back_to_the_text_passed_in(every_flag, name):
    original = CASES[name]
    p = every_flag.predict(original)
    assert p.evidence
    for e in p.evidence:
        assert p.text[e.start:e.end] == e.text
        assert (e.original_start, e.original_end) == p.to_original(e.start, e.end)
        assert original[e.original_start:e.original_end] == e.text
    if name.endswith("before"):
        assert p.text != original and p.segments  # something was left out before the customer's words


def test_raw_offsets_are_the_original_offsets(every_flag):
    text = "> 引用です。\nふざけるな。殺すぞ。"
    p = every_flag.predict(text, raw=True)
    assert all((e.original_start, e.original_end) == (e.start, e.end) for e in p.evidence)
    with pytest.raises(ValueError):
        p.to_original(0, len(text) + 1)


def test_scan_output_evidence_keeps_its_five_fields(every_flag):
    rec = MessageRecord(record_id="r1", body_text="> 引用\nふざけるな。090-1234-5678 に電話しろ。", conversation_id=None)
    (result,) = scan_records([rec], every_flag, ScanOptions())
    assert result["evidence"] and all(set(e) == {"label", "start", "end", "text", "score"} for e in result["evidence"])
    assert all(result["text"][e["start"]:e["end"]] == e["text"] for e in result["evidence"])


@pytest.mark.parametrize("text, expected", [
    ("ｺﾝﾆﾁﾊ｡ﾌｻﾞｹﾙﾅ｡ｺﾛｽｿﾞ｡", ["ｺﾝﾆﾁﾊ｡", "ﾌｻﾞｹﾙﾅ｡", "ｺﾛｽｿﾞ｡"]),
    ("｢ﾌｻﾞｹﾙﾅ｡｣ﾍﾝｷﾝｼﾛ", ["｢ﾌｻﾞｹﾙﾅ｡｣", "ﾍﾝｷﾝｼﾛ"]),
    ("ふざけるな‼殺すぞ﹗返金しろ﹖", ["ふざけるな‼", "殺すぞ﹗", "返金しろ﹖"]),
    ("example.com で 3.5 倍", ["example.com で 3.5 倍"]),
])
def test_half_width_and_other_sentence_ends_split_sentences(text, expected):
    assert [text[s:e] for s, e in split_sentences(text)] == expected


def test_half_width_full_stops_give_sentence_evidence(every_flag):
    text = "ｺﾝﾆﾁﾊ｡ﾁｮｯﾄｷｲﾃｸﾀﾞｻｲ｡" * 3 + "ﾌｻﾞｹﾙﾅ｡ｵﾏｴﾉｲｴﾆｲｯﾃｺﾛｽｿﾞ｡" + "ﾖﾛｼｸｵﾈｶﾞｲｼﾏｽ｡" * 3
    p = every_flag.predict(text)
    assert p.evidence and all(len(e.text) < 30 and e.text.endswith("｡") for e in p.evidence)


def test_a_lone_surrogate_is_scored_as_a_replacement_character(tiny_classifier_dir):
    """Half an emoji (a chat widget cut it) must not crash a library caller's predict()."""
    clf = KasuharaClassifier.from_pretrained(tiny_classifier_dir)
    p = clf.predict("返金しろ\ud83d まだか", raw=True)
    assert p.scores == clf.predict("返金しろ\ufffd まだか", raw=True).scores
    assert p.warnings == ["lone-surrogates: scored as U+FFFD"]
    assert clf.predict("返金しろ まだか", raw=True).warnings == []


@pytest.mark.parametrize("raw", [True, False], ids=["raw", "segmented"])
def test_a_result_with_a_lone_surrogate_slices_and_encodes(tiny_classifier_dir, raw):
    # r.text kept the surrogate while evidence had U+FFFD: r.text[e.start:e.end] != e.text, and a service's
    # json.dumps(r.to_dict(), ensure_ascii=False).encode("utf-8") raised UnicodeEncodeError.
    clf = KasuharaClassifier.from_pretrained(tiny_classifier_dir, thresholds={c: 0.01 for c in CATEGORIES})
    text = "商品が届かない\ud83d。ふざけるな。"
    p = clf.predict(text, raw=raw)
    assert "\ud83d" not in p.text and "\ufffd" in p.text and p.evidence
    assert all(p.text[e.start:e.end] == e.text for e in p.evidence)
    json.dumps(p.to_dict(), ensure_ascii=False).encode("utf-8")
    assert all(text[e.original_start:e.original_end].replace("\ud83d", "\ufffd") == e.text for e in p.evidence)


def test_max_chars_is_checked_when_set(tiny_classifier_dir):
    clf = KasuharaClassifier.from_pretrained(tiny_classifier_dir)
    for bad in (0, -5, 2.5, "100", True):
        with pytest.raises(ConfigError, match="max_chars"):
            clf.max_chars = bad
    clf.max_chars = 3
    assert clf.predict("返金してください", raw=True).warnings[0].startswith("truncated: scored the first 3 of 8")


def test_a_set_of_texts_is_refused(tiny_classifier_dir):
    # A set has no order, so results could not be matched to messages.
    with pytest.raises(TypeError, match="list"):
        KasuharaClassifier.from_pretrained(tiny_classifier_dir).predict({"返金して", "まだか"})


class FailsOnMarker(KasuharaClassifier):
    """The real tiny classifier, made to fail on one text, as a model bug on an input nobody foresaw would."""

    def predict(self, texts, **kw):
        batch = [texts] if isinstance(texts, str) else texts
        if any("☠" in t for t in batch):
            raise RuntimeError("model failure")
        return super().predict(texts, **kw)


def test_a_text_the_model_cannot_score_costs_only_its_own_record(tiny_classifier_dir):
    base = KasuharaClassifier.from_pretrained(tiny_classifier_dir)
    clf = FailsOnMarker(base.folder, base.config, base.scorer)
    records = [MessageRecord(record_id=f"m{i}", body_text=t, source_file="in.csv", source_locator=f"line {i + 2}")
               for i, t in enumerate(["注文の件です", "☠ 返金しろ", "ありがとう"])]
    results = list(scan_records(records, clf, ScanOptions(conversations=False)))
    assert [(r["id"], r["status"]) for r in results] == [("m0", "ok"), ("m1", "error"), ("m2", "ok")]
    assert "could not score" in results[1]["reason"] and "☠" not in results[1]["reason"]


@pytest.mark.parametrize("kwargs, words", [
    ({"path": 123}, "model folder"),
    ({"thresholds": 0.5}, "thresholds must be a dict"),
    ({"thresholds": [0.5, 0.5]}, "thresholds must be a dict"),
], ids=["path_int", "thresholds_float", "thresholds_list"])
def test_from_pretrained_arguments_of_the_wrong_type_say_what_to_pass(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        KasuharaClassifier.from_pretrained(**kwargs)


def test_save_pretrained_onto_a_file_says_to_give_a_folder(tiny_classifier_dir, tmp_path):
    target = tmp_path / "model.json"
    target.write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match="give a folder path"):
        KasuharaClassifier.from_pretrained(tiny_classifier_dir).save_pretrained(target)
    assert target.read_text(encoding="utf-8") == "{}"
