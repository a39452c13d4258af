"""Find and mask personal data in Japanese customer text.

Types: mail address, phone number, postal code, card number, マイナンバー, street address (都道府県 or
政令市 + 区 through the block number) and a common surname before an honorific (山田様, 佐藤花子さん).

Findings carry types and offsets only, never the value, so they can be stored and logged.
Detection runs on a one-to-one NFKC subset of the text (full-width ASCII, dashes, ideographic
space), which keeps every offset valid in the original.

>>> find_pii("TEL：０３－１２３４－５６７８")
[PiiFinding(type='phone', start=4, end=16)]
>>> mask_text("連絡先 yamada@example.com まで").text
'連絡先 [メール] まで'
>>> mask_text("090.1234.5678 / taro [at] example [dot] com / 2026.11.29 / v1.2.3").text
'[電話] / [メール] / 2026.11.29 / v1.2.3'
>>> mask_text("東京都千代田区千代田1-1-1の山田太郎様").text
'[住所]の[氏名]様'
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from .pii_mail import email_spans
from .pii_names import name_spans

__all__ = [
    "PII_TYPES",
    "PLACEHOLDERS",
    "MaskedText",
    "PiiFinding",
    "Replacement",
    "find_pii",
    "luhn_ok",
    "mask_text",
    "my_number_ok",
    "remap_span",
]

#: Placeholders written in place of each type of finding, in priority order: where findings overlap, the merged
#: span takes the type that comes first here.
PLACEHOLDERS = {
    "email": "[メール]",
    "my_number": "[マイナンバー]",
    "card": "[カード]",
    "phone": "[電話]",
    "postal_code": "[郵便番号]",
    "address": "[住所]",
    "name": "[氏名]",
}
PII_TYPES = tuple(PLACEHOLDERS)
_PRIORITY = {t: i for i, t in enumerate(PII_TYPES)}

# One-to-one NFKC subset: the characters NFKC folds that matter for these patterns, each to one
# character, so offsets in the folded text are offsets in the original.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}  # full-width ASCII -> ASCII
_FOLD.update({ord(c): "-" for c in "－―‐‑‒–—−"})
_FOLD[0x3000] = " "
# ー and ｰ are dashes only after a digit (090ー1234ー5678, as an IME types it).  After katakana they are a
# long vowel (マイナンバー, ユーザー, コールセンター), and a dash there would hide the number that follows.
_LONG_VOWEL_AFTER_DIGIT = re.compile(r"(?<=\d)[ーｰ]")

# One separator between digit groups: a hyphen or a dot, with or without a blank on each side (dictated
# numbers come as "090 - 1234 - 5678"), or a lone blank.  Newlines are not separators: two numbers on two
# lines are two numbers.
_SEP = r"(?:[ \t]?[-.][ \t]?|[ \t])"
# Digits that continue a number on the left: a digit, a hyphen, or a digit and a dot (the middle of
# 2026.11.29 or 1.2.3).  A dot alone may precede a number ("TEL.03-1234-5678").
_NOT_AFTER_NUMBER = r"(?<![\d-])(?<!\d\.)"
_NOT_BEFORE_NUMBER = r"(?![\d-])(?!\.\d)"

# --- numbers ------------------------------------------------------------------------------------------------
_PHONE = re.compile(
    _NOT_AFTER_NUMBER
    + rf"(?:\+81{_SEP}?\(?0?\)?\d{{1,4}}(?:{_SEP}|\))?\d{{1,4}}{_SEP}?\d{{3,4}}"
    rf"|\(?0\d{{1,4}}\)?(?:{_SEP}|\()?\d{{1,4}}(?:{_SEP}|\))?\d{{3,4}})"
    + _NOT_BEFORE_NUMBER
)
_POSTAL = re.compile(r"〒\s?\d{3}-?\d{4}(?!\d)|(?<![\d-])\d{3}-\d{4}(?![\d-])")
_LONG_NUMBER = re.compile(_NOT_AFTER_NUMBER + rf"\d(?:{_SEP}?\d){{11,18}}(?!\d)(?!\.\d)")
_DIGIT_GROUPS = re.compile(r"\d+")
# A dot or a blank between digit groups is also how dates (2026.11.29), versions (1.2.3) and lists of
# numbers are written, so such numbers count only in the groupings that phone and card numbers are printed in.
_AMBIGUOUS_SEP = re.compile(r"[. \t]")
_MY_NUMBER_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

# --- street addresses ---------------------------------------------------------------------------------------
_PREFECTURE = (
    "(?:北海道|東京都|(?:大阪|京都)府|(?:青森|岩手|宮城|秋田|山形|福島|茨城|栃木|群馬|埼玉|千葉|神奈川|新潟|富山|石川|福井"
    "|山梨|長野|岐阜|静岡|愛知|三重|滋賀|兵庫|奈良|和歌山|鳥取|島根|岡山|広島|山口|徳島|香川|愛媛|高知|福岡|佐賀|長崎"
    "|熊本|大分|宮崎|鹿児島|沖縄)県)"
)
# Place names are kanji and katakana (ヶ丘, ノ町).  Hiragana is left out on purpose: it is where a sentence
# goes on (東京都練馬区から…), so an address never runs across a particle.
_PLACE = r"[\u4e00-\u9fff々〆ヶケヵァ-ヺー]"
_BLOCK = r"(?:\d{1,5}|[一二三四五六七八九十]{1,3})"
_ADDRESS = re.compile(
    # 都道府県 + 市区町村 (+ town), or a 政令市 ward (横浜市港北区) that is an address without its prefecture.
    rf"(?:{_PREFECTURE}\s?{_PLACE}{{1,10}}?[市区町村郡]|{_PLACE}{{1,4}}市{_PLACE}{{1,4}}区)"
    rf"{_PLACE}{{0,12}}?\s?"
    # The block number makes it an address rather than a place: 1-2-3, 1丁目2番3号, 123番地の4, 七丁目.
    rf"{_BLOCK}(?:丁目|番地?|号|-(?={_BLOCK}))(?:(?:の|-)?{_BLOCK}(?:丁目|番地?|号)?){{0,3}}(?!\d)"
)

@dataclass(frozen=True)
class PiiFinding:
    """A span ``[start, end)`` of the text holding personal data of ``type`` (one of PII_TYPES)."""

    type: str
    start: int
    end: int

    def to_dict(self) -> dict[str, object]:
        """The finding as JSON-ready data (no value, only type and offsets).

        >>> PiiFinding("phone", 0, 13).to_dict()
        {'type': 'phone', 'start': 0, 'end': 13}
        """
        return {"type": self.type, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Replacement:
    """One masked span: ``[start, end)`` in the original, ``[masked_start, masked_end)`` after."""

    type: str
    start: int
    end: int
    masked_start: int
    masked_end: int


@dataclass(frozen=True)
class MaskedText:
    """Text with PII replaced by typed placeholders, and the replacements made (in order)."""

    text: str
    mapping: tuple[Replacement, ...]


def luhn_ok(digits: str) -> bool:
    """Luhn check of a card number given as digits only.

    >>> luhn_ok("4111111111111111"), luhn_ok("4111111111111112")
    (True, False)
    """
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def my_number_ok(digits: str) -> bool:
    """Check digit of a 12-digit マイナンバー (総務省令第八十五号 第5条).

    >>> my_number_ok("123456789018"), my_number_ok("123456789012")
    (True, False)
    """
    if len(digits) != 12 or not digits.isdigit():
        return False
    r = sum(int(d) * w for d, w in zip(digits[:11], _MY_NUMBER_WEIGHTS)) % 11
    check = 0 if r <= 1 else 11 - r
    return int(digits[11]) == check


def _phone_ok(digits: str) -> bool:
    if digits.startswith("81"):
        national = digits[2:]
        # "+81 (0)90-…" keeps the trunk 0 in brackets; without it a national number has 9-10 digits.
        return 9 <= len(national[1:] if national.startswith("0") else national) <= 10
    if len(digits) == 11:
        return digits[:3] in ("070", "080", "090", "050", "020", "060") or digits.startswith("0800")
    return len(digits) == 10 and digits[1] != "0" or digits.startswith("0120")


def _phone_grouping_ok(groups: list[str]) -> bool:
    """Whether digit groups are laid out as a Japanese phone number is printed.

    A 10-digit number is area code + exchange (6 digits together) + 4 subscriber digits, or 0120/0570 in
    4-3-3; an 11-digit one is 3-4-4 (mobile, 050) or 4-3-4 (0800).

    >>> _phone_grouping_ok(["03", "1234", "5678"]), _phone_grouping_ok(["0120", "123", "456"])
    (True, True)
    >>> _phone_grouping_ok(["0123", "4567", "89"]), _phone_grouping_ok(["090", "12345678"])
    (False, False)
    """
    if len(groups) != 3:
        return False
    a, b, c = (len(g) for g in groups)
    if a + b + c == 11:
        return (a, b, c) in ((3, 4, 4), (4, 3, 4))
    return a + b + c == 10 and (c == 4 and a + b == 6 or (a, b, c) == (4, 3, 3))


def _card_grouping_ok(groups: list[str]) -> bool:
    """Whether digit groups are laid out as a card number or マイナンバー is printed: fours (the last may
    be shorter), or 4-6-5 / 4-6-4 (AMEX, Diners).

    >>> _card_grouping_ok(["5555", "5555", "5555", "4444"]), _card_grouping_ok(["3782", "822463", "10005"])
    (True, True)
    >>> _card_grouping_ok(["192", "168", "100", "200"])
    False
    """
    sizes = [len(g) for g in groups]
    if sizes in ([4, 6, 5], [4, 6, 4]):
        return True
    return len(sizes) >= 3 and all(n == 4 for n in sizes[:-1]) and 1 <= sizes[-1] <= 4


def _number_findings(
    folded: str, pattern: re.Pattern[str], classify: Callable[[str], str | None]
) -> list[PiiFinding]:
    """Findings of one number pattern, trying again one character on where a candidate is rejected.

    A rejected candidate must not hide a number that starts inside it: in "2026.11.29 4111 1111 1111 1111"
    the first candidate runs from the date into the card.  Each attempt reads at most one number's length
    (the patterns are bounded), so this stays linear in the text.

    >>> _number_findings("2026.11.29 4111 1111 1111 1111", _LONG_NUMBER, _classify_long_number)
    [PiiFinding(type='card', start=11, end=30)]
    >>> _number_findings("4111 1111 1111 1111 03 1234", _LONG_NUMBER, _classify_long_number)
    [PiiFinding(type='card', start=0, end=19)]
    """
    found: list[PiiFinding] = []
    pos = 0
    while (m := pattern.search(folded, pos)) is not None:
        candidate = m.group()
        # The longest candidate first, then the shorter ones that end before a blank: a card number can be
        # followed by another number (4111 1111 1111 1111 03 1234 5678), and the regex only gives the longest.
        ends = [len(candidate)] + [i for i in range(len(candidate) - 1, 0, -1)
                                   if candidate[i] in " \t" and candidate[i - 1].isdigit()]
        for end in ends:
            kind = classify(candidate[:end])
            if kind:
                found.append(PiiFinding(kind, m.start(), m.start() + end))
                pos = m.start() + end
                break
        else:
            pos = m.start() + 1
    return found


def _classify_long_number(candidate: str) -> str | None:
    """``"my_number"``, ``"card"`` or None for a 12-19 digit candidate.

    >>> _classify_long_number("5555.5555.5555.4444"), _classify_long_number("1234 5678 9018")
    ('card', 'my_number')
    >>> _classify_long_number("4111.111.111.111.111") is None  # a card number is not printed so
    True
    """
    groups = _DIGIT_GROUPS.findall(candidate)
    # Hyphens alone are unambiguous (a card typed 4111-1111-1111-1111 or split oddly); dots and blanks must
    # show the printed grouping.
    if _AMBIGUOUS_SEP.search(candidate) and not _card_grouping_ok(groups):
        return None
    digits = "".join(groups)
    if len(digits) == 12 and my_number_ok(digits):
        return "my_number"
    if 13 <= len(digits) <= 19 and luhn_ok(digits):
        return "card"
    return None


def _classify_phone(candidate: str) -> str | None:
    """``"phone"`` or None for a candidate phone number.

    >>> _classify_phone("090.1234.5678"), _classify_phone("090 - 1234 - 5678"), _classify_phone("03 1234 5678")
    ('phone', 'phone', 'phone')
    >>> _classify_phone("0312 3456 78") is None  # the digits of a landline, not its grouping
    True
    """
    groups = _DIGIT_GROUPS.findall(candidate)
    if not _phone_ok("".join(groups)):
        return None
    # +81 says phone by itself; otherwise a dot or blank must show a phone number's grouping.
    if not candidate.startswith("+") and _AMBIGUOUS_SEP.search(candidate) and not _phone_grouping_ok(groups):
        return None
    return "phone"


def _merge_overlaps(found: list[PiiFinding]) -> list[PiiFinding]:
    """Sort findings once and merge overlapping ones into a single span of the highest-priority type.

    Merging (not dropping the lower-priority one) leaves no part of either value unmasked.  One sort and one
    pass: each finding is compared with the last merged span only.

    >>> _merge_overlaps([PiiFinding("phone", 0, 13), PiiFinding("email", 0, 25), PiiFinding("name", 30, 32)])
    [PiiFinding(type='email', start=0, end=25), PiiFinding(type='name', start=30, end=32)]
    """
    def rank(kind: str) -> int:
        return _PRIORITY.get(kind, len(_PRIORITY))

    merged: list[PiiFinding] = []
    for f in sorted(found, key=lambda f: (f.start, rank(f.type))):
        last = merged[-1] if merged else None
        if last is None or f.start >= last.end:
            merged.append(f)
        else:  # on a tie min() keeps the earlier (merged) type
            merged[-1] = PiiFinding(min(last.type, f.type, key=rank), last.start, max(last.end, f.end))
    return merged


def find_pii(text: str) -> list[PiiFinding]:
    """Find mail addresses, phone numbers, postal codes, card numbers, マイナンバー, addresses and names.

    Overlapping findings merge into one span of the first type by priority (mail, マイナンバー, card, phone,
    postal code, address, name).

    >>> [f.type for f in find_pii("〒100-0001 090-1234-5678 4111 1111 1111 1111")]
    ['postal_code', 'phone', 'card']
    >>> find_pii("2026.11.29 10:15 1,234円 v1.2.3 注文番号 2026-1129-01")
    []
    """
    if not text:
        return []
    folded = _LONG_VOWEL_AFTER_DIGIT.sub("-", text.translate(_FOLD))
    found = [PiiFinding("email", start, end) for start, end in email_spans(folded)]
    found += _number_findings(folded, _LONG_NUMBER, _classify_long_number)
    found += _number_findings(folded, _PHONE, _classify_phone)
    found += [PiiFinding("postal_code", m.start(), m.end()) for m in _POSTAL.finditer(folded)]
    found += [PiiFinding("address", m.start(), m.end()) for m in _ADDRESS.finditer(folded)]
    found += [PiiFinding("name", start, end) for start, end in name_spans(folded)]
    return _merge_overlaps(found)


def mask_text(text: str, findings: list[PiiFinding] | None = None) -> MaskedText:
    """Replace each finding with its typed placeholder ([メール], [電話], ...).

    >>> m = mask_text("090-1234-5678に電話しろ")
    >>> m.text, m.mapping[0].end, m.mapping[0].masked_end
    ('[電話]に電話しろ', 13, 4)
    """
    if findings is None:
        findings = find_pii(text)
    parts: list[str] = []
    mapping: list[Replacement] = []
    pos = 0
    out_len = 0
    for f in sorted(findings, key=lambda f: f.start):
        if f.start < pos:
            continue  # overlapping input: the earlier span already covers it
        parts.append(text[pos : f.start])
        out_len += f.start - pos
        placeholder = PLACEHOLDERS.get(f.type, "[個人情報]")
        mapping.append(Replacement(f.type, f.start, f.end, out_len, out_len + len(placeholder)))
        parts.append(placeholder)
        out_len += len(placeholder)
        pos = f.end
    parts.append(text[pos:])
    return MaskedText("".join(parts), tuple(mapping))


def _remap(masked: MaskedText, pos: int, *, is_end: bool) -> int:
    reps = masked.mapping
    i = bisect_right([r.start for r in reps], pos) - 1
    if i >= 0:
        r = reps[i]
        if pos < r.end or (is_end and pos == r.end):
            # Inside a masked span: widen to the whole placeholder.
            if pos == r.start and is_end:
                return r.masked_start
            return r.masked_end if is_end else r.masked_start
        return r.masked_end + (pos - r.end)
    return pos


def remap_span(masked: MaskedText, start: int, end: int) -> tuple[int, int]:
    """Map an evidence span of the unmasked text to the masked text.

    A span that touches a masked value grows to cover the whole placeholder.

    >>> m = mask_text("090-1234-5678に電話しろ、ふざけるな")
    >>> s, e = remap_span(m, 19, 24)
    >>> m.text[s:e]
    'ふざけるな'
    """
    if start > end:
        raise ValueError(f"span start {start} is after its end {end}")
    return _remap(masked, start, is_end=False), _remap(masked, end, is_end=True)
