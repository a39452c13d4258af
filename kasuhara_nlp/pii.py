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

# --- mail ---------------------------------------------------------------------------------------------------
# The at-sign and its spelled-out forms ([at], (at), アットマーク; ＠ and ［at］ fold to these).  The local part and
# the domain are read outwards from each one, so the work is linear in the text: a regex with a Unicode local
# part would be retried from every character of a long Japanese text.
_AT = re.compile(r"\s?(?:@|\(at\)|\[at\]|アットマーク)\s?", re.IGNORECASE)
_ASCII_LOCAL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-")
_LOCAL_MAX = 64  # RFC 5321: a local part holds at most 64 octets
# Domain labels may be IDN (例え.jp, 会社.日本); the last label ends at the first character of another script,
# which is where Japanese text runs on (例え.jpまで, 例え.テストに).
_DOT = r"(?:\.|\s?(?:\[dot\]|\(dot\)|ドット)\s?)"
# Labels are bounded as in DNS (63 characters, and here 8 labels before the last): Japanese text is all \w,
# and an unbounded label would be read to the end of the text from every at-sign in it.
_DOMAIN = re.compile(
    rf"(?:[\w-]{{1,63}}{_DOT}){{1,8}}(?:[A-Za-z0-9-]{{1,63}}|[ァ-ヺー]{{1,63}}|[\u4e00-\u9fff々]{{1,63}})",
    re.IGNORECASE,
)

# --- numbers ------------------------------------------------------------------------------------------------
_PHONE = re.compile(
    _NOT_AFTER_NUMBER
    + rf"(?:\+81{_SEP}?\(?0?\)?\d{{1,4}}(?:{_SEP}|\))?\d{{1,4}}{_SEP}?\d{{3,4}}"
    rf"|\(?0\d{{1,4}}\)?(?:{_SEP}|\()?\d{{1,4}}(?:{_SEP}|\))?\d{{3,4}})"
    + _NOT_BEFORE_NUMBER
)
_POSTAL = re.compile(r"〒\s?\d{3}-?\d{4}(?!\d)|(?<![\d-])\d{3}-\d{4}(?![\d-])")
_LONG_NUMBER = re.compile(_NOT_AFTER_NUMBER + rf"\d(?:{_SEP}?\d){{11,18}}(?!\d)(?!\.\d)")
_DIGITS = re.compile(r"\d")
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

# --- names --------------------------------------------------------------------------------------------------
# Common surnames (the most frequent few hundred; spelling variants included).  A name is masked only as one
# of these before an honorific: an open pattern (any kanji before 様/さん) would mask the roles customers
# name far more often (お客様, 担当者様, 店員さん, 運転手さん, 皆様).  Given names alone and names written in
# kana are not found.
_SURNAMES = (
    "佐藤 鈴木 高橋 髙橋 田中 伊藤 渡辺 渡邊 渡邉 渡部 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 林 斎藤 斉藤"
    " 齋藤 齊藤 清水 山崎 森 池田 橋本 阿部 石川 山下 中島 石井 小川 前田 岡田 長谷川 藤田 後藤 近藤 村上 遠藤 青木 坂本"
    " 福田 太田 西村 藤井 金子 岡本 藤原 中野 三浦 原田 中川 松田 竹内 小野 田村 中山 和田 石田 森田 上田 原 柴田 酒井"
    " 工藤 横山 宮崎 宮本 内田 高木 安藤 島田 谷口 大野 高田 丸山 今井 河野 藤本 村田 武田 上野 杉山 増田 小山 大塚"
    " 平野 菅原 久保 松井 千葉 岩崎 桜井 櫻井 木下 野口 松尾 菊地 菊池 野村 新井 佐野 杉本 古川 大西 浜田 濱田 市川 小松"
    " 水野 西田 北村 五十嵐 安田 中西 川口 平田 川崎 飯田 吉川 本田 久保田 沢田 澤田 辻 関 吉村 岩田 中谷 服部 樋口"
    " 福島 川上 永井 松岡 田口 山中 森本 土屋 矢野 広瀬 秋山 石原 松下 大橋 松浦 吉岡 小池 馬場 浅野 荒木 大久保 野田"
    " 小沢 小澤 田辺 川村 星野 黒田 堀 尾崎 望月 永田 熊谷 内藤 松村 西川 大島 岡崎 平井 早川 榎本 片山 須藤 細川 川田"
    " 北川 中田 白石 小西 西山 関口 今村 小島 坂口 宮田 若林 植田 石橋 大石 桑原 上原 大川 小野寺 遠山 原口 堀内 竹田"
    " 宮下 長田 大森 高野 小田 菅野 荒井 西尾 小森 大谷 松原 岩本 内山 武藤 大竹 吉野 安達 宮内 宮川 野崎"
    " 岩井 堀田 今野 香川 稲葉 奥村 青山 石黒 根本 川本 田島 中尾 三宅 大山 長尾 宇野 千田 中井 松永 田代"
    " 梅田 福井 小倉 横田 萩原 新田 本間 沢井 吉井 秋元 北島 岸本 金井 米田 水谷 山内 成田 江口 富田"
    " 岡部 神田 笠原 篠原 久保木 福本 村井 奥田 栗原 河合 川島 三上 石山 大沢 大澤 安部 亀井 古田 真田 浅井 牧野"
    " 森川 高山 赤木 赤坂 黒木 白井 坂井 坂田 滝沢 瀧澤 田原 長島 中原 松山 戸田 前川 高井 藤川 横井 竹中 石塚 北野"
).split()
# One-kanji surnames also end place and company words (雑木林, 青森, 高原, 玄関), so they count only alone
# before the honorific, and the longer ones take no given name after them.
_LONG_SURNAMES = frozenset(s for s in _SURNAMES if len(s) > 1)
_SHORT_SURNAMES = frozenset(s for s in _SURNAMES if len(s) == 1)
_HONORIFIC = re.compile(r"\s?(?:様|さま|さん|殿|氏|先生|くん|君|ちゃん)")
_NAME_RUN_MAX = 11  # a 3-kanji surname, a blank and a 6-katakana given name (or a 4-kanji title)
_GIVEN = re.compile(r" ?(?:[\u4e00-\u9fff々]{1,4}|[ァ-ヺー]{2,6})")
# A kanji run ending in a unit of an organisation is a branch (千葉店様, 中野支社さん), not a person.
_ORG_UNIT = frozenset("店所部課社局署院園館係室")


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


def _is_local_char(ch: str, *, unicode_local: bool) -> bool:
    if ch in _ASCII_LOCAL:
        return True
    return unicode_local and ch.isalnum()


def _email_findings(folded: str) -> list[PiiFinding]:
    """Mail addresses, read outwards from each at-sign.

    The local part is ASCII when an ASCII character stands before the at-sign, so Japanese running into it
    stays outside (メールはtaro@example.com).  Otherwise it is an internationalised local part (山田@例え.jp),
    kept to one script run: kanji and katakana, or hiragana, so that a particle before it (連絡先は山田@…)
    ends it.

    >>> [(f.start, f.end) for f in _email_findings("連絡先は山田@例え.jp まで")]
    [(4, 12)]
    """
    found: list[PiiFinding] = []
    last_end = 0
    for at in _AT.finditer(folded):
        if at.start() < last_end:
            continue  # inside the previous address's domain
        domain = _DOMAIN.match(folded, at.end())
        if domain is None:
            continue
        start = at.start()
        # Only an address typed as one word has a Unicode local part: before "お問い合わせ @example.com" the
        # Japanese is a sentence, not a mailbox.
        unicode_local = start > 0 and not folded[start - 1].isascii() and not at.group()[0].isspace()
        hiragana = unicode_local and "\u3041" <= folded[start - 1] <= "\u309f"
        floor = max(last_end, start - _LOCAL_MAX)
        while start > floor and _is_local_char(folded[start - 1], unicode_local=unicode_local):
            if unicode_local and ("\u3041" <= folded[start - 1] <= "\u309f") != hiragana:
                break
            start -= 1
        # An ASCII local part starts with a letter or digit, not with the dot or hyphen of a preceding word.
        while start < at.start() and not folded[start].isalnum():
            start += 1
        if start == at.start():
            continue
        found.append(PiiFinding("email", start, domain.end()))
        last_end = domain.end()
    return found


def _is_word_char(ch: str) -> bool:
    """Kanji or katakana: the characters a name (or the word it is part of) is written in."""
    return len(ch) == 1 and ("\u4e00" <= ch <= "\u9fff" or ch == "々" or "ァ" <= ch <= "ヺ" or ch == "ー")


def _is_name_char(ch: str) -> bool:
    return _is_word_char(ch) or ch == " "  # 山田 太郎 様


def _name_findings(folded: str) -> list[PiiFinding]:
    """Common surnames (with a given name or title after them) right before an honorific.

    Read backwards from each honorific over at most a few characters, with set look-ups, so the work is
    linear in the text whatever it holds.

    >>> [folded[f.start:f.end] for folded in ["担当の佐藤花子様と田中さん、お客様"] for f in _name_findings(folded)]
    ['佐藤花子', '田中']
    """
    found: list[PiiFinding] = []
    last_end = 0
    for hon in _HONORIFIC.finditer(folded):
        end = hon.start()
        start = end
        while start > max(last_end, end - _NAME_RUN_MAX) and _is_name_char(folded[start - 1]):
            start -= 1
        run = folded[start:end]
        for i in range(len(run)):  # leftmost surname first, so a given name after it is masked with it
            rest = None
            for n in (3, 2):
                if run[i : i + n] in _LONG_SURNAMES:
                    rest = run[i + n :]
                    if not rest or (_GIVEN.fullmatch(rest) and rest[-1] not in _ORG_UNIT):
                        break
                    rest = None
            if rest is None and run[i:] in _SHORT_SURNAMES and not _is_word_char(folded[start + i - 1 : start + i]):
                rest = ""  # a one-kanji surname only as a word of its own: not the end of 青森 or 高原
            if rest is not None:
                found.append(PiiFinding("name", start + i, end))
                last_end = end
                break
    return found


def _merge_overlaps(found: list[PiiFinding]) -> list[PiiFinding]:
    """Sort findings once and merge overlapping ones into a single span of the highest-priority type.

    Merging (not dropping the lower-priority one) leaves no part of either value unmasked.  One sort and one
    pass: each finding is compared with the last merged span only.

    >>> _merge_overlaps([PiiFinding("phone", 0, 13), PiiFinding("email", 0, 25), PiiFinding("name", 30, 32)])
    [PiiFinding(type='email', start=0, end=25), PiiFinding(type='name', start=30, end=32)]
    """
    merged: list[PiiFinding] = []
    for f in sorted(found, key=lambda f: (f.start, _PRIORITY.get(f.type, len(_PRIORITY)))):
        last = merged[-1] if merged else None
        if last is None or f.start >= last.end:
            merged.append(f)
        elif f.end > last.end or _PRIORITY.get(f.type, len(_PRIORITY)) < _PRIORITY.get(last.type, len(_PRIORITY)):
            kind = min(last.type, f.type, key=lambda t: _PRIORITY.get(t, len(_PRIORITY)))
            merged[-1] = PiiFinding(kind, last.start, max(last.end, f.end))
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
    found = _email_findings(folded)
    found += _number_findings(folded, _LONG_NUMBER, _classify_long_number)
    found += _number_findings(folded, _PHONE, _classify_phone)
    found += [PiiFinding("postal_code", m.start(), m.end()) for m in _POSTAL.finditer(folded)]
    found += [PiiFinding("address", m.start(), m.end()) for m in _ADDRESS.finditer(folded)]
    found += _name_findings(folded)
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
