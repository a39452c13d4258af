import threading

import pytest

from kasuhara_nlp.segmenter import dictionary_info, tokenize, words

TOKEN_CASES = [
    ("返金して", ["返金", "し", "て"]),
    ("お前はバカだ", ["お前", "は", "バカ", "だ"]),
    # unidic-lite splits 土下座; the baseline's character n-grams and the BERT pieces still see it whole.
    ("土下座しろ", ["土", "下座", "しろ"]),
]


@pytest.mark.parametrize("text,surfaces", TOKEN_CASES)
def test_tokens(text, surfaces):
    assert [t.surface for t in tokenize(text)] == surfaces


@pytest.mark.parametrize("text", ["返金 して ください", "　全角 スペース", "ABC 123 テスト", "改行\nあり"])
def test_offsets_point_at_the_surface(text):
    for t in tokenize(text):
        assert text[t.start:t.end] == t.surface


def test_words_matches_tokenize():
    text = "今すぐ店長を出せ"
    assert words(text) == [t.surface for t in tokenize(text)]


def test_dictionary_is_unidic_lite():
    info = dictionary_info()
    assert info["dictionary"] == "unidic-lite"
    assert info["dictionary_path"]


def test_taggers_are_per_thread():
    errors = []

    def work():
        try:
            for _ in range(50):
                assert [t.surface for t in tokenize("返金して")] == ["返金", "し", "て"]
        except AssertionError as exc:  # pragma: no cover - only on failure
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
