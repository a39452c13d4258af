"""Table-driven tests of kasuhara_nlp.segments: quotes, signatures, forwards, transcripts."""

from __future__ import annotations

import time

import pytest

from kasuhara_nlp.records import SEGMENT_KINDS
from kasuhara_nlp.segments import speaker_kind, text_to_score

FORM_THREAT = "いい加減にしろ。今すぐ社長が家まで来て土下座しろ。来なければ店に火をつけてやる。\n"
FORM_HEADER_FIELDS = (
    "ホームページから以下のお問い合わせがありました。\n\n送信者：山田太郎\n日時：2025/03/04 10:15\n"
    f"件名：返品について\n本文：\n{FORM_THREAT}"
)
FORM_HEADER_NO_LABEL = f"以下の内容で送信されました。\n\n送信者：山田太郎\n日時：2025/03/04 10:15\n件名：返品\n\n{FORM_THREAT}"
FORM_RULE_FIELDS = (
    "ホームページからお問い合わせがありました。\n\n━━━━━━━━━━━━━━━━━━━━\nお名前：山田太郎\n電話番号：090-1234-5678\n"
    f"メールアドレス：yamada@example.com\nお問い合わせ内容：\n{FORM_THREAT}━━━━━━━━━━━━━━━━━━━━\n"
)
FORM_BULLET_FIELDS = (
    "お問い合わせフォームより送信がありました。\n＝＝＝＝＝＝＝＝＝＝\n■お名前\n山田太郎\n■メールアドレス\n"
    f"yamada@example.com\n■電話番号\n090-1234-5678\n■ご相談内容\n{FORM_THREAT}＝＝＝＝＝＝＝＝＝＝\n"
)

# (case id, original, expected scored text, kinds that must be present)
SEGMENT_CASES = (
    (
        "gmail_ja",
        "返金はまだですか。\n\n2025年3月4日(火) 10:15 山田 太郎 <taro@example.com>:\n"
        "> ご連絡ありがとうございます。\n> 確認いたします。\n",
        "返金はまだですか。\n\n",
        {"new", "quoted"},
    ),
    (
        "gmail_ja_fullwidth_weekday_wrapped",
        "まだですか\n\n2025年3月4日（火） 10:15 サポート窓口 <\nsupport@example.jp>:\n> 確認します\n",
        "まだですか\n\n",
        {"new", "quoted"},
    ),
    (
        "gmail_en",
        "Still waiting.\n\nOn Tue, Mar 4, 2025 at 10:15 AM Support <support@example.jp> wrote:\n"
        "> We are checking.\n",
        "Still waiting.\n\n",
        {"new", "quoted"},
    ),
    (
        "apple_mail_ja",
        "いつまで待たせるんだ。\n\n2025/03/04 10:15、山田 太郎 <taro@example.com>のメッセージ:\n\n"
        "> 確認いたします\n",
        "いつまで待たせるんだ。\n\n",
        {"new", "quoted"},
    ),
    (
        "thunderbird_ja",
        "誠意を見せろ\n\n2025/03/04 10:15 に サポート さんは書きました:\n> 申し訳ございません\n",
        "誠意を見せろ\n\n",
        {"new", "quoted"},
    ),
    (
        "evolution_ja",
        "話にならない\n\n2025-03-04 (火) の 10:15 +0900 に サポート さんは書きました:\n> 承知しました\n",
        "話にならない\n\n",
        {"new", "quoted"},
    ),
    (
        "outlook_ja_underscores",
        "回答が遅い。\n\n________________________________\n差出人: サポート <support@example.jp>\n"
        "送信日時: 2025年3月4日 10:15\n宛先: taro@example.com\n件名: Re: 返品\n\nご連絡ありがとうございます。\n",
        "回答が遅い。\n\n",
        {"new", "quoted"},
    ),
    (
        "outlook_ja_bare_header_block",
        "責任者を出せ\n\n差出人: サポート\n送信日時: 2025年3月4日 10:15\n件名: Re: 返品\n\n本文です\n",
        "責任者を出せ\n\n",
        {"new", "quoted"},
    ),
    (
        "original_message",
        "早く返事しろ\n-----Original Message-----\nFrom: support@example.jp\nSent: Tuesday\n確認します\n",
        "早く返事しろ\n",
        {"new", "quoted"},
    ),
    (
        "moto_no_message",
        "対応が遅い\n-----元のメッセージ-----\n差出人: サポート\n確認中です\n",
        "対応が遅い\n",
        {"new", "quoted"},
    ),
    (
        "inyomoto_message",
        "まだか\n----- 引用元メッセージ -----\nお待ちください\n",
        "まだか\n",
        {"new", "quoted"},
    ),
    (
        "forward_gmail",
        "これ見てください\n\n---------- Forwarded message ---------\nFrom: someone\n転送された本文\n",
        "これ見てください\n\n",
        {"new", "forward"},
    ),
    (
        "forward_ja",
        "転送します\n-------- 転送メッセージ --------\n件名: 注文\n本文\n",
        "転送します\n",
        {"new", "forward"},
    ),
    (
        "forward_apple",
        "参考まで\n\nBegin forwarded message:\n\nFrom: a@example.com\n",
        "参考まで\n\n",
        {"new", "forward"},
    ),
    (
        "quote_prefixes_mixed",
        "> 一\n>> 二\n＞ 三\n| 四\n｜ 五\nふざけるな\n",
        "ふざけるな\n",
        {"new", "quoted"},
    ),
    (
        "inline_replies",
        "> 確認いたします\n→いつ確認するんだ\n> 明日までに\n明日っていつだよ\n",
        "→いつ確認するんだ\n明日っていつだよ\n",
        {"new", "quoted"},
    ),
    (
        "from_escape_is_not_a_quote",
        ">From here on I want a refund.\n",
        ">From here on I want a refund.\n",
        {"new"},
    ),
    (
        "sashidashinin_sentence_is_new",
        "差出人：山田です。先日の件ですが、まだ返事がありません。\nどうなっていますか。\n",
        "差出人：山田です。先日の件ですが、まだ返事がありません。\nどうなっていますか。\n",
        {"new"},
    ),
    (
        "signature_dashes",
        "返金しろ。\n\n-- \n山田太郎\nTEL 03-1234-5678\n",
        "返金しろ。\n\n",
        {"new", "signature"},
    ),
    (
        "signature_heavy_rule",
        "返金しろ\n\n━━━━━━━━━━━━\n株式会社サンプル\n〒100-0001 東京都千代田区\nTEL 03-1234-5678\n━━━━━━━━━━━━\n",
        "返金しろ\n\n",
        {"new", "signature"},
    ),
    (
        "signature_box_rule",
        "対応が悪い\n■□■□■□■□■□\n有限会社テスト\nFAX 03-1234-5679\nURL https://example.jp\n",
        "対応が悪い\n",
        {"new", "signature"},
    ),
    (
        "signature_fullwidth_equals",
        "許さない\n＝＝＝＝＝＝＝＝\n山田商店\nmail: yamada@example.com\nTEL 090-1234-5678\n",
        "許さない\n",
        {"new", "signature"},
    ),
    (
        "rule_without_contacts_is_new",
        "一つ目の要望\n＝＝＝＝＝＝\n二つ目の要望\n",
        "一つ目の要望\n＝＝＝＝＝＝\n二つ目の要望\n",
        {"new"},
    ),
    (
        "iphone_footer",
        "早くしろ\n\niPhoneから送信\n",
        "早くしろ\n\n",
        {"new", "signature"},
    ),
    (
        "sent_from_my_iphone",
        "Hurry up\nSent from my iPhone\n",
        "Hurry up\n",
        {"new", "signature"},
    ),
    (
        "android_footer",
        "いい加減にしろ\nAndroid から送信\n",
        "いい加減にしろ\n",
        {"new", "signature"},
    ),
    (
        "signature_then_quote",
        "返事しろ\n-- \n山田\n\n2025/03/04 10:15 に サポート さんは書きました:\n> 確認中\n",
        "返事しろ\n",
        {"new", "signature", "quoted"},
    ),
    (
        "chat_brackets_fullwidth_colon",
        "[14:02] お客様：擦り傷がある\n[14:03] オペレーター：申し訳ございません。\n"
        "[14:05] お客様：土下座しろ\n続きの行\n",
        "擦り傷がある\n土下座しろ\n続きの行\n",
        {"new", "agent", "system"},
    ),
    (
        "call_transcript_seconds",
        "00:03:12 顧客: 責任者出せ\n00:03:20 オペレーター: 少々お待ちください\n",
        "責任者出せ\n",
        {"new", "agent", "system"},
    ),
    (
        "role_prefix_no_time",
        "顧客: 新車に交換して\n担当: 保証の範囲外です\n顧客: 知らんし\n",
        "新車に交換して\n知らんし\n",
        {"new", "agent", "system"},
    ),
    (
        "role_prefix_tanto_fullwidth",
        "お客様：金返せ\n担当者：できかねます\n",
        "金返せ\n",
        {"new", "agent", "system"},
    ),
    (
        "service_roles_school",
        "保護者：担任を替えてください\n担任：検討いたします\n保護者：今すぐ替えろ\n",
        "担任を替えてください\n今すぐ替えろ\n",
        {"new", "agent", "system"},
    ),
    (
        "service_roles_after_a_header",
        "【窓口 図書館】\n利用者：延滞の記録を消して\n職員：できかねます\n利用者：名前控えたからね\n",
        "延滞の記録を消して\n名前控えたからね\n",
        {"new", "agent", "system"},
    ),
    (
        "fullwidth_brackets_time",
        "［10:00］来庁者：ふざけるな\n［10:01］職員：申し訳ありません\n",
        "ふざけるな\n",
        {"new", "agent", "system"},
    ),
    (
        "memo_quote_style_with_times",
        "15:30 来庁者「名前教えろ」\n15:31 職員「お答えできません」\n15:33 来庁者「答えるまで座ってるから」\n",
        "「名前教えろ」\n「答えるまで座ってるから」\n",
        {"new", "agent", "system"},
    ),
    (
        "memo_quote_style_no_time",
        "客「返金しろ」\n店員「できかねます。警察を呼びます」\n",
        "「返金しろ」\n",
        {"new", "agent", "system"},
    ),
    (
        "one_quoted_staff_line_is_not_a_transcript",
        "スタッフ「できません」と言われました。納得できません。\n",
        "スタッフ「できません」と言われました。納得できません。\n",
        {"new"},
    ),
    (
        "memo_header_fields_are_not_turns",
        "記録者：山田\n対応者：佐藤\n内容：返金しろと30分\n",
        "記録者：山田\n対応者：佐藤\n内容：返金しろと30分\n",
        {"new"},
    ),
    (
        "bracket_roles",
        "【お客様】金返せ\n【担当】できかねます\n",
        "金返せ\n",
        {"new", "agent", "system"},
    ),
    (
        "our_side_with_name",
        "[14:02] 当社（佐藤）: ご説明します\n[14:03] 山田様: ふざけるな\n",
        "ふざけるな\n",
        {"new", "agent", "system"},
    ),
    (
        "line_export",
        "[LINE] 山田とのトーク履歴\n保存日時：2025/03/05 09:00\n\n2025/03/04(火)\n"
        "10:15\t山田\tまだ届かないんですけど\n10:16\tサポート\t確認いたします\n"
        '10:20\t山田\t"もういい。\n返金しろ"\n',
        'まだ届かないんですけど\n"もういい。\n返金しろ"\n',
        {"new", "agent", "system"},
    ),
    (
        "speakers_indistinguishable_keep_all_new",
        "[10:15] 山田: まだ？\n[10:16] 佐藤: 確認します\n",
        "まだ？\n確認します\n",
        {"new", "system"},
    ),
    (
        "single_role_line_is_not_a_transcript",
        "担当: 佐藤さんの対応がひどかった\n",
        "担当: 佐藤さんの対応がひどかった\n",
        {"new"},
    ),
    (
        "crlf_mail",
        "返金しろ\r\n\r\n> 確認します\r\n",
        "返金しろ\r\n\r\n",
        {"new", "quoted"},
    ),
    (
        "no_trailing_newline",
        "返金しろ",
        "返金しろ",
        {"new"},
    ),
    # Web-form notifications: an intro line, then the form's fields.  The fields are the customer's
    # message, not a quoted header block or a signature.
    ("form_sender_date_subject_body_fields", FORM_HEADER_FIELDS, FORM_HEADER_FIELDS, {"new"}),
    ("form_sender_date_subject_no_body_label", FORM_HEADER_NO_LABEL, FORM_HEADER_NO_LABEL, {"new"}),
    ("form_rule_then_contact_fields", FORM_RULE_FIELDS, FORM_RULE_FIELDS, {"new"}),
    ("form_bullet_labels_equals_rule", FORM_BULLET_FIELDS, FORM_BULLET_FIELDS, {"new"}),
    (
        "form_then_site_signature",
        FORM_RULE_FIELDS + "株式会社サンプル\nTEL 03-1234-5678\nhttps://example.jp\n",
        FORM_RULE_FIELDS[: FORM_RULE_FIELDS.index(FORM_THREAT) + len(FORM_THREAT)],
        {"new", "signature"},
    ),
    (
        "notes_style_header_block_still_quoted",
        "返事しろ\n\n送信者: サポート\n宛先: 山田\n日付: 2025/03/04\n件名: Re: 返品\n\n確認中です\n",
        "返事しろ\n\n",
        {"new", "quoted"},
    ),
    (
        "signature_with_disclaimer_still_signature",
        "返金しろ\n\n━━━━━━━━━━━━\n株式会社サンプル 山田\nTEL 03-1234-5678\nMail：yamada@example.jp\n"
        "本メールの内容を無断で転送することを禁じます。\n━━━━━━━━━━━━\n",
        "返金しろ\n\n",
        {"new", "signature"},
    ),
)

# (case id, original): no new text remains, so the whole original is scored.
FALLBACK_CASES = (
    ("only_quotes", "> 確認いたします\n> 少々お待ちください\n"),
    ("only_outlook_history", "-----Original Message-----\nFrom: a\n本文\n"),
    ("only_agent_turns", "オペレーター: 失礼します\n担当: 確認します\n"),
)


def _check_invariants(original: str) -> None:
    st = text_to_score(original)
    assert st.original == original
    pos = 0
    for seg in st.segments:
        assert seg.kind in SEGMENT_KINDS
        assert seg.start == pos and seg.end > seg.start
        pos = seg.end
    assert pos == len(original)
    if not st.fallback:
        for seg in st.segments:
            if seg.kind == "new":
                chunk = original[seg.start : seg.end]
                at = st.text.index(chunk)
                assert st.to_original(at, at + len(chunk)) == (seg.start, seg.end)


@pytest.mark.parametrize(
    "original,expected,kinds", [c[1:] for c in SEGMENT_CASES], ids=[c[0] for c in SEGMENT_CASES]
)
def test_segment_cases(original: str, expected: str, kinds: set[str]) -> None:
    st = text_to_score(original)
    assert st.text == expected
    assert {s.kind for s in st.segments} == kinds
    assert not st.fallback
    _check_invariants(original)


@pytest.mark.parametrize(
    "original", [c[1] for c in FALLBACK_CASES], ids=[c[0] for c in FALLBACK_CASES]
)
def test_fallback_to_whole_text(original: str) -> None:
    st = text_to_score(original)
    assert st.fallback
    assert st.text == original
    assert st.to_original(0, len(original)) == (0, len(original))
    _check_invariants(original)


def test_empty_text_is_not_a_fallback() -> None:
    st = text_to_score("")
    assert st.text == "" and st.segments == [] and not st.fallback


def test_transcript_flag() -> None:
    assert text_to_score("顧客: a\n担当: b\n").transcript
    assert not text_to_score("ただのメール\n").transcript


def test_to_original_maps_evidence_across_gaps() -> None:
    original = "> 確認いたします\n→いつ確認するんだ\n> 明日までに\n明日っていつだよ\n"
    st = text_to_score(original)
    start = st.text.index("明日っていつ")
    a, b = st.to_original(start, start + 6)
    assert original[a:b] == "明日っていつ"


def test_transcript_turns_are_separated_when_joined() -> None:
    st = text_to_score("[10:00] お客様：一\n[10:01] 担当：二\n[10:02] お客様：三")
    assert st.text == "一\n三"
    a, b = st.to_original(2, 3)
    assert st.original[a:b] == "三"


def test_to_original_rejects_out_of_range() -> None:
    with pytest.raises(ValueError, match="outside the scored text"):
        text_to_score("abc").to_original(0, 10)


def test_segmentation_is_fast() -> None:
    # A generous bound that only catches accidental quadratic behaviour on a long body.
    body = ("お世話になっております。返金はまだですか。\n> 確認いたします\n" * 2000) + "-- \n山田\n"
    t0 = time.perf_counter()
    text_to_score(body)
    assert time.perf_counter() - t0 < 2.0


@pytest.mark.parametrize(
    "name,kind",
    [
        ("オペレーター", "agent"), ("お客様相談室", "agent"), ("職員", "agent"), ("係", "agent"), ("田中先生", "agent"),
        ("当社（佐藤）", "agent"), ("OP", "agent"),
        ("山田様", "customer"), ("保護者", "customer"), ("来庁者（男性）", "customer"), ("客", "customer"),
        ("Visitor 12", "customer"),
        # Short role words count only as the whole name.
        ("関係者", "unknown"), ("Cooper", "unknown"), ("オペラ", "unknown"), ("山田", "unknown"),
    ],
)
def test_speaker_kind(name: str, kind: str) -> None:
    assert speaker_kind(name) == kind


# --- customer text that looks like a signature, quoted history that looks like text ---

THREAT = "お前らの対応は最悪だ。今すぐ店長が家まで来て土下座しろ。来なければ店に火をつけてやる。"

# (case id, original, text that must be scored, text that must not be scored or None)
KEPT_CASES = (
    ("rule_above_the_complaint", f"お世話になっております。\n------------------------------\n担当者様\n昨日電話でもお伝えしましたが、{THREAT}\n",
     THREAT, None),
    ("framed_by_short_rules", f"お世話になっております。\n------\n担当者様\n電話でもお伝えしましたが、{THREAT}\n------\n",
     THREAT, None),
    ("dashdash_then_postscript", f"お世話になっております。注文の件です。\n--\n追伸　担当の佐藤に伝えておけ。{THREAT}\n",
     THREAT, None),
    ("ps_below_a_real_signature", "注文の件、よろしくお願いします。\n\n-- \n山田 太郎\nTEL 090-1234-5678\n\n"
     "P.S. 今日中に返事がなければ店に火をつけてやる。\n", "店に火をつけてやる", "090-1234-5678"),
    ("text_after_a_closed_frame", f"返品の件です。\n━━━━━━━━\n山田 太郎\n〒150-0001 東京都渋谷区\nTEL 03-1234-5678\n━━━━━━━━\n{THREAT}\n",
     THREAT, "03-1234-5678"),
    ("bracket_fields_are_not_a_transcript", f"お世話になっております。\n【ご用件】返品について\n【担当】佐藤様\n佐藤の電話対応はなんだ。{THREAT}\n",
     THREAT, None),
    # Signatures are still dropped, disclaimers inside them too.
    ("signature_with_disclaimer", f"{THREAT}\n\n――――――――\n渡辺 由美\n〒767-2480 〇〇県〇〇市\nTEL：017-XXXX-XXXX\n"
     "このメールには機密情報が含まれている場合があります。\n――――――――\n", THREAT, "機密情報"),
    ("masked_mobile_signature", f"{THREAT}\n\n――――――――\n株式会社〇〇商事\u3000総務課\n携帯 090-XXXX-XXXX\n", THREAT, "090-XXXX"),
    # Quotes that reached the scored text.
    ("gmail_ja_without_weekday", f"{THREAT}\n\n2026年10月31日 18:00 ショップ窓口 <support@shop.example.jp>:\n"
     "いつもご利用いただきありがとうございます。\n", THREAT, "ご利用いただき"),
    ("gmail_ja_without_weekday_wrapped", f"{THREAT}\n\n2026年10月31日 18:00 ショップ窓口 <\nsupport@shop.example.jp>:\n"
     "確認いたします。\n", THREAT, "確認いたします"),
    ("ios_ja_no_mail", f"{THREAT}\n\n2026/10/31 18:00、ショップ窓口 <support@shop.example.jp>のメール:\n\n> 確認いたします。\n",
     THREAT, "のメール"),
    ("gmail_ja_date_only", f"{THREAT}\n\n2026年11月4日 サポート窓口 <support@example.jp>:\n> 中村様\n> 確認いたします。\n",
     THREAT, "サポート窓口"),
    # A customer's own dated line ending in a colon is not an attribution.
    ("customer_dated_line", f"2026年10月31日 18:00 に電話した件:\n{THREAT}\n", "電話した件", None),
    # Nor is a dated line with an address when no quote follows it (the date-only form needs one).
    ("customer_dated_line_with_address", f"2026年10月31日 担当 <tanaka@example.jp>:\n{THREAT}\n", "担当", None),
)


@pytest.mark.parametrize("original,kept,dropped", [c[1:] for c in KEPT_CASES], ids=[c[0] for c in KEPT_CASES])
def test_customer_text_kept_and_history_dropped(original: str, kept: str, dropped: str | None) -> None:
    st = text_to_score(original)
    assert kept in st.text and not st.fallback
    if dropped is not None:
        assert dropped not in st.text
