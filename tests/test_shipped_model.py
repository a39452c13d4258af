"""The bundled model on behaviour its users rely on (a regression guard, not an accuracy measure).

Accuracy is measured by `kasuhara evaluate` on held-out data; these few hand-written lines (this project's own
writing, in none of the corpus files) pin down failures that were found and fixed, so that a new model that
brings them back fails here: 1.3.1 flagged romaji and English at random (docs/training.md §14), 1.4.0 bare
personal names (§17-§18; 1.5.0 still flags some, e.g. 「山田 太郎」, so only the ones it fixed are pinned).
"""

from __future__ import annotations

import json

import pytest

from kasuhara_nlp.classifier import KasuharaClassifier, bundled_model_dir
from kasuhara_nlp.config import CARD_NAME, CONFIG_NAME


@pytest.fixture(scope="module")
def clf() -> KasuharaClassifier:
    return KasuharaClassifier.from_pretrained()


# (case id, a legitimate message that must not be flagged)
LEGITIMATE = (
    ("romaji_greeting", "konnichiwa, chuumon no ken desu"),
    ("romaji_cancellation", "yoyaku wo kyanseru shitai desu. yoroshiku onegaishimasu"),
    ("english_request", "Hi, I would like to change the delivery date of order 4471 to next Friday."),
    ("english_thanks", "Thank you for the quick reply, the issue is solved."),
    ("english_mail", "Subject: Invoice INV-2026-118 missing\nHi team, could you resend the invoice? Best regards, Ken"),
    ("japanese_with_codes", "ログインできません。エラーコード: ERR_AUTH_403 / request-id: 7f3a-99c1 https://example.com/login"),
    ("angry_but_owed_refund", "この商品、3日で壊れました。正直がっかりです。返金してください。"),
    ("plain_question", "注文番号12345の配送状況を教えてください。"),
    ("bare_full_name", "鈴木 一郎"),
    ("bare_halfwidth_kana_name", "ｻﾄｳ ﾊﾅｺ"),
    ("name_with_phone", "吉田 和也 090-1234-5678"),
)

# (case id, harassment, the category it must be flagged for)
HARASSMENT = (
    ("personality_denial", "お前みたいな無能は今すぐ辞めろ。", "abuse"),
    ("dogeza_and_money", "土下座して謝れ。それと慰謝料100万払え。", "demand"),
    ("keep_staff_after_hours", "今から店に行くから、店長は閉店後も帰らずに待ってろ。", "restraint"),
    ("asks_staff_for_a_date", "担当の女の子、電話番号教えてよ。デートしてくれたら許してあげる", "other_harassment"),
    ("romaji_death_wish", "omae baka ka? shine", "abuse"),
    ("english_veiled_threat", "I know where you live.", "abuse"),
    ("named_staff_threat", "受付の高橋、夜道には気をつけな。", "abuse"),
)


@pytest.mark.parametrize("text", [c[1] for c in LEGITIMATE], ids=[c[0] for c in LEGITIMATE])
def test_legitimate_messages_are_not_flagged(clf: KasuharaClassifier, text: str) -> None:
    result = clf.predict(text)
    assert result.labels == [], result.scores


@pytest.mark.parametrize("text,category", [c[1:] for c in HARASSMENT], ids=[c[0] for c in HARASSMENT])
def test_harassment_is_flagged_for_its_category(clf: KasuharaClassifier, text: str, category: str) -> None:
    result = clf.predict(text)
    assert category in result.labels and result.severity >= 1, result.scores
    assert any(e.label == category for e in result.evidence)


def test_the_card_describes_the_bundled_model() -> None:
    folder = bundled_model_dir()
    version = json.loads((folder / CONFIG_NAME).read_text(encoding="utf-8"))["version"]
    first_line = (folder / CARD_NAME).read_text(encoding="utf-8").splitlines()[0]
    assert first_line == f"# kasuhara-bert-ja {version}"
