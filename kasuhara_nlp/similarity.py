"""How alike two customer requests are: the test behind the ``repeated_demand`` conversation signal.

A request is compared without the sentences that wrap every business message (greetings, closings,
signatures), and two requests count as the same only when both their wording and their subject match.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .errors import ConfigError
from .records import MessageRecord

__all__ = ["RequestProfile", "char_ngram_similarity", "customer_words", "profile_similarity", "request_profile",
           "request_similarity", "request_text"]

# Sentences that wrap every business message (greetings, self-introductions, thanks, closings, signature
# lines): two different questions sharing them are not a repeated request, so they are not compared.
_BOILERPLATE = re.compile(
    r"(?:いつも|大変|本当に|誠に)*(?:お世話になって(?:おり|い)ます|お世話になります|お世話様です|お疲れ様です|お疲れさまです)"
    r"|.{0,20}ありがとうございま(?:す|した)|はじめまして|初めまして|初めてご連絡(?:いた|致)します"
    r"|(?:突然の|夜分遅くに|夜分に?)?(?:ご連絡)?失礼(?:いた|致)します|.{0,30}(?:と申します|でございます)"
    r"|.{0,30}(?:株式会社|有限会社|合同会社|㈱|\(株\)).{0,30}です|.{0,20}(?:御中|ご?担当者?(?:様|さま))"
    r"|(?:以上|引き続き|今後とも|何卒|なにとぞ|どうぞ|お手数(?:です|をおかけします)が|恐れ入りますが"
    r"|ご(?:確認|検討|対応|回答|返信|連絡)(?:の?ほど|を)?|[、,\s])*(?:よろしく|宜しく)お願い(?:(?:いた|致)?します|申し上げます)"
    r"|(?:ご返信|ご回答|ご連絡|お返事)を?お待ちして(?:おり|い)ます|以上(?:です|となります)?|拝啓|前略|敬具|草々"
    r"|[-=_─━*・.]{2,}.*|(?:tel|fax|e-?mail|mail)\s*:.*|〒.*",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"\n|(?<=[。！？!?])")
# What a request is about: kanji runs (as character pairs), katakana words and Latin/digit tokens.  The
# kanji of request formulas (教えて, お願い, 頂く, 下さい, 伺う…) say nothing about the subject.
_CONTENT = re.compile(r"[\u3400-\u9fff々]+|[\u30a1-\u30fa\u30fc]+|[A-Za-z0-9]+")
_FORMULA_KANJI = frozenset("教願頂致下伺申存様御宜")


def char_ngram_similarity(a: str, b: str, n: int = 2) -> float:
    """Dice similarity of the character n-gram sets of two texts (whitespace ignored).

    >>> round(char_ngram_similarity("返金してください", "早く返金してください"), 2)
    0.88
    """
    ga, gb = _char_ngrams(a, n), _char_ngrams(b, n)
    return _dice(ga, gb) if ga and gb else 0.0


def _char_ngrams(text: str, n: int) -> frozenset[str]:
    """The character n-grams of ``text`` without its whitespace; a text shorter than n is its own one gram,
    and a blank text has none."""
    text = "".join(text.split())
    if not text:
        return frozenset()
    return frozenset(text[i : i + n] for i in range(max(len(text) - n + 1, 1)))


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice coefficient of two sets, not both empty."""
    return 2 * len(a & b) / (len(a) + len(b))


def customer_words(record: MessageRecord) -> str | None:
    """The words a request is compared on: the text to score, or the body when none was made."""
    return record.text_to_score if record.text_to_score is not None else record.body_text


def request_text(record: MessageRecord) -> str:
    """A customer message without its greeting, closing and signature sentences (see ``_BOILERPLATE``)."""
    text = customer_words(record)
    kept = (s.strip() for s in _SENTENCE.split(unicodedata.normalize("NFKC", text or "")))
    return "".join(s for s in kept if s and not _BOILERPLATE.fullmatch(s.rstrip("。.!?、 ")))


def _subject(text: str) -> set[str]:
    """The content tokens of a request (see ``_CONTENT``)."""
    out: set[str] = set()
    for run in _CONTENT.findall(text):
        if len(run) > 1 and "\u3400" <= run[0] <= "\u9fff":
            out.update(run[i : i + 2] for i in range(len(run) - 1))
        elif run not in _FORMULA_KANJI:
            out.add(run)
    return out


@dataclass(frozen=True)
class RequestProfile:
    """What one request is compared on, built once per message by :func:`request_profile`.

    A conversation compares each customer request with every earlier answered one; building both sets
    once per message leaves only the set intersections to each pair, instead of rebuilding the earlier
    request's sets for every later message.

    Attributes:
        ngrams: character n-grams of the request, whitespace ignored (empty for a blank request).
        subject: its content tokens (see ``_CONTENT``).
        n: the n of ``ngrams``; only profiles of the same n compare.
    """

    ngrams: frozenset[str]
    subject: frozenset[str]
    n: int


def request_profile(text: str, n: int = 2) -> RequestProfile:
    """The profile of a request text (usually :func:`request_text`), to compare with :func:`profile_similarity`.

    >>> p = request_profile("全額返金してください")
    >>> sorted(p.subject), len(p.ngrams), p.n
    (['全額', '返金', '額返'], 9, 2)
    """
    return RequestProfile(ngrams=_char_ngrams(text, n), subject=frozenset(_subject(text)), n=n)


def profile_similarity(a: RequestProfile, b: RequestProfile) -> float:
    """:func:`request_similarity` of the two texts the profiles were built from.

    >>> profile_similarity(request_profile("全額返金してください"), request_profile("だから全額返金してください")) >= 0.6
    True

    Raises:
        ConfigError: the profiles were built with different n.
    """
    if a.n != b.n:
        raise ConfigError(f"request profiles built with n={a.n} and n={b.n} do not compare; "
                          "build both with the same n (ConversationConfig.ngram)")
    wording = _dice(a.ngrams, b.ngrams) if a.ngrams and b.ngrams else 0.0
    subject = _dice(a.subject, b.subject) if a.subject or b.subject else 1.0
    return min(wording, subject)


def request_similarity(a: str, b: str, n: int = 2) -> float:
    """The lower of the wording similarity (character n-grams) and the subject similarity (Dice of
    ``_subject``): wording alone rates 納期について教えていただけますでしょうか and 料金について… 0.89,
    but a shared polite tail is not the same request.  To compare one text with many, build each
    :func:`request_profile` once and use :func:`profile_similarity`.

    >>> request_similarity("全額返金してください", "だから全額返金してください", 2) >= 0.6
    True
    >>> request_similarity("納期について教えてください", "料金について教えてください", 2)
    0.0
    """
    return profile_similarity(request_profile(a, n), request_profile(b, n))
