"""PII finding and masking: Japanese formats, check digits, offset re-mapping, linear overlap merging."""

from __future__ import annotations

import pytest

from kasuhara_nlp import pii
from kasuhara_nlp.pii import PiiFinding, find_pii, luhn_ok, mask_text, my_number_ok, remap_span

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
    # Phone numbers with dots, spaced hyphens and blanks, in the groupings they are printed in.
    ("phone_dots", "090.1234.5678 に電話して", [("phone", "090.1234.5678")]),
    ("phone_dots_landline", "03.1234.5678", [("phone", "03.1234.5678")]),
    ("phone_dots_fullwidth", "０９０．１２３４．５６７８", [("phone", "０９０．１２３４．５６７８")]),
    ("phone_dots_toll_free", "0120.123.456まで", [("phone", "0120.123.456")]),
    ("phone_spaced_hyphens", "090 - 1234 - 5678 に電話しろ", [("phone", "090 - 1234 - 5678")]),
    ("phone_spaced_hyphens_fullwidth", "０３　－　１２３４　－　５６７８", [("phone", "０３　－　１２３４　－　５６７８")]),
    ("phone_blanks_landline", "03 1234 5678まで", [("phone", "03 1234 5678")]),
    ("phone_blanks_ideographic", "０９０　１２３４　５６７８に電話", [("phone", "０９０　１２３４　５６７８")]),
    ("phone_after_tel_dot", "TEL.03-1234-5678", [("phone", "03-1234-5678")]),
    ("phone_plus81_dots", "+81.90.1234.5678", [("phone", "+81.90.1234.5678")]),
    # Card numbers and マイナンバー with dots or spaced hyphens; a number that starts inside a rejected
    # candidate (a date before it) and one with another number after it are still found.
    ("card_dots", "5555.5555.5555.4444 で決済", [("card", "5555.5555.5555.4444")]),
    ("card_spaced_hyphens", "4111 - 1111 - 1111 - 1111", [("card", "4111 - 1111 - 1111 - 1111")]),
    ("card_dots_amex", "3782.822463.10005", [("card", "3782.822463.10005")]),
    ("my_number_dots", "個人番号 1234.5678.9018", [("my_number", "1234.5678.9018")]),
    ("card_after_date", "2026.11.29 4111 1111 1111 1111", [("card", "4111 1111 1111 1111")]),
    ("card_then_phone", "4111 1111 1111 1111 03 1234 5678",
     [("card", "4111 1111 1111 1111"), ("phone", "03 1234 5678")]),
    # Spelled-out and internationalised mail addresses.
    ("email_bracket_at_dot", "taro [at] example [dot] com まで", [("email", "taro [at] example [dot] com")]),
    ("email_paren_at_dot", "taro(at)example(dot)co(dot)jp", [("email", "taro(at)example(dot)co(dot)jp")]),
    ("email_fullwidth_brackets", "ｔａｒｏ［ａｔ］ｅｘａｍｐｌｅ［ｄｏｔ］ｃｏｍ", [("email", "ｔａｒｏ［ａｔ］ｅｘａｍｐｌｅ［ｄｏｔ］ｃｏｍ")]),
    ("email_katakana_words", "taro アットマーク example ドット com", [("email", "taro アットマーク example ドット com")]),
    ("email_idn_local_and_domain", "山田@例え.jp に連絡", [("email", "山田@例え.jp")]),
    ("email_idn_after_particle", "連絡先は山田@例え.jpまで", [("email", "山田@例え.jp")]),
    ("email_idn_domain", "info@日本語ドメイン.jpまで", [("email", "info@日本語ドメイン.jp")]),
    ("email_idn_katakana_tld", "やまだ@例え.テストに送れ", [("email", "やまだ@例え.テスト")]),
    ("email_fullwidth_at_idn", "山田＠例え．jp", [("email", "山田＠例え．jp")]),
    # Street addresses: 都道府県 (or 政令市 + 区) + 市区町村 + the block number.
    ("address_hyphens", "東京都千代田区千代田1-1-1 に住んでいる", [("address", "東京都千代田区千代田1-1-1")]),
    ("address_chome_ban_go", "大阪府大阪市北区梅田1丁目2番3号です", [("address", "大阪府大阪市北区梅田1丁目2番3号")]),
    ("address_banchi_no", "長野県上田市123番地の4", [("address", "長野県上田市123番地の4")]),
    ("address_kanji_chome", "北海道札幌市中央区北一条西2丁目", [("address", "北海道札幌市中央区北一条西2丁目")]),
    ("address_designated_city", "〒530-0001 大阪市北区梅田1-9-3 ビル7F",
     [("postal_code", "〒530-0001"), ("address", "大阪市北区梅田1-9-3")]),
    ("address_fullwidth", "埼玉県川口市芝中田１－８－３", [("address", "埼玉県川口市芝中田１－８－３")]),
    # Common surnames (with a given name or title) before an honorific.
    ("name_full_sama", "担当の山田太郎様にお伝えください", [("name", "山田太郎")]),
    ("name_full_sama_start", "佐藤花子様、至急返金しろ", [("name", "佐藤花子")]),
    ("name_san", "田中さん、電話ください", [("name", "田中")]),
    ("name_spaced", "山田 太郎 様", [("name", "山田 太郎")]),
    ("name_dono", "石川殿", [("name", "石川")]),
    ("name_one_kanji_sensei", "担任の森先生に", [("name", "森")]),
    ("name_katakana_given", "佐藤エリカさん", [("name", "佐藤エリカ")]),
    ("name_with_title", "田中課長さん", [("name", "田中課長")]),
    ("name_long_surname", "小野寺さん", [("name", "小野寺")]),
    # Variant kanji (異体字) as names are registered: compatibility (﨑) and extension B (𠮷) characters too.
    ("name_variant_taka", "髙木さんを出せ", [("name", "髙木")]),
    ("name_variant_saki_compat", "山﨑さんに伝えろ", [("name", "山﨑")]),
    ("name_variant_yoshi_ext_b", "𠮷田様", [("name", "𠮷田")]),
    ("name_variant_hama", "濵田さん", [("name", "濵田")]),
    ("name_variant_hiro", "廣瀬さん", [("name", "廣瀬")]),
    ("name_variant_with_given", "髙橋花子様", [("name", "髙橋花子")]),
    ("name_variant_listed_before", "渡邊さんと齋藤様", [("name", "渡邊"), ("name", "齋藤")]),
)


@pytest.mark.parametrize("text,expected", [c[1:] for c in FIND_CASES], ids=[c[0] for c in FIND_CASES])
def test_find_pii(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(f.type, text[f.start : f.end]) for f in find_pii(text)] == expected


# (case id, text) that hold no personal data: dates, versions, times, amounts, order numbers, IPs, and the
# role words and place words that sit where a name or an address would.
NOT_PII_CASES = (
    ("date_dots", "2026.11.29に届く予定"),
    ("date_dots_day_first", "03.12.2026"),
    ("date_time", "2026.11.29 10:15 に電話した"),
    ("version", "v1.2.3 に更新"),
    ("version_leading_zero", "ver 0.12.3"),
    ("time", "10:15から11:40まで"),
    ("amount", "1,234円を返せ"),
    ("amount_yen", "¥12,345.00"),
    ("percent", "0.5%の手数料"),
    ("order_number_hyphens", "注文番号 2026-1129-0001"),
    ("order_number_dots", "注文番号：2026.1129.0001"),
    ("order_number_dotted_date", "注文番号 2026.11.29-01"),
    ("ip_address_check_digit", "192.168.100.104"),  # its 12 digits pass the マイナンバー check
    ("luhn_digits_odd_grouping", "4111.111.111.111.111"),  # Luhn-valid, but no card is printed so
    ("landline_digits_odd_grouping", "0312 3456 78"),
    ("mention", "@yamada さん"),
    ("at_price", "1個@1,234円"),
    ("at_no_domain", "山田@本社 です"),
    ("handle_after_sentence", "お問い合わせ @example.com"),
    ("roles", "お客様、担当者様、店員さん、皆様、運転手さん、お疲れ様です"),
    ("branch", "千葉店様、中野支社さん"),
    ("surname_at_word_end", "青森さん、高原さん"),
    ("san_in_word", "たくさんの仕様"),
    ("city_then_particle", "東京都練馬区から埼玉県所沢市への引っ越しは3月"),
    ("prefecture_tour", "北海道4日間ツアー"),
    ("prefecture_particle_hours", "東京都の店舗で3-4時間待たされた"),
    ("placeholder_address", "埼玉県川越市〇〇町1-2-3"),
)


@pytest.mark.parametrize("text", [c[1] for c in NOT_PII_CASES], ids=[c[0] for c in NOT_PII_CASES])
def test_not_pii(text: str) -> None:
    assert find_pii(text) == []
    assert mask_text(text).text == text


# (case id, text, masked) for the placeholders of the new types, and an address and a name in one line.
MASK_CASES = (
    ("address_and_name", "東京都千代田区千代田1-1-1の山田太郎様", "[住所]の[氏名]様"),
    ("dotted_phone_and_card", "090.1234.5678 / 5555.5555.5555.4444", "[電話] / [カード]"),
    ("obfuscated_mail", "taro [at] example [dot] com まで", "[メール] まで"),
)


@pytest.mark.parametrize("text,masked", [c[1:] for c in MASK_CASES], ids=[c[0] for c in MASK_CASES])
def test_mask_new_types(text: str, masked: str) -> None:
    assert mask_text(text).text == masked
    # Alerts and reports mask again whatever the results file holds: a placeholder is not PII.
    assert mask_text(masked).text == masked


# (case id, findings in, findings out): overlapping findings merge into one span of the higher-priority type,
# so no part of the lower-priority value is left unmasked.
MERGE_CASES = (
    ("lower_priority_sticks_out", [("email", 5, 20), ("phone", 0, 13)], [("email", 0, 20)]),
    ("contained", [("phone", 0, 13), ("name", 2, 4)], [("phone", 0, 13)]),
    ("higher_priority_inside", [("name", 0, 10), ("email", 2, 4)], [("email", 0, 10)]),
    ("chain", [("phone", 0, 5), ("postal_code", 4, 9), ("name", 8, 12)], [("phone", 0, 12)]),
    ("touching_kept_apart", [("phone", 0, 5), ("name", 5, 9)], [("phone", 0, 5), ("name", 5, 9)]),
)


@pytest.mark.parametrize("found,merged", [c[1:] for c in MERGE_CASES], ids=[c[0] for c in MERGE_CASES])
def test_merge_overlaps(found: list[tuple[str, int, int]], merged: list[tuple[str, int, int]]) -> None:
    out = pii._merge_overlaps([PiiFinding(*f) for f in found])
    assert [(f.type, f.start, f.end) for f in out] == merged


def test_overlap_check_is_linear(monkeypatch: pytest.MonkeyPatch) -> None:
    """Count reads of finding offsets while resolving overlaps: a constant per finding, not one per pair."""
    reads = 0

    class CountingFinding(PiiFinding):
        def __getattribute__(self, name: str) -> object:
            nonlocal reads
            if name in ("start", "end"):
                reads += 1
            return super().__getattribute__(name)

    monkeypatch.setattr(pii, "PiiFinding", CountingFinding)
    k = 300
    findings = find_pii("連絡先 090-1234-5678 です。" * k)
    assert len(findings) == k
    assert reads <= 20 * k  # a pairwise check reads about 2 * k * k / 2 = 90,000 offsets here


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
    text = "a@example.com 090-1234-5678 〒100-0001 4111111111111111 123456789018 東京都港区芝1-2-3 山田様"
    assert mask_text(text).text == "[メール] [電話] [郵便番号] [カード] [マイナンバー] [住所] [氏名]様"


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
