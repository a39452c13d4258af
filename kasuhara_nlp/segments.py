"""Split a message body into what the customer newly wrote and everything else.

Mail bodies carry quoted history, forwarded mail and signatures; chat and call transcripts pasted
into one cell carry the agent's turns.  Only the customer's new words should be scored, but nothing
is ever deleted: :func:`text_to_score` labels every character of the original with a segment kind
(``new``, ``quoted``, ``signature``, ``forward``, ``system``, ``agent``) and builds the text to
score from the ``new`` segments, with a mapping back to the original offsets for evidence.

The rules are one regex pass per line plus a short resolution pass, because this runs on every
message.

>>> st = text_to_score("まだ届きません。\\n\\n> ご確認ください。\\n")
>>> st.text
'まだ届きません。\\n\\n'
>>> [(s.kind, s.start, s.end) for s in st.segments]
[('new', 0, 10), ('quoted', 10, 21)]
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from .forms import FORM_TEXT_FIELD, has_form_text_field_in
from .records import Segment
from .signatures import mark_signatures as _mark_signatures
from .turns import TRANSCRIPT_SYSTEM_RE, Turn, match_turn, speaker_kind

__all__ = ["ScoringText", "Turn", "match_turn", "speaker_kind", "text_to_score"]

# --- mail rules ------------------------------------------------------------------------------

# Quote prefixes.  `>From ` (any number of `>`) is an mbox escape of the customer's own line, not a
# quote, so it is excluded (mailbox does not undo the escaping on read).
_QUOTE = re.compile(r"[ \t\u3000]*(?!>+From )(?:>|＞|\||｜)")

# Attribution lines that open a quoted tail.
_ATTRIBUTION = re.compile(
    r"(?:"
    # Gmail-ja: 2025年3月4日(火) 10:15 山田 太郎 <taro@example.com>:
    r"\d{4}年\s*\d{1,2}月\s*\d{1,2}日\s*[(（][^)）]{1,4}[)）]\s*(?:\d{1,2}:\d{2}).*[:：]"
    # Gmail-ja without the weekday (newer Gmail, some locales): only with the sender's address, so that a
    # customer's "2026年10月31日 18:00 に電話した件:" is not taken for one.
    r"|\d{4}年\s*\d{1,2}月\s*\d{1,2}日\s*\d{1,2}:\d{2}\s.*<\s*[^<>\s](?=[^<>\s]*?@[^<>\s])[^<>\s]*+\s*>\s*[:：]"
    # Apple Mail-ja (macOS "のメッセージ", iOS "のメール"): 2025/03/04 10:15、山田 太郎 <taro@example.com>のメッセージ:
    r"|.*のメッセージ\s*[:：]"
    r"|.*\d{1,2}:\d{2}.*のメール\s*[:：]"
    # Thunderbird-ja / Evolution-ja: … さんは書きました:
    r"|.*(?:さん)?は書きました\s*[:：]"
    # Gmail-en / Thunderbird-en / many: On … wrote:  (2025/03/04 10:15), Taro wrote:
    r"|(?:On|Am|Le|El)\s.*(?:wrote|schrieb|a écrit|escribió)\s*:"
    r"|.*\bwrote\s*:"
    r")\s*$"
)
# Gmail-ja with the date alone (no weekday, no time): 2026年11月4日 サポート窓口 <support@example.jp>:
# Counted only when prefixed quotes follow, since a customer may write a dated line with an address.
_ATTRIBUTION_DATE_ONLY = re.compile(
    r"\d{4}年\s*\d{1,2}月\s*\d{1,2}日\s.*<\s*[^<>\s](?=[^<>\s]*?@[^<>\s])[^<>\s]*+\s*>\s*[:：]\s*$")
# The first half of an attribution that a mailer wrapped onto two lines.
_ATTRIBUTION_START = re.compile(r"(?:\d{4}年\s*\d{1,2}月\s*\d{1,2}日\s*(?:[(（]|\d{1,2}:\d{2}\s.*<)|On\s.*\d)")

# Separators after which everything is the quoted original (Outlook, older clients).
_QUOTE_SEPARATOR = re.compile(
    r"\s*(?:-{2,}\s*(?:Original Message|元のメッセージ|引用元メッセージ|オリジナルメッセージ)\s*-{2,}"
    r"|_{32,})\s*$",
    re.IGNORECASE,
)
_FORWARD_SEPARATOR = re.compile(
    r"\s*(?:-{2,}\s*(?:Forwarded message|転送メッセージ|転送されたメッセージ)\s*-{2,}"
    r"|Begin forwarded message\s*:|転送メッセージ(?:\s*[:：])?)\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"\s*(?:差出人|送信者|送信元|From)\s*[:：]", re.IGNORECASE)
_HEADER_OTHER = re.compile(
    r"\s*(?:送信日時|日時|日付|Sent|Date|宛先|To|CC|件名|Subject)\s*[:：]", re.IGNORECASE
)
# Web-form notifications use the same words (送信者：/日時：/件名：) for their fields, so a block
# opened by 送信者/送信元 counts as a quoted header only with a label that only mail headers carry.
_WEAK_FROM = re.compile(r"\s*(?:送信者|送信元)\s*[:：]")
_MAIL_ONLY_HEADER = re.compile(r"\s*(?:送信日時|日付|Sent|Date|宛先|To|CC)\s*[:：]", re.IGNORECASE)
_FORM_FIELD_SPAN = 12  # lines after a 送信者/差出人 line searched for a form's free-text field

_MOBILE_FOOTER = re.compile(
    r"\s*(?:(?:iPhone|iPad|Android|Galaxy|Xperia)\s?から送信"
    r"|Sent from my \w.*+|Sent from (?:Mail|Outlook) for .*+"
    r"|Outlook for (?:iOS|Android)\s?を入手|Get Outlook for (?:iOS|Android)"
    r"|(?:docomo|au|SoftBank|ソフトバンク)\s?(?:の)?(?:スマートフォン|携帯)?から送信)\s*$",
    re.IGNORECASE,
)
@dataclass(frozen=True)
class ScoringText:
    """The text to score, its segments, and a map from its offsets back to the original.

    ``fallback`` is True when no new text was found (only quotes, say) and ``text`` is therefore
    the whole original.  ``transcript`` is True when the body was read as a chat/call transcript.
    """

    original: str
    text: str
    segments: list[Segment]
    fallback: bool = False
    transcript: bool = False
    # (start in text, start in original, length) for each piece of ``text``, in order.
    _pieces: tuple[tuple[int, int, int], ...] = field(default=(), repr=False, compare=False)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span ``[start, end)`` of ``text`` to the span of ``original`` it came from.

        >>> st = text_to_score("> 引用\\nふざけるな\\n")
        >>> st.text, st.to_original(0, 5)
        ('ふざけるな\\n', (5, 10))
        """
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(
                f"span ({start}, {end}) is outside the scored text of length {len(self.text)}"
            )
        if not self._pieces:
            return start, end
        return self._map(start, is_end=False), self._map(end, is_end=True)

    def _map(self, pos: int, *, is_end: bool) -> int:
        starts = [p[0] for p in self._pieces]
        # An end offset belongs to the piece holding its last character.
        probe = pos - 1 if is_end and pos > 0 else pos
        i = max(bisect_right(starts, probe) - 1, 0)
        t0, o0, length = self._pieces[i]
        # Offsets inside an inserted separator map to the end of the piece before it.
        return o0 + min(pos - t0, length)


def _lines(text: str) -> list[tuple[int, str, int]]:
    """(start offset, content without line ending, end offset incl. line ending) per line."""
    out = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        content = raw.rstrip("\r\n")
        out.append((pos, content, pos + len(raw)))
        pos += len(raw)
    return out


def _is_header_block(lines: list[tuple[int, str, int]], i: int) -> bool:
    """A `差出人:`/`From:` line opens a header block only if another header line follows soon.

    A customer sentence such as "差出人：山田です" is therefore not a quote.  Nor is a web form's
    field block (`送信者：`/`日時：`/`件名：`, then `本文：`): it is what the customer wrote.
    """
    others = [lines[j][1] for j in range(i + 1, min(i + 4, len(lines))) if _HEADER_OTHER.match(lines[j][1])]
    if not others:
        return False
    if _WEAK_FROM.match(lines[i][1]) and not any(_MAIL_ONLY_HEADER.match(o) for o in others):
        return False
    # The form's fields run up to the first blank line; a quoted header block ends there too.
    limit = min(i + 1 + _FORM_FIELD_SPAN, len(lines))
    end = next((j for j in range(i + 1, limit) if not lines[j][1].strip()), limit)
    return not has_form_text_field_in(lines, i + 1, end)


def _mail_kinds(lines: list[tuple[int, str, int]]) -> list[str]:
    kinds = ["new"] * len(lines)
    n = len(lines)
    tail_from = n  # index where a quoted/forwarded tail starts
    tail_kind = "quoted"
    i = 0
    while i < n:
        content = lines[i][1]
        if not content.strip():
            i += 1
            continue
        if _FORWARD_SEPARATOR.match(content):
            tail_from, tail_kind = i, "forward"
            break
        if _QUOTE_SEPARATOR.match(content):
            tail_from = i
            break
        if _HEADER_FROM.match(content) and _is_header_block(lines, i):
            tail_from = i
            break
        attribution = bool(_ATTRIBUTION.match(content))
        span = 1
        if not attribution and i + 1 < n and _ATTRIBUTION_START.match(content):
            # Gmail wraps long attributions: "... 山田 <\ntaro@example.com>:".
            attribution = bool(_ATTRIBUTION.match(content + " " + lines[i + 1][1].strip()))
            span = 2
        dated_only = not attribution and bool(_ATTRIBUTION_DATE_ONLY.match(content))
        if attribution or dated_only:
            # Followed by prefixed quotes: later unprefixed lines are inline replies (new).
            # Otherwise (top-posting without prefixes) the rest is the quoted original.
            j = i + span
            while j < n and not lines[j][1].strip():
                j += 1
            if j < n and _QUOTE.match(lines[j][1]):
                for k in range(i, i + span):
                    kinds[k] = "quoted"
                i += span
                continue
            if attribution:
                tail_from = i
                break
        if _QUOTE.match(content):
            kinds[i] = "quoted"
        elif _MOBILE_FOOTER.match(content):
            kinds[i] = "signature"
        i += 1
    for k in range(tail_from, n):
        kinds[k] = tail_kind
    _mark_signatures(lines, kinds, tail_from)
    _smooth_blank_lines(lines, kinds)
    return kinds


def _smooth_blank_lines(lines: list[tuple[int, str, int]], kinds: list[str]) -> None:
    """Blank lines between two lines of one kind take that kind (fewer, longer segments)."""
    prev_kind = None
    run: list[int] = []
    for k, (_s, content, _e) in enumerate(lines):
        if not content.strip():
            run.append(k)
            continue
        if run and prev_kind is not None and kinds[k] == prev_kind:
            for m in run:
                kinds[m] = prev_kind
        run = []
        prev_kind = kinds[k]


def _is_transcript(turns: list[tuple[int, int, str]], timed: int) -> bool:
    """Two turns or more, and either two timed ones or two speakers."""
    return len(turns) >= 2 and (timed >= 2 or len({t[2] for t in turns}) >= 2)


def _transcript_segments(
    lines: list[tuple[int, str, int]],
) -> list[tuple[str, int, int]] | None:
    """Segments of a chat/call transcript, or None when the text is not one."""
    turns: list[tuple[int, int, str]] = []  # (line index, end of prefix, speaker)
    timed = 0
    field_lines: set[int] = set()  # turns that are a form's free-text field (【ご用件】返品について)
    for i, (_start, content, _end) in enumerate(lines):
        turn = match_turn(content)
        if turn is None:
            continue
        timed += turn.time is not None
        turns.append((i, turn.prefix_end, turn.speaker))
        if turn.time is None and FORM_TEXT_FIELD.match(content):
            field_lines.add(i)
    if not _is_transcript(turns, timed):
        return None
    speakers = {t[2] for t in turns}
    roles = {s: speaker_kind(s) for s in speakers}
    # Only when some speaker is recognisably our side can the others be told apart from it.
    has_agent = any(r == "agent" for r in roles.values())
    if has_agent and not _is_transcript([t for t in turns if t[0] not in field_lines], timed):
        # A B2B mail's fields (【ご用件】返品について / 【担当】佐藤様) are no dialogue: without the free-text
        # field there are not two speakers, and the customer's words after 【担当】 are not the agent's turn.
        return None
    out: list[tuple[str, int, int]] = []
    turn_at = {t[0]: t for t in turns}
    body_kind = "new"
    for i, (start, content, end) in enumerate(lines):
        turn = turn_at.get(i)
        if turn is not None:
            _, prefix_end, name = turn
            if name == "" and "\t" in content:
                body_kind = "system"  # LINE system line (joins, unsent messages)
            elif has_agent and roles[name] == "agent":
                body_kind = "agent"
            else:
                body_kind = "new"
            out.append(("system", start, start + prefix_end))
            out.append((body_kind, start + prefix_end, end))
        elif (TRANSCRIPT_SYSTEM_RE.match(content) and content.strip()) or (
            not content.strip() and i < turns[0][0]
        ):
            out.append(("system", start, end))
        else:
            # A continuation line belongs to the turn above (text before any turn is new).
            out.append((body_kind, start, end))
    return out


def _merge(spans: list[tuple[str, int, int]]) -> list[Segment]:
    segments: list[Segment] = []
    for kind, start, end in spans:
        if end <= start:
            continue
        if segments and segments[-1].kind == kind and segments[-1].end == start:
            segments[-1] = Segment(kind, segments[-1].start, end)
        else:
            segments.append(Segment(kind, start, end))
    return segments


def text_to_score(text: str) -> ScoringText:
    """Segment ``text`` and join its ``new`` segments into the text to score.

    Every character of ``text`` lies in exactly one segment.  When nothing new is left, ``text`` is the whole original and
    ``fallback`` is True.

    >>> st = text_to_score("返金しろ。\\n\\n-- \\n山田太郎\\nTEL 03-1234-5678\\n")
    >>> st.text, [s.kind for s in st.segments]
    ('返金しろ。\\n\\n', ['new', 'signature'])
    >>> text_to_score("> 引用だけ").fallback
    True
    """
    lines = _lines(text)
    spans = _transcript_segments(lines)
    transcript = spans is not None
    if spans is None:
        kinds = _mail_kinds(lines)
        spans = [(kind, start, end) for kind, (start, _c, end) in zip(kinds, lines)]
    segments = _merge(spans)
    pieces: list[tuple[int, int, int]] = []
    parts: list[str] = []
    pos = 0
    for seg in segments:
        if seg.kind != "new":
            continue
        chunk = text[seg.start : seg.end]
        if parts and not parts[-1].endswith(("\n", "\r")):
            # Keep words of separate turns apart; the separator maps to the piece before it.
            parts.append("\n")
            pos += 1
        pieces.append((pos, seg.start, len(chunk)))
        parts.append(chunk)
        pos += len(chunk)
    joined = "".join(parts)
    if not joined.strip():
        return ScoringText(text, text, segments, fallback=bool(text.strip()), transcript=transcript)
    return ScoringText(text, joined, segments, transcript=transcript, _pieces=tuple(pieces))
