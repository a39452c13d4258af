"""Helpdesk exports other than Zendesk: told apart by shape, read with roles.

The files are the vendors' JSON layouts written by hand (reference inputs.md §2.2-§2.7) and a CP932 CSV as Excel
writes it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kasuhara_nlp.readers import detect_format, read_records

THREAT = "お前らの対応は最悪だ。今すぐ店長が家まで来て土下座しろ。来なければ店に火をつけてやる。"
NOTE = "社内メモ：この客は要注意。前回も暴言あり。"
REPLY = "ご不便をおかけし申し訳ございません。"

FRESHDESK_TICKET = {
    "id": 1001, "subject": "配送遅延", "description": f"<div>{THREAT}</div>", "description_text": THREAT,
    "requester_id": 77, "responder_id": 5, "source": 1, "status": 2, "created_at": "2026-11-01T01:00:00Z",
    "conversations": [
        {"id": 11, "ticket_id": 1001, "body": f"<div>{REPLY}</div>", "body_text": REPLY, "incoming": False,
         "private": False, "user_id": 5, "created_at": "2026-11-01T02:00:00Z"},
        {"id": 12, "ticket_id": 1001, "body": f"<div>{NOTE}</div>", "body_text": NOTE, "incoming": False,
         "private": True, "user_id": 5, "created_at": "2026-11-01T02:10:00Z"},
        {"id": 13, "ticket_id": 1001, "body": f'<div>まだか。{THREAT}</div><div class="freshdesk_quote">'
         f'<blockquote class="freshdesk_quote">{REPLY}</blockquote></div>', "body_text": f"まだか。{THREAT}\n\n{REPLY}",
         "incoming": True, "private": False, "user_id": 77, "created_at": "2026-11-01T03:00:00Z"},
    ],
}
INTERCOM = {
    "type": "conversation", "id": "c1", "created_at": 1793494800,
    "source": {"type": "conversation", "id": "s1", "body": f"<p>{THREAT}</p>", "author": {"type": "user", "id": "u"}},
    "conversation_parts": {"type": "conversation_part.list", "conversation_parts": [
        {"id": "p1", "part_type": "comment", "body": f"<p>{REPLY}</p>", "created_at": 1793495000,
         "author": {"type": "admin", "id": "a"}},
        {"id": "p2", "part_type": "note", "body": f"<p>{NOTE}</p>", "created_at": 1793495100,
         "author": {"type": "admin", "id": "a"}},
        {"id": "p3", "part_type": "comment", "body": "<p>お待たせしました（自動応答）</p>", "created_at": 1793495200,
         "author": {"type": "bot", "id": "b"}},
        {"id": "p4", "part_type": "assignment", "body": None, "created_at": 1793495300, "author": {"type": "bot"}},
    ]},
}
HELPSCOUT = {"_embedded": {"conversations": [{"id": 9, "subject": "返金", "_embedded": {"threads": [
    {"id": 1, "type": "customer", "body": f"<div>{THREAT}</div>", "createdBy": {"type": "customer"}},
    {"id": 2, "type": "note", "body": f"<div>{NOTE}</div>", "createdBy": {"type": "user"}},
    {"id": 3, "type": "reply", "body": f"<div>{REPLY}</div>", "createdBy": {"type": "user"}},
]}}]}}
HUBSPOT = {"results": [
    {"id": "m1", "type": "MESSAGE", "conversationsThreadId": "t1", "direction": "INCOMING", "text": THREAT},
    {"id": "m2", "type": "COMMENT", "conversationsThreadId": "t1", "text": NOTE},
    {"id": "m3", "type": "MESSAGE", "conversationsThreadId": "t1", "direction": "OUTGOING", "text": REPLY},
]}
TEAMS = {"value": [
    {"id": "1", "messageType": "message", "from": {"user": {"displayName": "山田"}},
     "body": {"contentType": "html", "content": f"<div><p>{THREAT}</p></div>"}},
    {"id": "2", "messageType": "systemEventMessage", "from": None, "body": {"contentType": "html", "content": ""}},
    {"id": "3", "messageType": "message", "from": {"application": {"displayName": "Bot"}},
     "body": {"contentType": "text", "content": "自動応答です"}},
]}
SLACK = [
    {"type": "message", "subtype": "channel_join", "ts": "1793494700.000100", "user": "U1",
     "text": "<@U1> has joined the channel"},
    {"type": "message", "ts": "1793494800.000200", "user": "UC", "text": THREAT},
    {"type": "message", "subtype": "bot_message", "ts": "1793495000.000400", "bot_id": "B1", "text": "自動通知です"},
]

# (case id, file name, document, expected (id, status, role, visibility) per record)
VENDOR_CASES = (
    ("freshdesk_ticket", "ticket.json", FRESHDESK_TICKET, [
        ("1001-description", "ok", "customer", "public"), ("11", "not_scored", "agent", "public"),
        ("12", "not_scored", "agent", "internal"), ("13", "ok", "customer", "public")]),
    ("freshdesk_conversations", "conversations.json", FRESHDESK_TICKET["conversations"], [
        ("11", "not_scored", "agent", "public"), ("12", "not_scored", "agent", "internal"),
        ("13", "ok", "customer", "public")]),
    ("intercom", "conversation.json", INTERCOM, [
        ("s1", "ok", "customer", "public"), ("p1", "not_scored", "agent", "public"),
        ("p2", "not_scored", "agent", "internal"), ("p3", "not_scored", "bot", "public"),
        ("p4", "skipped", "system", "public")]),
    ("helpscout", "conversations.json", HELPSCOUT, [
        ("1", "ok", "customer", "public"), ("2", "not_scored", "agent", "internal"), ("3", "not_scored", "agent", "public")]),
    ("hubspot", "messages.json", HUBSPOT, [
        ("m1", "ok", "customer", "public"), ("m2", "not_scored", "agent", "internal"),
        ("m3", "not_scored", "agent", "public")]),
    ("teams", "messages.json", TEAMS, [
        ("1", "ok", "unknown", "public"), ("2", "skipped", "system", "public"), ("3", "not_scored", "bot", "public")]),
    ("slack", "2026-11-01.json", SLACK, [
        ("shared:1793494700.000100", "not_scored", "system", "public"), ("shared:1793494800.000200", "ok", "unknown", "public"),
        ("shared:1793495000.000400", "not_scored", "bot", "public")]),
)


@pytest.mark.parametrize("name,doc,expected", [c[1:] for c in VENDOR_CASES], ids=[c[0] for c in VENDOR_CASES])
def test_vendor_exports_read_with_roles(tmp_path: Path, name: str, doc: object, expected: list) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    path = folder / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert detect_format(str(path)) == "helpdesk-json"
    recs = list(read_records([str(tmp_path)]))
    assert [(r.record_id, r.status, r.author_role, r.visibility) for r in recs] == expected
    scored = [r for r in recs if r.status == "ok"]
    # The customer's words are scored, without HTML tags or the quoted reply; no note or reply is scored.
    assert all(THREAT in r.text_to_score and "<" not in r.text_to_score and REPLY not in r.text_to_score for r in scored)


def test_freshdesk_ticket_is_not_zendesk(tmp_path: Path) -> None:
    path = tmp_path / "freshdesk_ticket_1001.json"
    path.write_text(json.dumps(FRESHDESK_TICKET, ensure_ascii=False), encoding="utf-8")
    recs = list(read_records([str(path)]))
    assert {r.source_format for r in recs} == {"freshdesk"} and len(recs) == 4
    assert {r.conversation_id for r in recs} == {"1001"}


def test_generic_json_honours_private_incoming_and_text_twin(tmp_path: Path) -> None:
    # Forced through the generic JSON reader: private -> internal, incoming -> role, body_text over HTML body.
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(FRESHDESK_TICKET["conversations"], ensure_ascii=False), encoding="utf-8")
    recs = {r.record_id: r for r in read_records([str(path)], format="json")}
    assert recs["12"].visibility == "internal" and recs["12"].status == "not_scored"
    assert recs["11"].author_role == "agent" and recs["13"].author_role == "customer"
    assert recs["13"].body_text.startswith("まだか。")


def test_unknown_nested_shape_error_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"threads": [{"posts": [{"html": THREAT}]}]}, ensure_ascii=False), encoding="utf-8")
    (rec,) = read_records([str(path)])
    assert rec.status == "error" and "export.json" in rec.reason
    assert "JSONL" in rec.reason and "nested" in rec.reason and THREAT not in rec.reason


# jp-helpdesk-cp932, one row per message of a ticket
def test_jp_helpdesk_rows_get_their_own_ids_and_tickets_join(tmp_path: Path) -> None:
    rows = [
        "問い合わせ番号,送信日時,送信者,担当者,件名,本文",
        f"１２３,2026/11/1 10:00,山田,佐藤,返品,{THREAT}",
        f"123,2026/11/1 10:30,山田,佐藤,返品,まだか。{THREAT}",
        f"123,2026/11/1 11:00,佐藤,佐藤,返品,{REPLY}",
    ]
    path = tmp_path / "export.csv"
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp932"))
    recs = list(read_records([str(path)], preset="jp-helpdesk-cp932"))
    assert [r.record_id for r in recs] == ["123:2", "123:3", "123:4"]
    assert {r.conversation_id for r in recs} == {"123"}
    assert [r.status for r in recs] == ["ok", "ok", "not_scored"]


# -- damaged exports: a field of the wrong JSON type ----------------------------------------------------------------
# Each row was a crash site (an exception out of read_records, ending the scan); now the damaged part is an error
# record naming the file and its JSON locator, or, where the field only describes the message (its author), the
# message is read as if the field were missing.  The other messages of the file are read.
ZENDESK_TICKET = {"id": 5, "subject": "返品", "requester_id": 9, "comments": [
    {"id": 51, "author_id": 9, "public": True, "plain_body": THREAT},
    {"id": 52, "author_id": 4, "public": True, "plain_body": REPLY}]}
ZENDESK_OTHER = {"id": 6, "subject": "遅延", "requester_id": 8, "comments": [
    {"id": 61, "author_id": 8, "public": True, "plain_body": THREAT}]}
ZENDESK_USERS = [{"id": 9, "name": "山田", "role": "end-user"}, {"id": 4, "name": "佐藤", "role": "agent"}]
SPLIT_TICKET = {k: v for k, v in ZENDESK_TICKET.items() if k != "comments"}
SPLIT_COMMENTS = [dict(c, ticket_id=5) for c in ZENDESK_TICKET["comments"]]


def _with(doc: object, path: tuple, value: object) -> object:
    """A deep copy of ``doc`` with the value at ``path`` replaced."""
    doc = json.loads(json.dumps(doc))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


HELPSCOUT_TWO = {"_embedded": {"conversations": [
    HELPSCOUT["_embedded"]["conversations"][0],
    {"id": 10, "subject": "再送", "_embedded": {"threads": [
        {"id": 4, "type": "customer", "body": f"<div>{THREAT}</div>", "createdBy": {"type": "customer"}}]}}]}}

# (case id, files of the folder, expected (record id, status, locator) of every record, in order)
DAMAGED_CASES = (
    ("freshdesk_conversations_not_a_list", {"ticket.json": _with(FRESHDESK_TICKET, ("conversations",), True)},
     [("1001-description", "ok", "/description"), ("ticket.json:/conversations", "error", "/conversations")]),
    ("intercom_source_author_a_string", {"c.json": _with(INTERCOM, ("source", "author"), "u123")},
     [("s1", "ok", "/source")] + [(f"p{i}", s, f"/conversation_parts/conversation_parts/{i - 1}")
                                  for i, s in ((1, "not_scored"), (2, "not_scored"), (3, "not_scored"), (4, "skipped"))]),
    ("helpscout_conversations_not_a_list", {"h.json": _with(HELPSCOUT, ("_embedded", "conversations"), True)},
     [("h.json:/_embedded/conversations", "error", "/_embedded/conversations")]),
    ("helpscout_conversation_embedded_not_an_object",
     {"h.json": _with(HELPSCOUT_TWO, ("_embedded", "conversations", 0, "_embedded"), [1])},
     [("h.json:/_embedded/conversations/0/_embedded", "error", "/_embedded/conversations/0/_embedded"),
      ("4", "ok", "/_embedded/conversations/1/_embedded/threads/0")]),
    ("zendesk_tickets_not_a_list", {"z.json": {"tickets": True}, "other.json": {"tickets": [ZENDESK_OTHER]}},
     [("61", "ok", "/tickets/0/comments/0"), ("z.json:/tickets", "error", "/tickets")]),
    ("zendesk_comments_not_a_list", {"z.json": {"tickets": [_with(ZENDESK_TICKET, ("comments",), True), ZENDESK_OTHER]}},
     [("5:comments", "error", "/tickets/0/comments"), ("61", "ok", "/tickets/1/comments/0")]),
    ("zendesk_author_id_a_list", {"z.json": {"tickets": [_with(ZENDESK_TICKET, ("comments", 1, "author_id"), [4])],
                                             "users": ZENDESK_USERS}},
     [("51", "ok", "/tickets/0/comments/0"), ("52", "ok", "/tickets/0/comments/1")]),
    ("zendesk_users_not_a_list", {"z.json": {"tickets": [ZENDESK_TICKET], "users": True}},
     [("51", "ok", "/tickets/0/comments/0"), ("52", "ok", "/tickets/0/comments/1")]),
    ("zendesk_user_id_a_list", {"z.json": {"tickets": [ZENDESK_TICKET], "users": _with(ZENDESK_USERS, (1, "id"), [4])}},
     [("51", "ok", "/tickets/0/comments/0"), ("52", "ok", "/tickets/0/comments/1")]),
    ("zendesk_split_ticket_id_a_list", {"tickets.json": {"tickets": [_with(SPLIT_TICKET, ("id",), [5])]},
                                        "comments.json": {"comments": SPLIT_COMMENTS}, "users.json": {"users": ZENDESK_USERS}},
     [("[5]-description", "skipped", "/tickets/0/comments/0"), ("51", "ok", "/comments/0"),
      ("52", "not_scored", "/comments/1")]),
    ("zendesk_split_comment_ticket_id_a_list",
     {"tickets.json": {"tickets": [SPLIT_TICKET]}, "comments.json": {"comments": _with(SPLIT_COMMENTS, (0, "ticket_id"), [5])},
      "users.json": {"users": ZENDESK_USERS}},
     [("comments.json:/comments/0", "error", "/comments/0"), ("52", "not_scored", "/tickets/0/comments/0")]),
)


@pytest.mark.parametrize("files,expected", [c[1:] for c in DAMAGED_CASES], ids=[c[0] for c in DAMAGED_CASES])
def test_damaged_export_gives_error_records_and_reads_the_rest(tmp_path: Path, files: dict, expected: list) -> None:
    for name, doc in files.items():
        (tmp_path / name).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    recs = list(read_records([str(tmp_path)]))
    assert [(r.record_id, r.status, r.source_locator) for r in recs] == expected
    for r in recs:
        if r.status == "error":  # the reason says where: the file and the JSON locator
            assert r.source_file in r.reason and r.source_locator in r.reason and "expected" in r.reason
        else:
            assert all(isinstance(getattr(r, f), (str, type(None))) for f in ("author_name", "subject", "channel"))


CHAT_TURNS = [{"role": "user", "content": THREAT}, {"role": "assistant", "content": REPLY}]
# Damage that lost messages without an error record (a list of the wrong type read as empty), or sent the whole
# file to the generic JSON reader, which then read none of it (one damaged first item): each must give a record
# for the damaged part and read the rest.  (case id, files of the folder, expected (record id, status, locator))
SILENT_CASES = (
    ("freshdesk_conversations_zero", {"ticket.json": _with(FRESHDESK_TICKET, ("conversations",), 0)},
     [("1001-description", "ok", "/description"), ("ticket.json:/conversations", "error", "/conversations")]),
    ("intercom_parts_zero", {"c.json": _with(INTERCOM, ("conversation_parts", "conversation_parts"), 0)},
     [("s1", "ok", "/source"),
      ("c.json:/conversation_parts/conversation_parts", "error", "/conversation_parts/conversation_parts")]),
    ("intercom_source_not_an_object", {"c.json": _with(INTERCOM, ("source",), "x")},
     [("c.json:/source", "error", "/source")] + [(f"p{i}", s, f"/conversation_parts/conversation_parts/{i - 1}")
                                                 for i, s in ((1, "not_scored"), (2, "not_scored"), (3, "not_scored"),
                                                              (4, "skipped"))]),
    ("helpscout_conversation_a_string", {"h.json": _with(HELPSCOUT_TWO, ("_embedded", "conversations", 0), "x")},
     [("h.json:/_embedded/conversations/0", "error", "/_embedded/conversations/0"),
      ("4", "ok", "/_embedded/conversations/1/_embedded/threads/0")]),
    ("zendesk_tickets_zero", {"z.json": {"tickets": 0}, "other.json": {"tickets": [ZENDESK_OTHER]}},
     [("61", "ok", "/tickets/0/comments/0"), ("z.json:/tickets", "error", "/tickets")]),
    ("freshdesk_list_first_item_empty", {"conversations.json": [{}] + FRESHDESK_TICKET["conversations"][1:]},
     [("conversations.json:/0", "skipped", "/0"), ("12", "not_scored", "/1"), ("13", "ok", "/2")]),
    ("hubspot_first_item_damaged", {"messages.json": {"results": [{"a": 1}] + HUBSPOT["results"][1:]}},
     [("messages.json:/results/0", "skipped", "/results/0"), ("m2", "not_scored", "/results/1"),
      ("m3", "not_scored", "/results/2")]),
    ("slack_first_item_empty", {"2026-11-01.json": [{}] + SLACK[1:]},
     [("2026-11-01.json:/0", "skipped", "/0"), ("shared:1793494800.000200", "ok", "/1"),
      ("shared:1793495000.000400", "not_scored", "/2")]),
    ("chat_first_turn_empty", {"chat.json": [{}] + CHAT_TURNS},
     [("chat.json:0", "skipped", "/0"), ("chat.json:1", "ok", "/1"), ("chat.json:2", "not_scored", "/2")]),
    ("zendesk_comments_file_first_null",
     {"tickets.json": {"tickets": [SPLIT_TICKET]}, "comments.json": {"comments": [None] + SPLIT_COMMENTS},
      "users.json": {"users": ZENDESK_USERS}},
     [("comments.json:/comments/0", "error", "/comments/0"), ("51", "ok", "/tickets/0/comments/0"),
      ("52", "not_scored", "/tickets/0/comments/1")]),
)


@pytest.mark.parametrize("files,expected", [c[1:] for c in SILENT_CASES], ids=[c[0] for c in SILENT_CASES])
def test_damaged_part_is_never_silently_lost(tmp_path: Path, files: dict, expected: list) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    for name, doc in files.items():
        (folder / name).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    recs = list(read_records([str(folder)]))
    assert [(r.record_id.replace(str(folder) + os.sep, ""), r.status, r.source_locator) for r in recs] == expected
    assert all(r.source_file in r.reason and r.source_locator in r.reason for r in recs if r.status != "ok"
               and r.status != "not_scored")
