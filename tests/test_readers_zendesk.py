"""Zendesk reader: embedded comments, separate files, users, internal notes, NDJSON export."""

from __future__ import annotations

import json
from pathlib import Path

from kasuhara_nlp.readers import read_records

TICKET = {
    "id": 48213, "subject": "返品の件", "requester_id": 9001, "via": {"channel": "email"},
    "comments": [
        {"id": 7001, "author_id": 9001, "public": True, "created_at": "2025-03-04T01:15:00Z",
         "plain_body": "何度電話してもつながらない。誠意を見せろ。", "metadata": {"system": {"ip_address": "192.0.2.1"}}},
        {"id": 7002, "author_id": 42, "public": False, "created_at": "2025-03-04T01:20:00Z",
         "plain_body": "SV相談済み。上長対応へ。"},
        {"id": 7003, "author_id": 42, "public": True, "created_at": "2025-03-04T01:30:00Z",
         "html_body": "<p>確認いたします</p>"},
    ],
}
USERS = [{"id": 9001, "name": "山田", "role": "end-user"}, {"id": 42, "name": "佐藤", "role": "agent"}]


def test_embedded_comments_with_users(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"tickets": [TICKET], "users": USERS}, ensure_ascii=False), encoding="utf-8")
    a, b, c = read_records([str(path)])
    assert (a.record_id, a.conversation_id, a.author_role, a.status) == ("7001", "48213", "customer", "ok")
    assert a.role_basis == "zendesk users.role" and a.timestamp_utc == "2025-03-04T01:15:00Z"
    assert a.channel == "email" and a.subject == "返品の件" and a.source_format == "zendesk"
    assert "192.0.2.1" not in json.dumps(a.to_dict(), ensure_ascii=False)
    assert (b.visibility, b.status) == ("internal", "not_scored")
    assert (c.author_role, c.status, c.body_text) == ("agent", "not_scored", "確認いたします")
    assert [r.sequence for r in (a, b, c)] == [0, 1, 2]


def test_without_users_requester_is_customer(tmp_path: Path) -> None:
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps([TICKET], ensure_ascii=False), encoding="utf-8")
    roles = [(r.author_role, r.role_basis) for r in read_records([str(path)])]
    assert roles[0] == ("customer", "zendesk author is the requester")
    assert roles[2] == ("agent", "zendesk author is not the requester")


def test_separate_files(tmp_path: Path) -> None:
    ticket = {k: v for k, v in TICKET.items() if k != "comments"}
    comments = [dict(c, ticket_id=48213) for c in TICKET["comments"]]
    (tmp_path / "tickets.json").write_text(json.dumps({"tickets": [ticket]}, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "comments.json").write_text(json.dumps({"comments": comments}, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "users.json").write_text(json.dumps({"users": USERS}, ensure_ascii=False), encoding="utf-8")
    paths = [str(tmp_path / n) for n in ("tickets.json", "comments.json", "users.json")]
    recs = list(read_records(paths, preset="zendesk"))
    assert [r.record_id for r in recs] == ["7001", "7002", "7003"]
    assert recs[0].author_name == "山田"


def test_ndjson_export_and_description_fallback(tmp_path: Path) -> None:
    bare = {"id": 5, "subject": "件名", "requester_id": 1, "description": "返金しろ", "created_at": "2025-03-04T01:00:00Z"}
    path = tmp_path / "export.jsonl"
    path.write_text(json.dumps(TICKET, ensure_ascii=False) + "\n{broken\n" + json.dumps(bare, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    recs = list(read_records([str(path)]))
    assert [r.status for r in recs] == ["ok", "not_scored", "not_scored", "error", "ok"]
    assert "line 2" in recs[3].reason
    assert recs[4].body_text == "返金しろ" and recs[4].author_role == "customer"


def test_chat_ticket_transcript_is_segmented(tmp_path: Path) -> None:
    ticket = {"id": 1, "subject": "chat", "requester_id": 9, "via": {"channel": "chat"}, "comments": [
        {"id": 1, "author_id": 9, "public": True,
         "plain_body": "(10:15:02) 山田様: 金返せ\n(10:15:30) エージェント: できかねます\n"}]}
    path = tmp_path / "t.json"
    path.write_text(json.dumps([ticket], ensure_ascii=False), encoding="utf-8")
    (rec,) = read_records([str(path)])
    assert rec.text_to_score == "金返せ\n" and rec.channel == "chat"


def test_non_string_body_is_an_error(tmp_path: Path) -> None:
    ticket = {"id": 1, "subject": "x", "requester_id": 9, "comments": [{"id": 2, "author_id": 9, "plain_body": 12}]}
    path = tmp_path / "t.json"
    path.write_text(json.dumps([ticket]), encoding="utf-8")
    (rec,) = read_records([str(path)])
    assert rec.status == "error" and "expected a string" in rec.reason
