"""Mail addresses in customer text, read outwards from each at-sign: ASCII and Japanese local parts and domains,
and the spelled-out forms ([at], (at), アットマーク, [dot], (dot), ドット).  Used by :mod:`.pii` (``[メール]``).
"""

from __future__ import annotations

import re

__all__ = ["email_spans"]

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


def _is_local_char(ch: str, *, unicode_local: bool) -> bool:
    if ch in _ASCII_LOCAL:
        return True
    return unicode_local and ch.isalnum()


def email_spans(folded: str) -> list[tuple[int, int]]:
    """Mail addresses, read outwards from each at-sign.

    The local part is ASCII when an ASCII character stands before the at-sign, so Japanese running into it
    stays outside (メールはtaro@example.com).  Otherwise it is an internationalised local part (山田@例え.jp),
    kept to one script run: kanji and katakana, or hiragana, so that a particle before it (連絡先は山田@…)
    ends it.

    >>> email_spans("連絡先は山田@例え.jp まで")
    [(4, 12)]
    """
    found: list[tuple[int, int]] = []
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
        found.append((start, domain.end()))
        last_end = domain.end()
    return found
