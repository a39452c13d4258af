"""PII finding and masking: Japanese formats, check digits, offset re-mapping."""

from __future__ import annotations

import pytest

from kasuhara_nlp.pii import find_pii, luhn_ok, mask_text, my_number_ok, remap_span

# (case id, text, [(type, matched substring)])
FIND_CASES = (
    ("email", "連絡は yamada.taro+1@example.co.jp まで", [("email", "yamada.taro+1@example.co.jp")]),
    ("email_fullwidth_at", "yamada＠example.com に送れ", [("email", "yamada＠example.com")]),
    ("email_at_word", "yamada(at)example.com", [("email", "yamada(at)example.com")]),
    # Japanese runs straight into an address, with no space: kana or kanji before it must not hide it.
    ("email_after_kana", "メールはtaro.kasu@example.com です", [("email", "taro.kasu@example.com")]),
    ("email_after_kanji_then_kana", "こちらyamada.hanako@gmail.comまで", [("email", "yamada.hanako@gmail.com")]),
    ("email_after_katakana", "アドレスtaro@example.com", [("email", "taro@example.com")]),
    # A katakana word ending in the long-vowel mark runs straight into the number: ー is a vowel there, not a
    # dash, and must not hide what follows.  Between digits (typed with an IME) it still is a dash.
    ("email_after_long_vowel", "ユーザーtaro@example.com", [("email", "taro@example.com")]),
    ("my_number_after_long_vowel", "マイナンバー123456789018です", [("my_number", "123456789018")]),
    ("card_after_long_vowel", "カードナンバー4111111111111111", [("card", "4111111111111111")]),
    ("phone_after_long_vowel", "コールセンター03-1234-5678", [("phone", "03-1234-5678")]),
    ("phone_halfwidth_long_vowel", "ｾﾝﾀｰ0312345678", [("phone", "0312345678")]),
    ("mobile_long_vowel_dashes", "090ー1234ー5678に", [("phone", "090ー1234ー5678")]),
    # Landline notations with the local part in brackets, and +81 with the trunk 0 kept in brackets.
    ("landline_bracketed_local", "03(1234)5678まで", [("phone", "03(1234)5678")]),
    ("landline_bracketed_osaka", "06(6123)4567", [("phone", "06(6123)4567")]),
    ("plus81_bracketed_trunk_zero", "+81 (0)90-1234-5678", [("phone", "+81 (0)90-1234-5678")]),
    ("landline", "03-1234-5678に電話しろ", [("phone", "03-1234-5678")]),
    ("landline_fullwidth", "ＴＥＬ：０３－１２３４－５６７８", [("phone", "０３－１２３４－５６７８")]),
    ("mobile", "090-1234-5678", [("phone", "090-1234-5678")]),
    ("mobile_no_separators", "携帯09012345678です", [("phone", "09012345678")]),
    ("toll_free", "0120-123-456", [("phone", "0120-123-456")]),
    ("plus81", "+81-90-1234-5678", [("phone", "+81-90-1234-5678")]),
    ("paren_area", "(03)1234-5678", [("phone", "(03)1234-5678")]),
    ("postal_mark", "〒100-0001 東京都", [("postal_code", "〒100-0001")]),
    ("postal_bare", "住所は123-4567の", [("postal_code", "123-4567")]),
    ("card_spaces", "カード 4111 1111 1111 1111 で", [("card", "4111 1111 1111 1111")]),
    ("card_dashes", "5500-0000-0000-0004", [("card", "5500-0000-0000-0004")]),
    ("my_number", "マイナンバーは123456789018です", [("my_number", "123456789018")]),
    ("my_number_spaced", "1234 5678 9018", [("my_number", "1234 5678 9018")]),
    ("bad_luhn_not_card", "4111111111111112", []),
    ("bad_check_digit_not_my_number", "123456789012", []),
    ("order_number_not_phone", "注文番号 12345678", []),
    ("short_number_not_phone", "1234-5678", []),
    ("mixed", "〒100-0001 090-1234-5678 a@example.com",
     [("postal_code", "〒100-0001"), ("phone", "090-1234-5678"), ("email", "a@example.com")]),
)


@pytest.mark.parametrize("text,expected", [c[1:] for c in FIND_CASES], ids=[c[0] for c in FIND_CASES])
def test_find_pii(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(f.type, text[f.start : f.end]) for f in find_pii(text)] == expected


# (digits, Luhn valid)
LUHN_CASES = (("4111111111111111", True), ("378282246310005", True), ("4111111111111121", False))


@pytest.mark.parametrize("digits,ok", LUHN_CASES)
def test_luhn(digits: str, ok: bool) -> None:
    assert luhn_ok(digits) is ok


# (12 digits, valid): the check digit rule with weights 6,5,4,3,2,7,6,5,4,3,2 and r <= 1 -> 0
MY_NUMBER_CASES = (
    ("123456789018", True),
    ("123456789012", False),
    ("000000000000", True),  # r = 0 -> check 0
    ("100000000001", False),
    ("12345678901", False),  # too short
)


@pytest.mark.parametrize("digits,ok", MY_NUMBER_CASES)
def test_my_number(digits: str, ok: bool) -> None:
    assert my_number_ok(digits) is ok


def test_my_number_r_equals_one_gives_zero() -> None:
    # Find an 11-digit body whose weighted sum mod 11 == 1; its check digit must be 0.
    weights = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    body = next(f"{n:011d}" for n in range(1000) if sum(int(d) * w for d, w in zip(f"{n:011d}", weights)) % 11 == 1)
    assert my_number_ok(body + "0") and not my_number_ok(body + "1")


def test_mask_text_placeholders() -> None:
    text = "a@example.com 090-1234-5678 〒100-0001 4111111111111111 123456789018"
    assert mask_text(text).text == "[メール] [電話] [郵便番号] [カード] [マイナンバー]"


# (case id, span text in the original, expected text at the mapped span in the masked text)
REMAP_CASES = (
    ("after_mask", "ふざけるな", "ふざけるな"),
    ("before_mask", "おい", "おい"),
    ("covering_mask", "090-1234-5678に電話しろ", "[電話]に電話しろ"),
    ("inside_mask", "1234", "[電話]"),
)


@pytest.mark.parametrize("span,expected", [c[1:] for c in REMAP_CASES], ids=[c[0] for c in REMAP_CASES])
def test_remap_span(span: str, expected: str) -> None:
    text = "おい、090-1234-5678に電話しろ、ふざけるな"
    masked = mask_text(text)
    start = text.index(span)
    s, e = remap_span(masked, start, start + len(span))
    assert masked.text[s:e] == expected


def test_remap_rejects_reversed_span() -> None:
    with pytest.raises(ValueError, match="after its end"):
        remap_span(mask_text("a"), 2, 1)


def test_findings_hold_no_values() -> None:
    (finding,) = find_pii("a@example.com")
    assert set(finding.to_dict()) == {"type", "start", "end"}
