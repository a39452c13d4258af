import pytest

from kasuhara_nlp.normalize import normalize, split_sentences

# (input, NFKC text) — what BertJapaneseTokenizer's MeCab normaliser also does.
NORMALIZE_CASES = [
    ("ｶｽﾀﾏｰ", "カスタマー"),
    ("ｶﾞｽ代", "ガス代"),            # half-width voiced mark composes with its kana
    ("１２３", "123"),
    ("ＡＢＣ", "ABC"),
    ("！！", "!!"),
    ("①", "1"),
    ("㈱山田", "(株)山田"),
    ("髙橋", "髙橋"),               # IBM extension kanji are kept
    ("　", " "),                    # ideographic space
    ("(^_^;)", "(^_^;)"),
    ("abc", "abc"),
    ("", ""),
]


@pytest.mark.parametrize("text,expected", NORMALIZE_CASES)
def test_normalize_text(text, expected):
    assert normalize(text).text == expected


@pytest.mark.parametrize("text,_", NORMALIZE_CASES)
def test_every_normalized_char_maps_back_inside_the_original(text, _):
    n = normalize(text)
    assert len(n.starts) == len(n.text) == len(n.ends)
    for i in range(len(n.text)):
        s, e = n.to_original(i, i + 1)
        assert 0 <= s < e <= len(text)


def test_offsets_round_trip_a_span():
    text = "ｵﾏｴﾊﾞｶ！返金しろ"
    n = normalize(text)
    i = n.text.index("返金")
    s, e = n.to_original(i, i + 2)
    assert text[s:e] == "返金"
    j = n.text.index("バカ")
    s, e = n.to_original(j, j + 2)
    assert text[s:e] == "ﾊﾞｶ"


SEGMENT_CASES = [
    ("届きません。ふざけるな！\n返金しろ", ["届きません。", "ふざけるな！", "返金しろ"]),
    ("本当ですか？？はい。", ["本当ですか？？", "はい。"]),
    ("「土下座しろ」と言われた。以上。", ["「土下座しろ」と言われた。", "以上。"]),
    ("誰が払うか！」と叫んだ", ["誰が払うか！」", "と叫んだ"]),
    ("句読点なし", ["句読点なし"]),
    ("  \n\n  ", []),
    ("Why?! OK.", ["Why?!", "OK."]),
]


@pytest.mark.parametrize("text,expected", SEGMENT_CASES)
def test_split_sentences(text, expected):
    assert [text[s:e] for s, e in split_sentences(text)] == expected


def test_long_sentence_is_cut_without_losing_text():
    text = "あ" * 650
    spans = split_sentences(text, max_chars=300)
    assert [e - s for s, e in spans] == [300, 300, 50]
    assert "".join(text[s:e] for s, e in spans) == text
