"""JSON chat exports: a list of turns (``{"role": "user", "content": …}`` and similar), ``{"messages": […]}`` or
``{"conversations": […]}``; one record per turn, sharing a conversation id.

>>> is_chat_json([{"role": "user", "content": "まだ？"}]), is_chat_json({"conversations": []})
(True, True)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..records import MessageRecord
from ..segments import speaker_kind
from .chat import file_id
from .common import MAX_MESSAGE_BYTES, error_record, finish_record, first_or_mostly, normalise_role
from .presets import find_column
from .streams import ESCAPE_ERRORS
from .timestamps import read_timestamp

__all__ = ["is_chat_json", "read_chat_json", "turn_records"]

_TEXT_KEYS = ("content", "text", "body", "message", "plainText", "plain_text", "本文", "メッセージ")
_ROLE_KEYS = ("role", "author_type", "sender_type", "personType", "direction", "speaker_role")
_NAME_KEYS = ("name", "sender", "speaker", "author", "from", "話者", "送信者")
_TIME_KEYS = ("timestamp", "created_at", "createdAt", "sent_at", "time", "date", "日時")
_ID_KEYS = ("id", "message_id", "messageId")


def is_chat_json(data: Any) -> bool:
    """True for a list of turns with a role/speaker and text, or ``{"messages"|"conversations": …}``.

    >>> is_chat_json([{"role": "user", "content": "まだ？"}]), is_chat_json([{"id": 1, "text": "a"}])
    (True, False)
    """
    if isinstance(data, dict):
        if isinstance(data.get("conversations"), list):
            return True
        return isinstance(data.get("messages"), list) and is_chat_json(data["messages"])
    return isinstance(data, list) and first_or_mostly(data, _is_turn)


def _is_turn(obj: dict[str, Any]) -> bool:
    keys = list(obj)
    return find_column(keys, _ROLE_KEYS) is not None and find_column(keys, _TEXT_KEYS) is not None


def turn_records(
    turns: list[Any], *, source_file: str, conversation_id: str, locator: str, max_message_bytes: int
) -> Iterator[MessageRecord]:
    """Records of a JSON list of turns ({"role": "user"|"assistant", "content": …} and similar)."""
    for i, turn in enumerate(turns):
        loc = f"{locator}/{i}"
        if not isinstance(turn, dict):
            yield error_record(record_id=f"{conversation_id}:{i}", source_format="chat_json", source_file=source_file,
                               source_locator=loc, reason=f"expected a turn object, got {type(turn).__name__}")
            continue
        keys = list(turn)
        text = turn.get(find_column(keys, _TEXT_KEYS) or "")
        rid = turn.get(find_column(keys, _ID_KEYS) or "")
        record_id = str(rid) if rid not in (None, "") else f"{conversation_id}:{i}"
        if text is not None and not isinstance(text, str):
            yield error_record(record_id=record_id, source_format="chat_json", source_file=source_file,
                               source_locator=loc, reason=f"turn text is {type(text).__name__}, expected a string")
            continue
        role_key = find_column(keys, _ROLE_KEYS)
        name = turn.get(find_column(keys, _NAME_KEYS) or "")
        role = normalise_role(turn.get(role_key)) if role_key else "unknown"
        basis = f"field {role_key}" if role_key else ""
        if role == "unknown" and isinstance(name, str):
            kind = speaker_kind(name)
            role, basis = ("agent" if kind == "agent" else "customer" if kind == "customer" else "unknown"), "speaker name"
        time_key = find_column(keys, _TIME_KEYS)
        warnings: list[str] = []
        utc, local, assumed = read_timestamp(turn.get(time_key) if time_key else None, time_key or "", warnings)
        record = MessageRecord(
            record_id=record_id, body_text=text or "", source_format="chat_json", source_file=source_file,
            source_locator=loc, conversation_id=conversation_id, sequence=i + 1, author_role=role,
            role_basis=basis, author_name=name if isinstance(name, str) else None, channel="chat",
            timestamp_utc=utc, timestamp_local=local, timestamp_assumed_tz=assumed, decode_warnings=warnings,
        )
        yield finish_record(record, max_bytes=max_message_bytes)


def read_chat_json(
    path: str, data: Any = None, *, max_message_bytes: int = MAX_MESSAGE_BYTES
) -> Iterator[MessageRecord]:
    """Read a JSON chat export: a list of turns, ``{"messages": […]}``, or ``{"conversations": […]}``."""
    if data is None:
        with open(path, "rb") as f:
            data = json.loads(f.read().decode("utf-8", ESCAPE_ERRORS))
    name = file_id(path)  # ids the export gives are kept; these fallbacks must not collide across folders
    if isinstance(data, dict) and isinstance(data.get("conversations"), list):
        for i, conv in enumerate(data["conversations"]):
            if not isinstance(conv, dict) or not isinstance(conv.get("messages"), list):
                yield error_record(record_id=f"{name}:/conversations/{i}", source_format="chat_json",
                                   source_file=path, source_locator=f"/conversations/{i}",
                                   reason="expected a conversation object with a 'messages' list")
                continue
            conv_id = str(conv.get("id", f"{name}:{i}"))
            yield from turn_records(conv["messages"], source_file=path, conversation_id=conv_id,
                                    locator=f"/conversations/{i}/messages", max_message_bytes=max_message_bytes)
        return
    if isinstance(data, dict):
        conv_id = str(data.get("id") or data.get("conversation_id") or name)
        yield from turn_records(data.get("messages") or [], source_file=path, conversation_id=conv_id,
                                locator="/messages", max_message_bytes=max_message_bytes)
        return
    yield from turn_records(data, source_file=path, conversation_id=name, locator="",
                            max_message_bytes=max_message_bytes)
