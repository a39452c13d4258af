"""Find and mask personal data in Japanese customer text: mail, phone, postal code, card, マイナンバー.

Findings carry types and offsets only, never the value, so they can be stored and logged.
Detection runs on a one-to-one NFKC subset of the text (full-width ASCII, dashes, ideographic
space), which keeps every offset valid in the original.

>>> find_pii("TEL：０３－１２３４－５６７８")
[PiiFinding(type='phone', start=4, end=16)]
>>> mask_text("連絡先 yamada@example.com まで").text
'連絡先 [メール] まで'
"""

from __future__ import annotations

import re
from bisect import bisect_right
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

#: Placeholders written in place of each type of finding.
PLACEHOLDERS = {
    "email": "[メール]",
    "phone": "[電話]",
    "postal_code": "[郵便番号]",
    "card": "[カード]",
    "my_number": "[マイナンバー]",
}
PII_TYPES = tuple(PLACEHOLDERS)

# One-to-one NFKC subset: the characters NFKC folds that matter for these patterns, each to one
# character, so offsets in the folded text are offsets in the original.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}  # full-width ASCII -> ASCII
_FOLD.update({ord(c): "-" for c in "－―‐‑‒–—−"})
_FOLD[0x3000] = " "
# ー and ｰ are dashes only after a digit (090ー1234ー5678, as an IME types it).  After katakana they are a
# long vowel (マイナンバー, ユーザー, コールセンター), and a dash there would hide the number that follows.
_LONG_VOWEL_AFTER_DIGIT = re.compile(r"(?<=\d)[ーｰ]")

# The look-behinds name ASCII classes: \w would also match kana and kanji, and Japanese runs straight into an
# address (メールはtaro@example.com) with no space.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*\s?(?:@|\(at\)|\[at\]|アットマーク)\s?"
    r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+",
    re.IGNORECASE,
)
_PHONE = re.compile(
    r"(?<![\d-])(?:\+81[-\s]?\(?0?\)?\d{1,4}[-\s)]?\d{1,4}[-\s]?\d{3,4}"
    r"|\(?0\d{1,4}\)?[-\s(]?\d{1,4}[-\s)]?\d{3,4})(?![\d-])"
)
_POSTAL = re.compile(r"〒\s?\d{3}-?\d{4}(?!\d)|(?<![\d-])\d{3}-\d{4}(?![\d-])")
_LONG_NUMBER = re.compile(r"(?<![\d-])\d(?:[ -]?\d){11,18}(?![\d])")
_DIGITS = re.compile(r"\d")
_MY_NUMBER_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


@dataclass(frozen=True)
class PiiFinding:
    """A span ``[start, end)`` of the text holding personal data of ``type`` (one of PII_TYPES)."""

    type: str
    start: int
    end: int

    def to_dict(self) -> dict[str, object]:
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


def find_pii(text: str) -> list[PiiFinding]:
    """Find mail addresses, Japanese phone numbers, postal codes, card numbers and マイナンバー.

    Overlapping findings keep the first by priority (mail, マイナンバー, card, phone, postal code).

    >>> [f.type for f in find_pii("〒100-0001 090-1234-5678 4111 1111 1111 1111")]
    ['postal_code', 'phone', 'card']
    """
    if not text:
        return []
    folded = _LONG_VOWEL_AFTER_DIGIT.sub("-", text.translate(_FOLD))
    found: list[PiiFinding] = []
    for m in _EMAIL.finditer(folded):
        found.append(PiiFinding("email", m.start(), m.end()))
    for m in _LONG_NUMBER.finditer(folded):
        digits = "".join(_DIGITS.findall(m.group()))
        if len(digits) == 12 and my_number_ok(digits):
            found.append(PiiFinding("my_number", m.start(), m.end()))
        elif 13 <= len(digits) <= 19 and luhn_ok(digits):
            found.append(PiiFinding("card", m.start(), m.end()))
    for m in _PHONE.finditer(folded):
        if _phone_ok("".join(_DIGITS.findall(m.group()))):
            found.append(PiiFinding("phone", m.start(), m.end()))
    for m in _POSTAL.finditer(folded):
        found.append(PiiFinding("postal_code", m.start(), m.end()))
    # Keep the earlier-found (higher-priority) finding when spans overlap.
    kept: list[PiiFinding] = []
    for f in found:
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)


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
