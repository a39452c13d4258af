"""Chat and call transcripts: LINE talk-history .txt and `[HH:MM] 名前: 本文` styles (JSON turn lists: chat_json.py).

A transcript yields one record per turn, sharing a conversation id (from the file's path, see
:func:`file_id`), numbered by ``sequence``.  Agent and bot turns are kept (for context) with status
"not_scored".  A time earlier than the previous one with no date line in between is a day rollover
(flagged in ``extra``).  Times without a date line get no timestamp (none is invented), but
``extra["elapsed_seconds"]`` since the first shown time, so a chat still has a duration.  Times are
Japan time unless the source says otherwise.

>>> recs = list(parse_transcript("[10:15] お客様：まだですか\\n[10:16] オペレーター：確認します\\n", source_file="t.txt"))
>>> [(r.sequence, r.author_role, r.body_text, r.status) for r in recs]
[(1, 'customer', 'まだですか', 'ok'), (2, 'agent', '確認します', 'not_scored')]
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from ..records import MessageRecord
from ..segments import match_turn, speaker_kind
from ..turns import split_lines
from .common import MAX_MESSAGE_BYTES, finish_record
from .streams import decode_whole
from .timestamps import TimePair, to_iso_pair

__all__ = ["file_id", "parse_transcript", "read_chat_text", "read_text_file"]

# No two unbounded blank runs may meet with only optional text between them (``\s*(?:X)?\s*``): on a line of
# n blanks the engine tries every split of them, n² steps (tests/test_readers_regex.py checks the shape).
_DATE_LINE = re.compile(
    r"\s*(?:(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})|(\d{4})年\s*(\d{1,2})月\s*(\d{1,2})日)"
    r"\s*(?:(?:[(（][^)）]{1,4}[)）]|[月火水木金土日]曜日?|\w{3}day)\s*)?$"
)
#: decode_warnings of a turn whose line shows a time that is on no calendar (+99:00, 0001/01/01 00:00 JST).
TIME_UNREADABLE = "turn-time-unreadable"
_LINE_HEADER = re.compile(r"\s*\[LINE\]\s*+(.*?)(?:との|の)?トーク履歴")
_SAVED = re.compile(r"\s*保存日時\s*[:：]")


def file_id(path: str) -> str:
    """The path as given, normalised: ids unique per file (``2026-11-04/chat.txt`` is not ``2026-11-05/chat.txt``).

    >>> file_id("./logs/2026-11-04/chat.txt") == os.path.join("logs", "2026-11-04", "chat.txt")
    True
    """
    return os.path.normpath(path) if path else path


def _before_a_turn(lines: list[str], start: int) -> bool:
    """Whether the next line with text from ``start`` on is a speaker or date line (a date line between turns
    counts as the day's heading; one inside a message is the customer's own words and stays in it)."""
    for i in range(start, len(lines)):
        line = lines[i].lstrip("\ufeff")
        if line.strip():
            return _DATE_LINE.match(line) is not None or match_turn(line) is not None
    return False


def _elapsed(turns: list[dict[str, Any]]) -> None:
    """Set ``elapsed`` (seconds since the first undated time) on undated timed turns; a clock that goes
    back is the next day (a chat running past midnight), as for dated transcripts."""
    first: int | None = None
    previous, days = -1, 0
    for t in turns:
        if "clock" not in t or t.get("date") is not None:
            continue
        if first is None:
            first = t["clock"]
        elif t["clock"] < previous:
            days += 1
            t["rollover"] = True
        previous = t["clock"]
        t["elapsed"] = days * 86400 + t["clock"] - first


def parse_transcript(
    text: str,
    *,
    source_file: str,
    conversation_id: str | None = None,
    name_roles: Mapping[str, str] | None = None,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
    min_turns: int = 0,
) -> Iterator[MessageRecord]:
    """Split a transcript into turn records (see the module doc for the rules); nothing when it has fewer
    than ``min_turns`` turns.

    Text before the first speaker line (a memo's opening, an unprefixed first message) is not
    dropped: it becomes a record of its own, role "unknown" (so it is scored), sequence 0,
    ``extra["preamble"] = True``.
    """
    name_roles = dict(name_roles or {})
    given_id = conversation_id
    conversation_id = conversation_id or file_id(source_file)
    lines = split_lines(text)
    turns: list[dict[str, Any]] = []
    preamble: list[tuple[int, str]] = []  # (line number, text) of lines before the first turn
    current_date: date | None = None
    date_seen_since_last = False
    last_seconds = -1
    seconds_only = True  # every time shown looks like a call offset (00:03:12)
    for lineno, line in enumerate(lines, start=1):
        line = line.lstrip("\ufeff")  # a BOM at a line start: transcripts joined into one file (cat a.txt b.txt)
        header = _LINE_HEADER.match(line)
        if header and not turns:
            if given_id is None and header.group(1):
                conversation_id = f"{file_id(source_file)}:{header.group(1)}"  # who the talk is with
            continue
        if _SAVED.match(line) and not turns:
            continue
        dm = _DATE_LINE.match(line)
        if dm and (not turns or _before_a_turn(lines, lineno)):
            y, mo, d = (g for g in (dm.group(1) or dm.group(4), dm.group(2) or dm.group(5), dm.group(3) or dm.group(6)))
            try:
                current_date = date(int(y), int(mo), int(d))
                date_seen_since_last = True
                continue
            except ValueError:
                pass
        turn = match_turn(line)
        if turn is None:
            if turns:
                turns[-1]["body"].append(line)
            else:
                preamble.append((lineno, line))
            continue
        info: dict[str, Any] = {"line": lineno, "speaker": turn.speaker, "body": [line[turn.prefix_end :]],
                                "line_style": turn.line_style, "when": None, "rollover": False}
        clock = turn.clock
        if clock is None and turn.time is not None:
            info["warnings"] = [TIME_UNREADABLE]  # still a turn, and scored; only its time is lost
        if clock is not None:
            if clock.date is not None:
                current_date, date_seen_since_last = clock.date, True
            elif current_date is not None and clock.seconds < last_seconds and not date_seen_since_last:
                info["rollover"] = True
                try:
                    current_date += timedelta(days=1)
                except OverflowError:
                    current_date = None  # past 9999-12-31: no date from here on
                    info["warnings"] = [TIME_UNREADABLE]
            seconds_only = seconds_only and clock.has_seconds
            last_seconds = clock.seconds
            date_seen_since_last = False
            info["clock"] = clock.seconds
            info["date"] = current_date
            info["tz"] = clock.tz
        turns.append(info)
    if len(turns) < min_turns:
        return  # not a transcript: no record is built (and scored for PII) only to be thrown away
    roles = {t["speaker"]: name_roles.get(t["speaker"]) or speaker_kind(t["speaker"]) for t in turns}
    has_agent = "agent" in roles.values()
    start_offset = min((t.get("clock", 0) for t in turns), default=0)
    call_offsets = seconds_only and current_date is None and start_offset < 3600
    if not call_offsets:
        _elapsed(turns)
    shown = [(n, line) for n, line in preamble if line.strip()]
    if shown and turns:
        channel = "messaging_line" if turns[0]["line_style"] else ("phone_transcript" if call_offsets else "chat")
        yield _preamble_record(preamble, shown, channel, source_file, conversation_id, max_message_bytes)
    elif shown:
        # No turn at all: the whole text is one unattributed message (callers may read the file as text).
        yield _preamble_record(preamble, shown, "chat", source_file, conversation_id, max_message_bytes)
    for seq, t in enumerate(turns, start=1):
        yield _turn_record(t, seq, roles, has_agent, call_offsets, source_file, conversation_id, max_message_bytes)


def _preamble_record(
    preamble: list[tuple[int, str]],
    shown: list[tuple[int, str]],
    channel: str,
    source_file: str,
    conversation_id: str,
    max_bytes: int,
) -> MessageRecord:
    """The lines before the first turn as one record: nobody is named, so it is scored as "unknown"."""
    first, last = shown[0][0], shown[-1][0]
    body = "\n".join(line for n, line in preamble if first <= n <= last)
    record = MessageRecord(
        record_id=f"{file_id(source_file)}:{first}",
        body_text=body,
        source_format="chat_txt",
        source_file=source_file,
        source_locator=f"line {first}" if first == last else f"lines {first}-{last}",
        conversation_id=conversation_id,
        sequence=0,
        author_role="unknown",
        role_basis="text before the first speaker line",
        channel=channel,
        extra={"preamble": True},
    )
    return finish_record(record, max_bytes=max_bytes)


def _turn_record(
    t: dict[str, Any],
    seq: int,
    roles: dict[str, str],
    has_agent: bool,
    call_offsets: bool,
    source_file: str,
    conversation_id: str,
    max_bytes: int,
) -> MessageRecord:
    """One turn's record: role from the speaker, time from the shown clock and the date in force."""
    lines = list(t["body"])
    while len(lines) > 1 and not lines[-1].strip():
        lines.pop()  # blank lines between turns belong to no one
    body = "\n".join(lines)
    if t["line_style"] and body.startswith('"') and body.rstrip().endswith('"') and len(body.rstrip()) > 1:
        body = body.rstrip()[1:-1].replace('""', '"')  # LINE wraps multi-line messages in quotes
    speaker = t["speaker"]
    role = roles.get(speaker, "unknown")
    if role == "agent" and re.search(r"bot|ボット|自動応答", speaker, re.IGNORECASE):
        role, basis = "bot", "speaker label"
    elif role in ("agent", "customer", "bot", "system"):
        basis = "speaker label"
    elif t["line_style"] and speaker == "":
        role, basis = "system", "LINE system line"
    elif has_agent:
        role, basis = "customer", "not the agent speaker"
    else:
        role, basis = "unknown", "speakers cannot be told apart"
    record = MessageRecord(
        record_id=f"{file_id(source_file)}:{t['line']}",
        body_text=body,
        source_format="line_txt" if t["line_style"] else "chat_txt",
        source_file=source_file,
        source_locator=f"line {t['line']}",
        conversation_id=conversation_id,
        sequence=seq,
        author_role=role,
        role_basis=basis,
        author_name=speaker or None,
        channel="messaging_line" if t["line_style"] else ("phone_transcript" if call_offsets else "chat"),
    )
    if "clock" in t:
        if call_offsets:
            record.extra["offset_seconds"] = t["clock"]
        elif t.get("date") is not None:
            utc, local, assumed = _turn_time(t["date"], t["clock"], t.get("tz"))
            if utc is None:
                record.decode_warnings.append(TIME_UNREADABLE)
            record.timestamp_utc, record.timestamp_local, record.timestamp_assumed_tz = utc, local, assumed
        else:
            record.extra["clock_seconds"] = t["clock"]
            record.extra["elapsed_seconds"] = t["elapsed"]
    if t["rollover"]:
        record.extra["day_rollover"] = True
    record.decode_warnings.extend(t.get("warnings", ()))
    return finish_record(record, max_bytes=max_bytes)


def _turn_time(d: date, seconds: int, tz: tzinfo | None) -> TimePair:
    """A dated turn's (UTC, local, assumed): the log's offset if shown, else JST; none off the calendar."""
    try:
        when = datetime(d.year, d.month, d.day, tzinfo=tz) + timedelta(seconds=seconds)
    except OverflowError:
        return None, None, False
    return to_iso_pair(when)


def read_chat_text(path: str, **opts: Any) -> Iterator[MessageRecord]:
    """Read a transcript text file (any Japanese encoding) into turn records."""
    with open(path, "rb") as f:
        text, warnings = decode_whole(f.read())
    yield from _transcript(text, warnings, path, **opts)


def _transcript(text: str, warnings: list[str], path: str, **opts: Any) -> Iterator[MessageRecord]:
    for rec in parse_transcript(text, source_file=path, **opts):
        rec.decode_warnings.extend(warnings)
        yield rec


# A line that starts like a log line (10:15, 10時15分, １０：１５, [2025年3月4日 10:15 …): used only to warn
# when a file looks like a transcript but none of its speaker lines could be read.
_TIMED_LINE = re.compile(
    r"\s*(?:[\[(（［【<]\s*)?(?:\d{2,4}\s*[/\-.年／－．]\s*\d{1,2}\s*[/\-.月／－．]\s*\d{1,2}日?\D{0,6}?)?"
    r"\d{1,2}\s*[:：時]\s*\d{1,2}"
)


def read_text_file(
    path: str, *, name_roles: Mapping[str, str] | None = None, max_message_bytes: int = MAX_MESSAGE_BYTES
) -> Iterator[MessageRecord]:
    """A .txt file: transcript turns when it has two or more, else the whole file as one message.

    Text before the first turn comes with the turns (as a preamble record).  One turn is not
    enough: a letter with a line "担当：佐藤" in it is not a transcript.
    """
    with open(path, "rb") as f:
        text, warnings = decode_whole(f.read())
    records = list(_transcript(text, warnings, path, name_roles=name_roles, max_message_bytes=max_message_bytes,
                               min_turns=2))
    if records:
        yield from records
        return
    lines = [line for line in text.splitlines() if line.strip()]
    timed = sum(1 for line in lines if _TIMED_LINE.match(line))
    if timed >= 2 and timed * 2 >= len(lines):
        # Scored whole, our side's lines are scored as the customer's: the output must say so.
        warnings = [*warnings, "transcript-turns-not-found"]
    record = MessageRecord(
        record_id=file_id(path), body_text=text, source_format="text",
        source_file=path, source_locator="file", decode_warnings=warnings,
    )
    yield finish_record(record, max_bytes=max_message_bytes)
