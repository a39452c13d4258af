"""Chat and call transcript turns: recognise speaker lines and tell our side from the customer.

Used by :mod:`kasuhara_nlp.segments` (transcripts pasted into one message) and by the chat reader
(transcript files).  One regex per line.

>>> match_turn("00:03:12 顧客: 責任者出せ").speaker
'顧客'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta, timezone
from typing import NamedTuple

from .forms import FORM_FIELD_LABEL

__all__ = ["Clock", "Turn", "match_turn", "speaker_kind", "split_lines"]

# Role names a transcript line may start with, without a time ("保護者：…", "職員：…"). Each service has its
# own words for the two sides (a school's 保護者 and 担任, a clinic's 患者 and 受付, a town hall's 来庁者 and
# 職員); a customer turn whose role is not known would be read as the continuation of the agent turn above it
# and never scored. Header fields of call memos (記録者, 対応者, 受付日時) are left out: they are not turns.
AGENT_ROLES = (
    "オペレーター", "オペレータ", "OP", "オペ", "担当者", "担当", "エージェント", "ボット", "スタッフ", "サポート",
    "店員", "窓口", "係員", "係", "相談員", "職員", "フロント", "店長", "教頭", "校長", "担任", "教員", "講師", "先生",
    "看護師", "医師", "薬剤師", "運転手", "ドライバー", "乗務員", "駅員", "局員", "司書", "管理会社", "管理人",
    "社員", "当方", "当店", "当院", "当館", "Agent", "Operator", "Bot",
)
CUSTOMER_ROLES = (
    "お客様", "お客さま", "顧客", "客", "利用者", "来店客", "来店者", "来庁者", "来場者", "来院者", "患者家族", "患者",
    "保護者", "生徒", "学生", "受講生", "会員", "入居者", "居住者", "住民", "市民", "区民", "契約者", "加入者",
    "申込者", "購入者", "相談者", "依頼者", "施主", "荷主", "乗客", "宿泊客", "旅行者", "飼い主", "組合員",
    "発信者", "先方", "取引先", "クライアント", "ユーザー", "Customer", "User", "Visitor",
)

_ROLES = "|".join(sorted(AGENT_ROLES + CUSTOMER_ROLES, key=len, reverse=True))  # longest first
# \d also matches full-width digits (１０：１５), so only the separators need their full-width forms.
_TIME = r"(?:午前|午後)?\d{1,2}[:：]\d{2}(?:[:：]\d{2})?(?:[.,]\d{1,6})?(?:\s?[AP]M)?"
# ISO 8601 stamps end in an offset (2025-03-04T10:15:02+09:00, …Z); it says which time zone the log is in.
_OFFSET = r"(?:Z|[+\-]\d{2}:?\d{2})?"
_DATE = (
    r"(?:\d{4}[/\-.／－．]\d{1,2}[/\-.／－．]\d{1,2}|\d{4}年\s*\d{1,2}月\s*\d{1,2}日)"
    r"(?:\s?[(（][^)）]{1,4}[)）])?"
)
# A date may be joined to the time by ISO's "T", by spaces, or by nothing after 日 (2025年3月4日10:15).
_STAMP = rf"(?:{_DATE}(?:T|\s*))?{_TIME}{_OFFSET}"
# A name never starts with a role word and a 「: that is a call memo (13:40 お客様「ふざけるな：土下座しろ」), whose quote
# may hold a colon; read as "name: body", the words before that colon would become the speaker.
_NAME = r"(?!(?:" + _ROLES + r")「)[^:：\t\n\]】]{1,24}?"
# The blanks around a name are taken whole (possessive): letting the name start inside them makes a line of n blanks
# cost n² steps (ReDoS).  A name then starts at its first non-blank; the one case where the engine used to give
# blanks back, a "name" that is only blanks ("[10:15]  ："), has an alternative of its own (groups b1-b3), which a
# lookahead for a blank the name allows (not a tab) keeps exactly as before.
_COLON = r"\s*+[:：]"
_BLANK_NAME = r"(?=\s*?[^\S\t\n])\s*+[:：]"
# A role word may carry who it is: お客様（山田）, 顧客A, 客2, User 1.  Only a bracketed note, a number or ONE capital
# letter (case-sensitive even under IGNORECASE): 顧客ID：, 客室：, お客様センター： stay the customer's own words.  A
# letter right after a Latin role word would make a word of it (OPS, UserX), so there it needs a blank (User A).
_QUALIFIER = r"(?:[(（][^)）:：\n]{1,20}[)）]|[ _]?[0-9０-９]{1,3}|(?:(?<=[^\x00-\x7f])|[ _])(?-i:[A-ZＡ-Ｚ]))"
# Speakers as diarisation (speech-to-text) names them, numbered: 話者2, Speaker 1, SPEAKER_00.  Which side each is
# cannot be told, so they are "unknown" and scored.
_DIARISED = r"(?:話者|発話者|発言者|スピーカー|Speaker)[ _]?(?:[0-9０-９]{1,2}|(?-i:[A-ZＡ-Ｚ]))"

TURN_RE = re.compile(
    "(?:"
    # [10:15] 山田: … / [2025/03/04 10:15:02] 山田：… / (10:15:02 AM) Visitor 12: …
    rf"[\[(（［]{_STAMP}[\])）］](?:(?P<b1>){_BLANK_NAME}|\s*+(?P<n1>{_NAME}){_COLON})"
    # 00:03:12 顧客: … / 2025/03/04 10:15 - 山田: … / 2025-03-04T10:15:02+09:00 山田: … / 2025年3月4日 10:15 山田: …
    rf"|{_STAMP}(?:\s(?P<b2>){_BLANK_NAME}"
    rf"|\s++(?:-\s(?P<b3>){_BLANK_NAME}|(?:-\s++)?(?P<n2>{_NAME}){_COLON}))"
    # LINE export: 10:15<TAB>名前<TAB>本文 (system lines have an empty name)
    rf"|{_TIME}\t(?P<n3>[^\t]*)\t"
    # 【担当】… / 【お客様】…
    r"|【(?P<n4>[^】]{1,15})】[:：]?"
    # role prefix without a time: 顧客: / お客様： / オペレーター: / 担当者： / 保護者： / 職員： / お客様（山田）： / 話者2：
    r"|(?P<n5>(?:" + _ROLES + rf"){_QUALIFIER}?|当社(?:[(（][^)）]{{1,10}}[)）])?|弊社(?:[(（][^)）]{{1,10}}[)）])?"
    rf"|{_DIARISED})\s*[:：]"
    # call memo style, the words in brackets: 15:30 来庁者「…」 / 職員「…」 / [2025/03/04 13:40] お客様「…」 (the
    # brackets stay in the body, and so does a colon inside them)
    rf"|(?:[\[(（［]{_STAMP}[\])）］]\s*|{_STAMP}\s*)?(?P<n6>" + _ROLES + r")(?=「)"
    r")[ \t\u3000]?",
    re.IGNORECASE,
)


def _inside_a_name(roles: tuple[str, ...]) -> str:
    # Role words that also mark a longer name (田中先生, 保護者A); short and Latin ones (客, 係, オペ, OP) only
    # count as the whole name, or Cooper would be staff.
    return "|".join(r for r in roles if len(r) > 2 or (len(r) == 2 and not r.isascii() and r != "オペ"))


# Speaker names that are our side (checked before the customer markers: お客様相談室 is us).
_AGENT_NAME = re.compile(
    r"^OP$|自動応答|相談室|当社|弊社|センター|support|staff|" + _inside_a_name(AGENT_ROLES),
    re.IGNORECASE,
)
_CUSTOMER_NAME = re.compile(r"お客|様$|さん$|" + _inside_a_name(CUSTOMER_ROLES), re.IGNORECASE)
# A role word and who it is (客A, 客（山田）, 係（佐藤）, OP2): the side of the role word, short ones included.
_QUALIFIED_ROLE = re.compile(rf"(?P<role>.+?){_QUALIFIER}", re.IGNORECASE)
# Lines of a transcript that belong to no one: LINE headers, save dates, date lines.
TRANSCRIPT_SYSTEM_RE = re.compile(
    r"\s*(?:\[LINE\].*+|保存日時\s*[:：].*+|" + _DATE + r"|\d{4}年\d{1,2}月\d{1,2}日(?:\s?[(（][^)）]{1,4}[)）])?)\s*$"
)
# The line ends editors and the CSV reader count: str.splitlines also splits on FF, VT, FS, NEL, U+2028…, which
# shifted every locator after one such character and cut a message in two.
_LINE_END = re.compile(r"\r\n|\r|\n")
# Words that show a "time name:" line is really a mail attribution, not a turn.
NOT_A_SPEAKER_RE = re.compile(r"書きました|wrote|のメッセージ|\s[<＜]|@")


def split_lines(text: str) -> list[str]:
    """The lines of a text, ended by LF, CRLF or CR only; like str.splitlines, no empty last line.

    >>> split_lines("a\\r\\nb\\x0cc\\rd\\n")
    ['a', 'b\\x0cc', 'd']
    """
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def speaker_kind(name: str) -> str:
    """Which side a transcript speaker label is on: "agent", "customer" or "unknown".

    Our-side markers win (お客様相談室 is us); bots count as agent.

    >>> speaker_kind("オペレーター"), speaker_kind("山田様"), speaker_kind("山田"), speaker_kind("客A"), speaker_kind("話者2")
    ('agent', 'customer', 'unknown', 'customer', 'unknown')
    """
    name = name.strip()
    if name in AGENT_ROLES:
        return "agent"
    if name in CUSTOMER_ROLES:
        return "customer"
    if _AGENT_NAME.search(name):
        return "agent"
    qualified = _QUALIFIED_ROLE.fullmatch(name)
    if qualified and qualified.group("role") in AGENT_ROLES + CUSTOMER_ROLES:
        return "agent" if qualified.group("role") in AGENT_ROLES else "customer"
    if _CUSTOMER_NAME.search(name):
        return "customer"
    return "unknown"


class Clock(NamedTuple):
    """A turn's time as shown: the date if any, seconds since midnight, and the offset if any."""

    date: date | None
    seconds: int
    has_seconds: bool
    tz: timezone | None


@dataclass(frozen=True)
class Turn:
    """A transcript line's speaker prefix: where the body starts, the speaker, the time shown (as text in
    one ASCII shape, and parsed as ``clock``; None when the prefix shows no valid time)."""

    prefix_end: int
    speaker: str
    time: str | None
    line_style: bool  # LINE export (tab separated)
    clock: Clock | None = field(default=None, repr=False, compare=False)


_TIME_IN_PREFIX = re.compile(
    r"(?:(?P<y>\d{4})[/\-.／－．年]\s*(?P<mo>\d{1,2})[/\-.／－．月]\s*(?P<d>\d{1,2})\D{0,6}?)?"
    r"(?P<ampm>午前|午後)?(?P<h>\d{1,2})[:：](?P<mi>\d{2})(?:[:：](?P<s>\d{2}))?(?:[.,]\d{1,6})?"
    r"(?:\s?(?P<ap>[AP]M))?(?P<tz>Z|[+\-]\d{2}:?\d{2})?",
    re.IGNORECASE,
)


def _shown_time(m: re.Match[str]) -> str:
    """The time of a turn prefix in one ASCII shape: ``[Y/M/D ][午前|午後]H:MM[:SS][ AM|PM][Z|±HH:MM]``.

    Logs write the same time many ways (ISO 8601, 2025年3月4日, full-width digits); readers parse one.
    """
    def ascii_digits(g: str) -> str:
        return unicodedata.normalize("NFKC", g)  # full-width digits to ASCII, leading zeros kept

    out = ""
    if m.group("y"):
        out = f"{ascii_digits(m.group('y'))}/{ascii_digits(m.group('mo'))}/{ascii_digits(m.group('d'))} "
    out += f"{m.group('ampm') or ''}{ascii_digits(m.group('h'))}:{ascii_digits(m.group('mi'))}"
    if m.group("s"):
        out += f":{ascii_digits(m.group('s'))}"
    if m.group("ap"):
        out += f" {m.group('ap').upper()}"
    tz = m.group("tz")
    if tz:
        out += "Z" if tz.upper() == "Z" else f"{tz[:3]}:{tz[-2:]}"
    return out


def _clock(m: re.Match[str]) -> Clock | None:
    """The parsed time of a turn prefix (None for an impossible date such as 2025/13/45, or an impossible UTC
    offset such as +99:00 or +09:60: the line is still a turn, without a time).

    >>> c = match_turn("[2025/3/4 10:15:02+09:00] 客: まだ").clock
    >>> c.date, c.seconds, c.has_seconds, c.tz.utcoffset(None)
    (datetime.date(2025, 3, 4), 36902, True, datetime.timedelta(seconds=32400))
    >>> match_turn("[午後１０：１５] 客: まだ").clock.seconds, match_turn("[2025/13/45 10:15] 客: まだ").clock
    (80100, None)
    >>> match_turn("2025-03-04T10:15:02+99:00 山田: まだ").clock is None
    True
    """
    hour = int(m.group("h"))  # int() reads full-width digits too
    ampm, ap = m.group("ampm"), (m.group("ap") or "").upper()
    if (ampm == "午後" or ap == "PM") and hour < 12:
        hour += 12
    if (ampm == "午前" or ap == "AM") and hour == 12:
        hour = 0
    tz, off = None, m.group("tz")
    if off and off.upper() == "Z":
        tz = timezone.utc
    elif off:
        digits = unicodedata.normalize("NFKC", off[1:]).replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4])
        if hours > 23 or minutes > 59:
            return None  # timezone() refuses a day or more; a 60th minute is no offset either
        tz = timezone((-1 if off.startswith("-") else 1) * timedelta(hours=hours, minutes=minutes))
    try:
        when = date(int(m.group("y")), int(m.group("mo")), int(m.group("d"))) if m.group("y") else None
    except ValueError:
        return None  # the line is still a turn, without a time
    seconds = int(m.group("s")) if m.group("s") else 0
    return Clock(when, hour * 3600 + int(m.group("mi")) * 60 + seconds, m.group("s") is not None, tz)


def match_turn(line: str) -> Turn | None:
    """Recognise a chat/call transcript turn line (the rules :func:`text_to_score` uses).

    >>> match_turn("[10:15] お客様：まだですか")
    Turn(prefix_end=12, speaker='お客様', time='10:15', line_style=False)
    >>> match_turn("ただの文") is None
    True
    """
    m = TURN_RE.match(line)
    if m is None:
        return None
    name = next((g for g in m.group("n1", "n2", "n3", "n4", "n5", "n6", "b1", "b2", "b3") if g is not None), "")
    if NOT_A_SPEAKER_RE.search(name):
        return None
    if m.group("n4") is not None and FORM_FIELD_LABEL.search(name):
        return None  # 【お名前】山田 太郎 is a form's field, not a speaker: its value is no turn of its own
    time = clock = None
    if m.group("n4") is None and m.group("n5") is None:
        t = _TIME_IN_PREFIX.search(line, 0, m.end())
        if t is not None:
            time, clock = _shown_time(t), _clock(t)
    return Turn(m.end(), name.strip(), time, m.group("n3") is not None, clock)
