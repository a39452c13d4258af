"""A helpdesk or chat export's unreadable time names the vendor's own field (``timestamp-unreadable:createdAt``), the
one to look at in the export, not a name internal to the reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kasuhara_nlp.readers import read_records

THREAT = "お前らの対応は最悪だ。今すぐ店長が家まで来て土下座しろ。"
BAD = "2025/13/45 10:00"  # on no calendar

# (vendor, file name under a channel-like folder, document with BAD in every time field, the field's name)
CASES = (
    ("freshdesk", "ticket.json", {
        "id": 1001, "subject": "配送遅延", "description_text": THREAT, "requester_id": 77, "created_at": BAD,
        "conversations": [{"id": 11, "ticket_id": 1001, "body_text": THREAT, "incoming": True, "private": False,
                           "user_id": 77, "created_at": BAD}]}, "created_at"),
    ("intercom", "conversation.json", {
        "type": "conversation", "id": "c1", "created_at": BAD,
        "source": {"type": "conversation", "id": "s1", "body": f"<p>{THREAT}</p>", "author": {"type": "user"}},
        "conversation_parts": {"type": "conversation_part.list", "conversation_parts": [
            {"id": "p1", "part_type": "comment", "body": f"<p>{THREAT}</p>", "created_at": BAD,
             "author": {"type": "user"}}]}}, "created_at"),
    ("helpscout", "conversations.json", {"_embedded": {"conversations": [{"id": 9, "_embedded": {"threads": [
        {"id": 1, "type": "customer", "body": THREAT, "createdBy": {"type": "customer"}, "createdAt": BAD}]}}]}},
     "createdAt"),
    ("hubspot", "messages.json", {"results": [
        {"id": "m1", "type": "MESSAGE", "conversationsThreadId": "t1", "direction": "INCOMING", "text": THREAT,
         "createdAt": BAD}]}, "createdAt"),
    ("slack", "2026-11-01.json", [{"type": "message", "ts": BAD, "user": "U1", "text": THREAT}], "ts"),
    ("teams", "messages.json", {"value": [
        {"id": "1", "messageType": "message", "createdDateTime": BAD,
         "from": {"user": {"displayName": "山田", "userIdentityType": "anonymousGuest"}},
         "body": {"contentType": "text", "content": THREAT}}]}, "createdDateTime"),
)


@pytest.mark.parametrize("vendor,name,doc,field", CASES, ids=[c[0] for c in CASES])
def test_unreadable_time_names_the_vendor_field(tmp_path: Path, vendor: str, name: str, doc: object,
                                                field: str) -> None:
    folder = tmp_path / "support"
    folder.mkdir()
    (folder / name).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    recs = list(read_records([str(folder)]))
    assert recs and {r.source_format for r in recs} == {vendor}
    for r in recs:
        assert r.timestamp_utc is None and r.status == "ok"  # read and scored without a time, and said so
        assert f"timestamp-unreadable:{field}" in r.decode_warnings
        assert "timestamp-unreadable:time" not in r.decode_warnings
