"""Slack and Teams exports: roles from what the files carry (users.json, userIdentityType), never guessed.

The Slack files are laid out as a workspace export is (``users.json`` and ``channels.json`` at the root, one folder
per channel holding ``<day>.json``), the Teams file is a Graph ``{"value": [chatMessage…]}`` page; both are read
through :func:`kasuhara_nlp.readers.read_records`.  Each case names the role and the basis it must get: a customer
taken for staff would not be scored, so every fall-back is ``unknown`` with a basis that says why.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from kasuhara_nlp.readers import read_records

THREAT = "お前らの対応は最悪だ。今すぐ店長が家まで来て土下座しろ。"
HOME, OTHER = "T0HOME0001", "T0PARTNER2"


def _user(uid: str, name: str, real_name: str, team: str = HOME, **flags: object) -> dict:
    """A users.json entry as a workspace export writes it (flags default to a full human member)."""
    user = {
        "id": uid, "team_id": team, "name": name, "deleted": False, "color": "9f69e7", "real_name": real_name,
        "tz": "Asia/Tokyo", "tz_label": "Japan Standard Time", "tz_offset": 32400,
        "profile": {"title": "", "phone": "", "real_name": real_name, "display_name": name, "team": team,
                    "avatar_hash": "g0a1b2c3d4e5", "first_name": real_name, "last_name": ""},
        "is_admin": False, "is_owner": False, "is_primary_owner": False, "is_restricted": False,
        "is_ultra_restricted": False, "is_bot": False, "is_app_user": False, "updated": 1761955200,
        "is_email_confirmed": True, "who_can_share_contact_card": "EVERYONE",
    }
    user.update(flags)
    return user


STAFF = _user("U01STAFF", "sato", "佐藤 花子")
GUEST = _user("U02GUEST", "yamada", "山田 太郎", is_restricted=True)
SINGLE_GUEST = _user("U03SCG", "tanaka", "田中 一郎", is_restricted=True, is_ultra_restricted=True)
BOT = _user("U04BOT", "helpbot", "サポートボット", is_bot=True)
# A deactivated account: Slack drops the guest flags, so what it was is no longer said.
GONE = {"id": "U05GONE", "team_id": HOME, "name": "former", "deleted": True, "profile": {"real_name": "former"},
        "is_bot": False, "is_app_user": False, "updated": 1761955200}
SLACKBOT = _user("USLACKBOT", "slackbot", "Slackbot")
USERS = [STAFF, GUEST, SINGLE_GUEST, BOT, GONE, SLACKBOT]
CHANNELS = [{"id": "C01SUPPORT", "name": "support", "created": 1761955200, "creator": "U01STAFF",
             "is_archived": False, "is_general": False, "members": ["U01STAFF", "U02GUEST", "U03SCG"],
             "topic": {"value": "", "creator": "", "last_set": 0},
             "purpose": {"value": "", "creator": "", "last_set": 0}}]


def _msg(ts: str, user: str, **fields: object) -> dict:
    """A member's message as the day file holds it; ``team``/``user_team`` only where a case gives them."""
    msg = {"client_msg_id": f"0000-{ts}", "type": "message", "text": THREAT, "user": user, "ts": ts,
           "blocks": [{"type": "rich_text", "block_id": "b", "elements": []}],
           "user_profile": {"real_name": user.lower(), "display_name": user.lower(), "team": HOME}}
    msg.update(fields)
    return msg


# (message key, message) of one day file: each case gives the role and basis of every message by key.
DAY = (
    ("staff", _msg("1793494800.000100", "U01STAFF", team=HOME, user_team=HOME, source_team=HOME)),
    ("guest", _msg("1793494801.000100", "U02GUEST", team=HOME, user_team=HOME, source_team=HOME)),
    ("single_guest", _msg("1793494802.000100", "U03SCG", team=HOME)),
    ("connect_user_team", _msg("1793494803.000100", "U09EXT", team=OTHER, user_team=OTHER, source_team=OTHER)),
    ("connect_team_only", _msg("1793494804.000100", "U09EXT", team=OTHER)),
    ("staff_foreign_team", _msg("1793494805.000100", "U01STAFF", user_team=OTHER)),
    ("unlisted", _msg("1793494806.000100", "U08WHO")),
    ("deactivated", _msg("1793494807.000100", "U05GONE", team=HOME)),
    ("bot_user", _msg("1793494808.000100", "U04BOT", team=HOME)),
)

FULL = {
    "staff": ("agent", f"slack users.json full member of the export's team {HOME}"),
    "guest": ("customer", "slack users.json is_restricted (a guest)"),
    "single_guest": ("customer", "slack users.json is_ultra_restricted (a guest)"),
    "connect_user_team": ("customer", f"slack user_team {OTHER} is not the export's team {HOME} (Slack Connect)"),
    "connect_team_only": ("customer", f"slack team {OTHER} is not the export's team {HOME} (Slack Connect)"),
    # users.json and the message disagree: the message's team wins, towards the customer.
    "staff_foreign_team": ("customer", f"slack user_team {OTHER} is not the export's team {HOME} (Slack Connect)"),
    "unlisted": ("unknown", "slack member message (user not in users.json): role unknown, scored"),
    "deactivated": ("unknown", "slack member message (users.json: not a full member of the export's team): "
                               "role unknown, scored"),
    "bot_user": ("unknown", "slack member message (users.json: not a full member of the export's team): "
                            "role unknown, scored"),
}


def _all(role: str, basis: str) -> dict:
    return {key: (role, basis) for key, _ in DAY}


def _unknown(why: str) -> tuple[str, str]:
    return "unknown", f"slack member message ({why}): role unknown, scored"


TWO_TEAMS = _unknown("users.json lists members of 2 teams")
# (case id, users.json as written (None: no file; str: raw text), expected (role, basis) per message key)
SLACK_CASES = (
    ("users_json", USERS, FULL),
    ("no_users_json", None, _all(*_unknown("no users.json in the export folder"))),
    ("users_json_truncated", json.dumps(USERS, ensure_ascii=False)[:300], _all(*_unknown("users.json is not JSON"))),
    ("users_json_not_utf8", json.dumps(USERS, ensure_ascii=False).encode("cp932"),
     _all(*_unknown("users.json is not JSON"))),
    ("users_json_an_object", {"members": USERS}, _all(*_unknown("users.json is not a list of members with ids"))),
    # One damaged entry: the file decides nothing, not even for the guests it lists intact.
    ("users_json_one_entry_damaged", [*USERS, None], _all(*_unknown("users.json is not a list of members with ids"))),
    ("users_json_id_a_number", [*USERS, dict(STAFF, id=7)],
     _all(*_unknown("users.json is not a list of members with ids"))),
    ("users_json_empty", [], _all(*_unknown("users.json names no member's team"))),
    # Two home teams: which is ours is not said, so only the guest flags count.
    ("two_home_teams", [*USERS, _user("U07PARTNER", "suzuki", "鈴木 次郎", team=OTHER)],
     {**_all(*TWO_TEAMS), "guest": FULL["guest"], "single_guest": FULL["single_guest"]}),
    # Flags missing or of another type prove nothing: not staff (but the team is still the export's).
    ("flags_not_booleans", [dict(STAFF, is_restricted="false"), dict(GUEST, is_restricted="true"), BOT],
     {**FULL, "staff": _unknown("users.json: not a full member of the export's team"),
      "guest": _unknown("users.json: not a full member of the export's team"),
      "single_guest": _unknown("user not in users.json"), "deactivated": _unknown("user not in users.json")}),
    # Listed twice, differently: a guest if either entry says so, never staff.
    ("member_listed_twice", [*USERS, dict(STAFF, is_restricted=True), dict(GUEST, is_restricted=False)],
     {**FULL, "staff": FULL["guest"], "staff_foreign_team": FULL["guest"]}),
)


def _write_export(root: Path, users: object) -> Path:
    """A workspace export under ``root``: users.json (unless None), channels.json, support/2026-11-01.json."""
    root.mkdir()
    if isinstance(users, bytes):
        (root / "users.json").write_bytes(users)
    elif isinstance(users, str):
        (root / "users.json").write_text(users, encoding="utf-8")
    elif users is not None:
        (root / "users.json").write_text(json.dumps(users, ensure_ascii=False, indent=2), encoding="utf-8")
    (root / "channels.json").write_text(json.dumps(CHANNELS, ensure_ascii=False), encoding="utf-8")
    channel = root / "support"
    channel.mkdir()
    day = channel / "2026-11-01.json"
    day.write_text(json.dumps([m for _, m in DAY], ensure_ascii=False, indent=4), encoding="utf-8")
    return channel


@pytest.mark.parametrize("users,expected", [c[1:] for c in SLACK_CASES], ids=[c[0] for c in SLACK_CASES])
def test_slack_member_roles_come_from_users_json(tmp_path: Path, users: object, expected: dict) -> None:
    channel = _write_export(tmp_path / "export", users)
    recs = list(read_records([str(channel)]))
    assert {r.source_format for r in recs} == {"slack"}
    got = {key: (r.author_role, r.role_basis) for (key, _), r in zip(DAY, recs, strict=True)}
    assert got == expected
    # The scoring rule follows the role: a customer's or unknown member's message is scored, staff's is not.
    assert all((r.status == "ok") == (r.author_role in ("customer", "unknown")) for r in recs)


def test_slack_users_json_is_read_once_per_export(tmp_path: Path) -> None:
    from kasuhara_nlp.readers.chat_exports import _read_directory  # the cache itself: one read for three day files

    channel = _write_export(tmp_path / "export", USERS)
    other = channel.parent / "general"
    other.mkdir()
    for day in ("2026-11-02.json", "2026-11-03.json"):
        (other / day).write_text(json.dumps([DAY[0][1]]), encoding="utf-8")
    _read_directory.cache_clear()
    recs = list(read_records([str(channel), str(other)]))
    assert [r.author_role for r in recs][:1] + [r.author_role for r in recs][-2:] == ["agent", "unknown", "unknown"]
    assert _read_directory.cache_info().misses == 1


@pytest.mark.parametrize("day, roles", [
    # A community workspace: customers are full members too, and nothing in the file tells them from staff.
    ([DAY[0][1], _msg("1793494810.000100", "U01STAFF")], ["unknown", "unknown"]),
    # The same staff member in a file where a guest writes: the guest is the outside, the member is staff.
    ([DAY[0][1], DAY[1][1]], ["agent", "customer"]),
    # Slack Connect: a message from another team is enough.
    ([DAY[0][1], DAY[3][1]], ["agent", "customer"]),
    # A bot's message or an event does not count as someone from outside.
    ([DAY[0][1], {"type": "message", "subtype": "bot_message", "bot_id": "B1", "text": "受付しました", "ts": "1.1",
                  "team": OTHER}], ["unknown", "bot"]),
])
def test_slack_staff_only_where_someone_from_outside_writes(tmp_path: Path, day: list, roles: list) -> None:
    channel = _write_export(tmp_path / "export", USERS)
    (channel / "2026-11-01.json").write_text(json.dumps(day, ensure_ascii=False), encoding="utf-8")
    recs = list(read_records([str(channel)]))
    assert [r.author_role for r in recs] == roles
    if roles[0] == "unknown":
        assert recs[0].role_basis == ("slack member message (a full member, in a file with no guest or outside "
                                      "team): role unknown, scored")


def test_slack_bad_users_json_is_logged_once_without_its_content(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    channel = _write_export(tmp_path / "export", json.dumps(USERS, ensure_ascii=False)[:300])
    (channel / "2026-11-02.json").write_text(json.dumps([DAY[1][1]]), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="kasuhara_nlp.readers.chat_exports"):
        recs = list(read_records([str(channel)]))
    assert {r.author_role for r in recs} == {"unknown"} and len(recs) == len(DAY) + 1
    warnings = [r.getMessage() for r in caplog.records if r.name == "kasuhara_nlp.readers.chat_exports"]
    assert len(warnings) == 1 and "users.json is not JSON" in warnings[0]
    assert not any(name in warnings[0] for name in ("佐藤", "山田", "sato", THREAT))


def _chat_message(i: int, sender: dict) -> dict:
    """A Graph v1.0 chatMessage as ``GET /chats/{id}/messages`` returns it."""
    return {
        "@odata.type": "#microsoft.graph.chatMessage", "id": f"17934948000{i:02d}", "replyToId": None,
        "etag": f"17934948000{i:02d}", "messageType": "message", "createdDateTime": "2026-11-01T01:00:00.123Z",
        "lastModifiedDateTime": "2026-11-01T01:00:00.123Z", "lastEditedDateTime": None, "deletedDateTime": None,
        "subject": None, "summary": None, "chatId": "19:abc_def@unq.gbl.spaces", "importance": "normal",
        "locale": "en-us", "webUrl": None, "channelIdentity": None, "policyViolation": None, "eventDetail": None,
        "from": {"application": None, "device": None, "user": sender},
        "body": {"contentType": "html", "content": f"<p>{THREAT}</p>"},
        "attachments": [], "mentions": [], "reactions": [],
    }


def _sender(kind: object) -> dict:
    user = {"@odata.type": "#microsoft.graph.teamworkUserIdentity", "id": "8ea0e38b-efb3-4757-924a-5f94061cf8c2",
            "displayName": "山田", "tenantId": "e61ef81e-8bd8-476a-92e8-4a62f8426fca"}
    if kind is not None:
        user["userIdentityType"] = kind
    return user


# (identity type as written, expected role, expected basis)
TEAMS_CASES = (
    *((kind, "customer", f"teams from.user.userIdentityType {kind}") for kind in (
        "federatedUser", "anonymousGuest", "personalMicrosoftAccountUser", "emailUser", "phoneUser", "skypeUser")),
    # A B2B guest is an aadUser too: no proof of staff.
    ("aadUser", "unknown", "teams from.user.userIdentityType aadUser: role unknown, scored"),
    ("onPremiseAadUser", "unknown", "teams from.user.userIdentityType onPremiseAadUser: role unknown, scored"),
    (None, "unknown", "teams from.user.userIdentityType missing: role unknown, scored"),
    ("guestUser", "unknown", "teams from.user.userIdentityType unrecognised: role unknown, scored"),
    ({"type": "aadUser"}, "unknown", "teams from.user.userIdentityType unrecognised: role unknown, scored"),
)


@pytest.mark.parametrize("kind,role,basis", TEAMS_CASES, ids=[str(c[0]) for c in TEAMS_CASES])
def test_teams_user_role_from_identity_type(tmp_path: Path, kind: object, role: str, basis: str) -> None:
    path = tmp_path / "messages.json"
    page = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#chats('19%3Aabc')/messages",
            "@odata.count": 1, "value": [_chat_message(1, _sender(kind))]}
    path.write_text(json.dumps(page, ensure_ascii=False), encoding="utf-8")
    (rec,) = read_records([str(path)])
    assert (rec.source_format, rec.author_role, rec.role_basis, rec.status) == ("teams", role, basis, "ok")


def test_slack_export_root_reads_the_channels_and_accounts_for_the_metadata(tmp_path: Path) -> None:
    root = _write_export(tmp_path / "export", USERS).parent
    (root / "integration_logs.json").write_text('{"logs": []}', encoding="utf-8")
    recs = list(read_records([str(root)]))
    skipped = sorted((Path(r.source_file).name, r.status) for r in recs if r.source_format == "folder")
    assert skipped == [("channels.json", "skipped"), ("integration_logs.json", "skipped"), ("users.json", "skipped")]
    assert all(r.reason.endswith("Slack export metadata (members and channels, no messages)")
               for r in recs if r.source_format == "folder")
    messages = [r for r in recs if r.source_format == "slack"]
    assert [(r.author_role, r.role_basis) for r in messages] == [FULL[key] for key, _ in DAY]


def test_a_users_json_without_channels_json_is_still_read_as_input(tmp_path: Path) -> None:
    # Not an export root: a file of that name is someone's data, and is read (here: no text column, an error).
    (tmp_path / "users.json").write_text(json.dumps([{"id": "U1", "name": "a"}]), encoding="utf-8")
    recs = list(read_records([str(tmp_path)]))
    assert [r.status for r in recs] == ["error"]


@pytest.mark.parametrize("profile, role, basis", [
    ({"is_restricted": True}, "customer", "slack user_profile.is_restricted (a guest)"),
    ({"is_restricted": True, "is_ultra_restricted": True}, "customer", "slack user_profile.is_ultra_restricted (a guest)"),
    ({"is_restricted": "true"}, "unknown", "slack member message (no users.json in the export folder): role unknown, "
                                           "scored"),
    ({"is_restricted": False}, "unknown", "slack member message (no users.json in the export folder): role unknown, "
                                          "scored"),
])
def test_slack_guest_flag_in_the_message_profile_without_users_json(tmp_path: Path, profile, role, basis) -> None:
    channel = _write_export(tmp_path / "export", None)
    msg = _msg("1793494900.000100", "U02GUEST")
    msg["user_profile"].update(profile)
    (channel / "2026-11-01.json").write_text(json.dumps([msg], ensure_ascii=False), encoding="utf-8")
    [rec] = read_records([str(channel)])
    assert (rec.author_role, rec.role_basis) == (role, basis)
