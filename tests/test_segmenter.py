import threading

import pytest

from kasuhara_nlp import segmenter
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


def test_concurrent_calls_each_have_their_own_tagger():
    errors = []

    def work():
        try:
            for _ in range(50):
                assert [(t.surface, t.lemma) for t in tokenize("返金して")] == [("返金", "返金"), ("し", "為る"), ("て", "て")]
                assert [t.lemma for t in tokenize("ふざけるな")][0] == "ふざける"
        except AssertionError as exc:  # pragma: no cover - only on failure
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_a_thread_per_call_does_not_build_a_tagger_per_thread(monkeypatch):
    # A tagger that is dropped keeps its memory (MeCab): a service running each request on a new thread
    # grew by about 14 MiB a request when every thread built its own.
    built = []
    new_tagger = segmenter._new_tagger
    monkeypatch.setattr(segmenter, "_new_tagger", lambda: built.append(1) or new_tagger())
    for _ in range(20):
        t = threading.Thread(target=tokenize, args=("返金してください",))
        t.start()
        t.join()
    assert len(built) <= 1  # one more at most, when the pool was empty
