"""Web-form notification mails: the field that holds the visitor's own words.

A site's contact form mails the support inbox something like::

    Webサイトからお問い合わせを受け付けました。
    お名前：山田 太郎
    お問い合わせ内容：…the customer's message…

Its field labels look like mail headers and its rules like signatures, and its intro like a helpdesk's
acknowledgement, yet it is the only copy of the customer's message. Mail headers, signatures and
acknowledgements sent to a customer have no free-text field, so a block that has one is the customer's.

>>> bool(FORM_TEXT_FIELD.match("お問い合わせ内容：")), bool(FORM_TEXT_FIELD.match("【ご相談内容】"))
(True, True)
>>> has_form_text_field("受付番号：123\\nありがとうございました。")
False
>>> [bool(FORM_FIELD_LABEL.search(x)) for x in ("お名前", "メールアドレス", "お客様番号", "お客様", "担当 佐藤")]
[True, True, True, False, False]
"""

from __future__ import annotations

import re

_FORM_TEXT_LABEL = (
    r"(?:(?:お?問い?合わ?せ|ご?相談|ご?質問|ご?意見|ご?要望|ご?依頼|ご?用件|メッセージ|コメント)(?:の?(?:内容|本文|事項))?"
    r"|内容|本文)"
)
#: A line that is a free-text field's label (本文：, お問い合わせ内容：, 【ご相談内容】, ■ご質問).
FORM_TEXT_FIELD = re.compile(
    r"[ \t\u3000]*(?:[■□◆◇●○▼▽・][ \t\u3000]*)?"
    rf"(?:[【\[［<＜]{_FORM_TEXT_LABEL}(?:・{_FORM_TEXT_LABEL})*[】\]］>＞]"
    rf"|{_FORM_TEXT_LABEL}(?:・{_FORM_TEXT_LABEL})*[ \t\u3000]*(?:[:：]|$))"
)


#: A bracketed label that names a form or ticket field (【お名前】, 【メールアドレス】, 【お客様番号】, 【件名】), not a
#: transcript speaker (【お客様】, 【担当 佐藤】): the words of identity, contact and ticket fields.  Free-text labels
#: (【ご相談内容】) are left out: a header such as 【相談記録】 shares their words and heads a real transcript.
FORM_FIELD_LABEL = re.compile(
    r"名前|氏名|フリガナ|ふりがな|メール|アドレス|mail|電話番号|TEL|FAX|住所|郵便番号|会社名|法人名|団体名|学校名"
    r"|部署|役職|年齢|性別|生年月日|件名|種別|区分|カテゴリ|番号|ID",
    re.IGNORECASE,
)


def has_form_text_field(text: str, max_lines: int = 80) -> bool:
    """True when one of the first ``max_lines`` lines of ``text`` is a web form's free-text field label."""
    return any(FORM_TEXT_FIELD.match(line) for line in text.splitlines()[:max_lines])


def has_form_text_field_in(lines: list[tuple[int, str, int]], start: int, stop: int) -> bool:
    """True when a line in ``lines[start:stop]`` is a web form's free-text field label (lines as
    :mod:`kasuhara_nlp.segments` splits them: ``(start, content, end)``)."""
    return any(FORM_TEXT_FIELD.match(lines[j][1]) for j in range(start, min(stop, len(lines))))
