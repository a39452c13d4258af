"""Zendesk reader: embedded comments, separate files, users, internal notes, NDJSON export."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kasuhara_nlp.errors import InputFormatError
from kasuhara_nlp.readers import detect_format, read_records

from .mailfactory import message

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
    recs = list(read_records([str(path)]))
    assert (recs[0].author_role, recs[0].role_basis) == ("customer", "zendesk author is the requester")
    # Author 42 is named nowhere in the ticket: its role cannot be known, so it is scored, and says so.
    assert (recs[2].author_role, recs[2].status) == ("unknown", "ok")
    assert "role unknown" in recs[2].role_basis


# Without a users list, what the ticket itself says about a comment's author.
# (case id, ticket fields, comment fields, expected role, expected status, words in role_basis)
NO_USERS_CASES = (
    ("requester", {}, {"author_id": 9001}, "customer", "ok", "requester"),
    ("cc_family_member", {"email_cc_ids": [9002]}, {"author_id": 9002}, "unknown", "ok", "CC"),
    ("legacy_collaborator", {"collaborator_ids": [9002]}, {"author_id": 9002}, "unknown", "ok", "CC"),
    ("not_named_anywhere", {}, {"author_id": 9002}, "unknown", "ok", "role unknown"),
    ("submitter_for_requester", {"submitter_id": 9002}, {"author_id": 9002}, "unknown", "ok", "submitter"),
    ("assignee", {"assignee_id": 42}, {"author_id": 42}, "agent", "not_scored", "assignee"),
    ("follower", {"follower_ids": [42]}, {"author_id": 42}, "agent", "not_scored", "follower"),
    ("business_rule", {}, {"author_id": 42, "via": {"channel": "rule", "source": {"rel": "trigger"}}},
     "system", "not_scored", "rule"),
    ("internal_note_unknown_author", {}, {"author_id": 9002, "public": False}, "unknown", "not_scored",
     "role unknown"),
)


@pytest.mark.parametrize(
    "ticket_fields,comment_fields,role,status,basis",
    [c[1:] for c in NO_USERS_CASES], ids=[c[0] for c in NO_USERS_CASES],
)
def test_roles_without_users(tmp_path: Path, ticket_fields: dict, comment_fields: dict, role: str, status: str,
                             basis: str) -> None:
    comment = {"id": 7003, "public": True, "plain_body": "担当者を家まで来させろ。", **comment_fields}
    ticket = {"id": 48213, "subject": "返品の件", "requester_id": 9001, **ticket_fields, "comments": [comment]}
    path = tmp_path / "api_nousers.json"
    path.write_text(json.dumps({"tickets": [ticket]}, ensure_ascii=False), encoding="utf-8")
    (rec,) = read_records([str(path)])
    assert (rec.author_role, rec.status) == (role, status)
    assert basis in rec.role_basis


def test_users_list_still_wins_over_ticket_fields(tmp_path: Path) -> None:
    ticket = dict(TICKET, email_cc_ids=[42])
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"tickets": [ticket], "users": USERS}, ensure_ascii=False), encoding="utf-8")
    recs = list(read_records([str(path)]))
    assert (recs[2].author_role, recs[2].role_basis) == ("agent", "zendesk users.role")


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
    # 7003 is by author 42, whom nothing in the ticket names: role unknown, so scored (no users list).
    assert [r.status for r in recs] == ["ok", "not_scored", "ok", "error", "ok"]
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


# A Zendesk full export arrives as NDJSON (one ticket per line) whatever its extension.
EXPORT_TICKETS = [
    {"id": 48213, "subject": "返品の件", "requester_id": 9001, "via": {"channel": "email"},
     "description": "何度電話してもつながらない。誠意を見せろ。",
     "comments": [
         {"id": 7001, "author_id": 9001, "public": True, "plain_body": "何度電話してもつながらない。誠意を見せろ。"},
         {"id": 7002, "author_id": 42, "public": False, "plain_body": "SV相談済み。上長対応へ。"},
         {"id": 7003, "author_id": 9002, "public": True, "plain_body": "（CCの家族です）来なければ殺す。"}]},
    {"id": 48214, "subject": "遅延", "requester_id": 9003, "via": {"channel": "web"},
     "comments": [{"id": 7101, "author_id": 9003, "public": True, "plain_body": "まだ届きません。"}]},
]


@pytest.mark.parametrize("name", ["export-tickets.json", "export-tickets.jsonl", "export-tickets.ndjson"])
@pytest.mark.parametrize("first_line", ["", "{broken\n", "{}\n", "null\n"],
                         ids=["clean", "broken_first_line", "empty_object_first", "null_first"])
def test_ndjson_export_is_zendesk_whatever_the_extension(tmp_path: Path, name: str, first_line: str) -> None:
    path = tmp_path / name
    path.write_text(first_line + "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in EXPORT_TICKETS),
                    encoding="utf-8")
    assert detect_format(str(path)) == "zendesk"
    everything = list(read_records([str(path)]))
    # A damaged first line is one record that says so (an error, or an empty ticket skipped); the rest is read.
    damaged = everything[:1] if first_line else []
    assert all(r.status in ("error", "skipped") and "line 1" in r.reason for r in damaged)
    recs = everything[len(damaged):]
    assert [r.record_id for r in recs] == ["7001", "7002", "7003", "7101"]
    assert {r.source_format for r in recs} == {"zendesk"}
    assert [r.conversation_id for r in recs] == ["48213"] * 3 + ["48214"]
    # The CC'd family member's threat and the description-less ticket's comment are both scored.
    assert [r.status for r in recs] == ["ok", "not_scored", "ok", "ok"]


def test_comments_file_without_its_tickets_is_not_dropped(tmp_path: Path) -> None:
    comments = [dict(c, ticket_id=48213) for c in TICKET["comments"]]
    (tmp_path / "comments.json").write_text(json.dumps({"comments": comments}, ensure_ascii=False), encoding="utf-8")
    recs = list(read_records([str(tmp_path / "comments.json")], preset="zendesk"))
    assert [(r.record_id, r.conversation_id) for r in recs] == [("7001", "48213"), ("7002", "48213"), ("7003", "48213")]
    assert recs[0].status == "ok" and recs[0].author_role == "unknown"


# -- format detection of folders and stdin (readers/__init__.py) ---------------------------------------------------


def test_folder_reads_each_file_by_its_own_format(tmp_path: Path) -> None:
    """A folder is not always a mail tree; every file is accounted for."""
    d = tmp_path / "mixed"
    (d / "zendesk").mkdir(parents=True)
    (d / "helpdesk.csv").write_bytes("問い合わせID,本文\nc1,返金しろ\nc2,店長を出せ\nc3,まだですか\n".encode("cp932"))
    (d / "msgs.jsonl").write_text('{"id": "j1", "text": "返金しろ"}\n{"id": "j2", "text": "家まで来い"}\n',
                                  encoding="utf-8")
    (d / "a.eml").write_bytes(message("受信本文", msgid="<m1@x>"))
    (d / "call.txt").write_text("[10:15] お客様：責任者を出せ\n[10:16] オペレーター：お待ちください\n", encoding="utf-8")
    ticket = {k: v for k, v in TICKET.items() if k != "comments"}
    (d / "zendesk" / "tickets.json").write_text(json.dumps({"tickets": [ticket]}, ensure_ascii=False), encoding="utf-8")
    (d / "zendesk" / "comments.json").write_text(
        json.dumps({"comments": [dict(c, ticket_id=48213) for c in TICKET["comments"]]}, ensure_ascii=False),
        encoding="utf-8")
    (d / "zendesk" / "users.json").write_text(json.dumps({"users": USERS}, ensure_ascii=False), encoding="utf-8")
    (d / "report.pdf").write_bytes(b"%PDF-1.4\n\x00\x01\x02binary")
    (d / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    recs = list(read_records([str(d)]))
    by_id = {r.record_id: r for r in recs}
    assert {"c1", "c2", "c3", "j1", "j2", "m1@x", "7001", "7002", "7003"} <= set(by_id)
    assert by_id["c1"].body_text == "返金しろ" and by_id["j2"].status == "ok"
    assert by_id["7001"].author_name == "山田"  # users.json applied to tickets in the same folder
    assert by_id["7003"].author_role == "agent"
    chat = [r for r in recs if r.source_file.endswith("call.txt")]
    assert [r.author_role for r in chat] == ["customer", "agent"]
    (pdf,) = [r for r in recs if r.source_file.endswith("report.pdf")]
    assert pdf.status == "skipped" and "report.pdf" in pdf.reason
    assert not [r for r in recs if r.source_file.endswith(".DS_Store")]
    assert len(recs) == 3 + 2 + 1 + 2 + 3 + 1


def test_folder_file_without_text_column_is_an_error_record_and_the_rest_goes_on(tmp_path: Path) -> None:
    d = tmp_path / "inbox"
    d.mkdir()
    (d / "a_bad.csv").write_text("foo,bar\n1,2\n", encoding="utf-8")
    (d / "b_good.csv").write_text("id,text\n1,返金しろ\n", encoding="utf-8")
    recs = list(read_records([str(d)]))
    assert [r.status for r in recs] == ["error", "ok"]
    assert "a_bad.csv" in recs[0].reason and "text" in recs[0].reason


# (case id, stdin bytes, expected (record_id, body) pairs)
STDIN_CASES = (
    ("jsonl", '{"id": "j1", "text": "返金しろ"}\n{"id": "j2", "text": "家まで来い"}\n'.encode(),
     [("j1", "返金しろ"), ("j2", "家まで来い")]),
    ("jsonl_bom_blank_lines", '\ufeff\n\n{"id": "j1", "text": "返金しろ"}\n'.encode(), [("j1", "返金しろ")]),
    ("json_array", '[{"id": "a1", "text": "返金しろ"}]'.encode(), [("a1", "返金しろ")]),
    ("csv", "id,text\n1,返金しろ\n".encode(), [("1", "返金しろ")]),
    ("csv_cp932", "id,本文\n1,返金しろ\n".encode("cp932"), [("1", "返金しろ")]),
)


@pytest.mark.parametrize("data,expected", [c[1:] for c in STDIN_CASES], ids=[c[0] for c in STDIN_CASES])
def test_stdin_format_is_sniffed(monkeypatch: pytest.MonkeyPatch, data: bytes, expected: list) -> None:
    """``-`` (stdin) was always read as CSV."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    recs = list(read_records(["-"]))
    assert [(r.record_id, r.body_text) for r in recs] == expected
    assert all(r.source_file == "<stdin>" for r in recs)


def test_zendesk_export_on_stdin_is_refused_not_read_as_generic_jsonl(monkeypatch: pytest.MonkeyPatch) -> None:
    data = "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in EXPORT_TICKETS).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    with pytest.raises(InputFormatError, match="Zendesk"):
        list(read_records(["-"]))


def test_stdin_pipe_jsonl_in_a_real_process() -> None:
    """A real pipe (not seekable): the sniff must not consume what the reader then needs."""
    code = ("from kasuhara_nlp.readers import read_records; "
            "print([(r.record_id, r.status) for r in read_records(['-'])])")
    data = "".join(f'{{"id": "j{i}", "text": "返金しろ{i}"}}\n' for i in range(3000)).encode()
    proc = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, check=True)
    assert proc.stdout.decode().strip() == repr([(f"j{i}", "ok") for i in range(3000)])


def test_zendesk_preset_on_a_folder_reads_its_json_and_names_the_rest(tmp_path: Path) -> None:
    (tmp_path / "tickets.json").write_text(json.dumps({"tickets": [TICKET], "users": USERS}, ensure_ascii=False),
                                           encoding="utf-8")
    (tmp_path / "readme.txt").write_text("エクスポートの説明", encoding="utf-8")
    recs = list(read_records([str(tmp_path)], preset="zendesk"))
    assert [r.record_id for r in recs[:3]] == ["7001", "7002", "7003"]
    assert recs[3].status == "skipped" and "readme.txt" in recs[3].reason


def test_ticket_array_followed_by_damaged_items_is_still_zendesk(tmp_path: Path) -> None:
    # The first ticket decides, as for chat turns: four damaged items after it must not hand the file to the
    # generic JSON reader, which would take the ticket's id as the message's and lose its comments' authors.
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps([EXPORT_TICKETS[0], "junk", None, 3, [1]], ensure_ascii=False), encoding="utf-8")
    recs = list(read_records([str(path)]))
    assert {r.source_format for r in recs} == {"zendesk"}
    assert [r.record_id for r in recs[:3]] == ["7001", "7002", "7003"]
    assert [r.status for r in recs[3:]] == ["error"] * 4
