"""Slack channel exports and Microsoft Graph/Teams ``chatMessage`` lists, read with the roles their files carry.

A role is only given where a field proves it, and always leans to the customer: a customer taken for staff would
not be scored, a member of staff taken for a customer only costs a look.  When in doubt the role stays
``unknown`` (scored), and ``role_basis`` names the field that decided.

Slack (``<export>/<channel>/<day>.json``, a list of messages): ``bot_message`` or a ``bot_id`` is a bot, an event
subtype (``channel_join``, …) is system, and a member's message gets its role from ``users.json`` at the root of
the export (the folder above the channel folder), read once per export:

1. a guest (``is_restricted`` or ``is_ultra_restricted`` true in users.json, or in the message's own
   ``user_profile``, which Slack fills from the same account) -> customer;
2. a Slack Connect message whose ``user_team`` (or, without one, ``team``) is not the export's team -> customer;
3. a full member (both flags false, not ``is_bot``, not ``deleted``) whose ``team_id`` is the export's team ->
   agent, but only in a day file where rule 1 or 2 finds someone from outside: in a community workspace the
   customers are full members too, so a member is told from a customer only where customers visibly differ;
4. anything else -> unknown.

The export's team is the ``team_id`` of the members of users.json that are neither guests nor bots.  Where they
name two teams (an org-wide export, external members listed) no team is taken, and rules 2 and 3 give nothing.
No users.json, or one that is not a JSON list of member objects with string ids, gives nothing at all: every
member stays unknown, as before users.json was read.  A deactivated account (``deleted``) is never staff: its
flags may no longer say what it was.

Teams: ``from.application`` is a bot, a ``messageType`` other than ``message`` is system, and ``from.user`` is a
customer when its ``userIdentityType`` is one no account of the tenant has (federatedUser, anonymousGuest,
personalMicrosoftAccountUser, emailUser, phoneUser, skypeUser); an ``aadUser`` or ``onPremiseAadUser`` stays
unknown, as an Azure AD B2B guest is an ``aadUser`` too.

>>> home = {"team_id": "T1", "is_restricted": False, "is_ultra_restricted": False, "is_bot": False}
>>> d = slack_directory_of([dict(home, id="U1"), dict(home, id="U2", is_restricted=True)])
>>> [slack_member_role(m, d, outsiders=True)[0] for m in ({"user": "U1"}, {"user": "U2"}, {"user": "U9", "user_team": "T2"})]
['agent', 'customer', 'customer']
>>> slack_member_role({"user": "U1"}, d, outsiders=False)[0]  # nobody from outside in the file: a community?
'unknown'
>>> teams_user_role({"userIdentityType": "anonymousGuest"}), teams_user_role({"userIdentityType": "aadUser"})[0]
(('customer', 'from.user.userIdentityType anonymousGuest'), 'unknown')
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType
from typing import Any

from .adapters import each
from .common import as_object

__all__ = [
    "SlackDirectory",
    "slack_directory",
    "slack_directory_of",
    "slack_member_role",
    "slack_messages",
    "teams_messages",
    "teams_user_role",
]

log = logging.getLogger(__name__)

# Slack mrkdwn: <@U123>, <#C1|general>, <https://x|label>; entities as in HTML.
_SLACK_LINK = re.compile(r"<([^<>|]+)\|([^<>]+)>")
_SLACK_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
# Subtypes that are still a member's own words, unlike channel_join and the other events.
_SLACK_MEMBER_SUBTYPES = ("thread_broadcast", "file_share", "me_message")
_GUEST_FLAGS = ("is_ultra_restricted", "is_restricted")

#: Graph ``userIdentityType`` values no account of the exporting tenant has: someone from outside.
TEAMS_OUTSIDE_IDENTITIES = frozenset({
    "federatedUser", "anonymousGuest", "personalMicrosoftAccountUser", "emailUser", "phoneUser", "skypeUser",
})
_TEAMS_KNOWN = TEAMS_OUTSIDE_IDENTITIES | {"aadUser", "onPremiseAadUser", "unknownFutureValue"}


@dataclass(frozen=True)
class _Member:
    """What users.json says of one member: the guest flag that is true, or the team of a full member."""

    guest: str | None
    team: str | None


@dataclass(frozen=True)
class SlackDirectory:
    """users.json of one Slack export, as far as it decides roles.

    ``home_team`` is the export's own team, None where it cannot be told; ``note`` says why (no users.json, a
    malformed one, members of two teams), for the basis of the roles left unknown.
    """

    members: Mapping[str, _Member] = field(default_factory=dict)
    home_team: str | None = None
    note: str = ""


def slack_directory_of(users: Any) -> SlackDirectory:
    """The directory of a parsed users.json; an empty one (every member unknown) for anything but a member list.

    >>> slack_directory_of({"members": []}).note
    'users.json is not a list of members with ids'
    >>> two = [{"id": u, "team_id": t, "is_restricted": False} for u, t in (("U1", "T1"), ("U2", "T2"))]
    >>> slack_directory_of(two).home_team, slack_directory_of(two).note
    (None, 'users.json lists members of 2 teams')
    """
    if not isinstance(users, list) or not all(isinstance(u, dict) and isinstance(u.get("id"), str) for u in users):
        # One damaged entry makes the whole file suspect (cut short, edited, not Slack's): it decides no role.
        return SlackDirectory(note="users.json is not a list of members with ids")
    members: dict[str, _Member] = {}
    teams: set[str] = set()
    for user in users:
        guest = next((flag for flag in _GUEST_FLAGS if user.get(flag) is True), None)
        team = user.get("team_id") if isinstance(user.get("team_id"), str) and user.get("team_id") else None
        if guest is None and user.get("is_bot") is not True and team is not None:
            teams.add(team)
        # Staff only on explicit false flags: a flag missing or of another type proves nothing.
        full = all(user.get(flag) is False for flag in _GUEST_FLAGS) and user.get("is_bot") is not True \
            and user.get("deleted") is not True
        member = _Member(guest, team if full else None)
        seen = members.get(user["id"])
        if seen is not None and seen != member:  # listed twice, differently: a guest if either says so, never staff
            member = _Member(seen.guest or guest, None)
        members[user["id"]] = member
    # Read-only: one directory is cached and shared by every day file of the export.
    view = MappingProxyType(members)
    if len(teams) == 1:
        return SlackDirectory(view, next(iter(teams)))
    note = f"users.json lists members of {len(teams)} teams" if teams else "users.json names no member's team"
    return SlackDirectory(view, None, note)


def slack_directory(day_file: str) -> SlackDirectory:
    """The directory of the export that holds ``day_file`` (``<export>/<channel>/<day>.json``): its users.json.

    >>> slack_directory("/nonexistent/general/2026-11-01.json").note
    'no users.json in the export folder'
    """
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(day_file))), "users.json")
    try:
        st = os.stat(path)
    except OSError:
        return SlackDirectory(note="no users.json in the export folder")
    if not stat.S_ISREG(st.st_mode):
        return SlackDirectory(note="users.json is not a file")
    return _read_directory(path, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=16)
def _read_directory(path: str, mtime_ns: int, size: int) -> SlackDirectory:
    """users.json read once per export (every day file of every channel asks); the stat in the key reads a
    rewritten file again."""
    try:
        with open(path, "rb") as f:
            users = json.loads(f.read().decode("utf-8-sig"))
    except OSError as exc:
        why = f"users.json unreadable ({exc.strerror or type(exc).__name__})"
    except (UnicodeDecodeError, ValueError, RecursionError):
        why = "users.json is not JSON"
    else:
        directory = slack_directory_of(users)
        if directory.members:
            return directory
        why = directory.note
    # The path and the kind of fault only: the file holds names and addresses.
    log.warning("%s: %s; Slack members keep the role unknown", path, why)
    return SlackDirectory(note=why)


def _message_team(msg: dict[str, Any]) -> tuple[str | None, str | None]:
    """(field, team id) of the poster's team: ``user_team``, else ``team``."""
    for key in ("user_team", "team"):
        value = msg.get(key)
        if isinstance(value, str) and value:
            return key, value
    return None, None


def slack_member_role(msg: dict[str, Any], directory: SlackDirectory, *, outsiders: bool) -> tuple[str, str]:
    """(role, basis) of a member's (not a bot's) message, by the rules of this module; ``outsiders``: whether
    the day file holds a message that rule 1 or 2 gives to a customer (rule 3 needs one).

    >>> slack_member_role({"user": "U1", "user_team": "T2"}, SlackDirectory(note="no users.json in the export folder"),
    ...                   outsiders=False)
    ('unknown', 'member message (no users.json in the export folder): role unknown, scored')
    """
    user = msg.get("user")
    member = directory.members.get(user) if isinstance(user, str) else None
    if member is not None and member.guest:
        return "customer", f"users.json {member.guest} (a guest)"
    # Slack copies the poster's guest flags into each message's user_profile: a guest without users.json.
    profile = as_object(msg.get("user_profile"))
    flag = next((f for f in _GUEST_FLAGS if profile.get(f) is True), None)
    if flag:
        return "customer", f"user_profile.{flag} (a guest)"
    home = directory.home_team
    key, team = _message_team(msg)
    if home is not None and team is not None and team != home:
        return "customer", f"{key} {team} is not the export's team {home} (Slack Connect)"
    if home is not None and member is not None and member.team == home:
        if outsiders:
            return "agent", f"users.json full member of the export's team {home}"
        why = "a full member, in a file with no guest or outside team"
    else:
        why = directory.note or ("user not in users.json" if member is None
                                 else "users.json: not a full member of the export's team")
    return "unknown", f"member message ({why}): role unknown, scored"


def _slack_text(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    text = _SLACK_LINK.sub(r"\2", text)
    for entity, char in _SLACK_ENTITIES:
        text = text.replace(entity, char)
    return text


def slack_messages(data: Any, path: str) -> Iterator[tuple[str, Any]]:
    """The adapter of a Slack day file (see :mod:`.adapters`): its messages, roles from the export's users.json."""
    channel = os.path.basename(os.path.dirname(os.path.abspath(path)))
    directory = slack_directory(path)
    outsiders = isinstance(data, list) and any(
        _not_a_member(m) is None and slack_member_role(m, directory, outsiders=False)[0] == "customer"
        for m in data if isinstance(m, dict))
    return each(data, "", partial(_slack_message, channel=channel, directory=directory, outsiders=outsiders))


def _not_a_member(msg: dict[str, Any]) -> tuple[str, str] | None:
    """(role, basis) of a bot's post or an event (``channel_join``, …); None for a member's own words."""
    subtype = msg.get("subtype")
    if subtype == "bot_message" or msg.get("bot_id"):
        return "bot", "bot_message"
    if subtype and subtype not in _SLACK_MEMBER_SUBTYPES:
        return "system", f"subtype {subtype} (an event)"
    return None


def _slack_message(msg: dict[str, Any], channel: str, directory: SlackDirectory, outsiders: bool) -> dict[str, Any]:
    role, basis = _not_a_member(msg) or slack_member_role(msg, directory, outsiders=outsiders)
    profile = as_object(msg.get("user_profile"))
    return {
        "id": f"{channel}:{msg.get('ts')}" if msg.get("ts") else None,
        "conversation": f"{channel}:{msg.get('thread_ts') or msg.get('ts')}", "text": _slack_text(msg.get("text")),
        "html": False, "role": role, "basis": basis, "time": (msg.get("ts"), "ts"), "channel": "slack",
        "author": profile.get("real_name") or profile.get("display_name"),
    }


def teams_user_role(user: Any) -> tuple[str, str]:
    """(role, basis) of a Teams message sent by ``from.user``: a customer only for an identity from outside.

    >>> teams_user_role({"userIdentityType": "onPremiseAadUser"})
    ('unknown', 'from.user.userIdentityType onPremiseAadUser: role unknown, scored')
    """
    kind = as_object(user).get("userIdentityType")
    if isinstance(kind, str) and kind in TEAMS_OUTSIDE_IDENTITIES:
        return "customer", f"from.user.userIdentityType {kind}"
    # A damaged file's value is not repeated: only Graph's own names are.
    shown = kind if isinstance(kind, str) and kind in _TEAMS_KNOWN else "missing" if kind is None else "unrecognised"
    return "unknown", f"from.user.userIdentityType {shown}: role unknown, scored"


def teams_messages(data: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The adapter of a Graph ``{"value": [chatMessage, …]}`` page (see :mod:`.adapters`)."""
    return each(data.get("value"), "/value", _teams_message)


def _teams_message(msg: dict[str, Any]) -> dict[str, Any]:
    sender, body = as_object(msg.get("from")), as_object(msg.get("body"))
    if msg.get("messageType") not in (None, "message"):
        role, basis = "system", f"messageType {msg.get('messageType')}"
    elif sender.get("application"):
        role, basis = "bot", "from.application"
    else:
        role, basis = teams_user_role(sender.get("user"))
    user = as_object(sender.get("user"))
    return {
        "id": msg.get("id"), "conversation": msg.get("chatId") or msg.get("replyToId") or msg.get("id"),
        "text": body.get("content") or "", "html": str(body.get("contentType")).lower() == "html",
        "role": role, "basis": basis, "time": (msg.get("createdDateTime"), "createdDateTime"),
        "subject": msg.get("subject"), "visibility": "internal" if msg.get("deletedDateTime") else "public",
        "channel": "teams", "author": user.get("displayName"),
    }
