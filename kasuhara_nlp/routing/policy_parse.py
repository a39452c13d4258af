"""Parse and validate a routing policy (TOML via :mod:`tomllib`, or a dict) into policy.py's dataclasses.

Every error names the offending key, counting array items from 0, e.g.
``rules[2].min_severity: must be 0-3, got 5``; unknown keys are errors with a "did you mean" hint.
Errors in a policy file also name the file and the line (``policy routing.toml:12: ...``).

>>> parse_policy({"rules": [{"min_severity": 5, "destinations": ["queue"]}]})
Traceback (most recent call last):
...
kasuhara_nlp.errors.ConfigError: policy <dict>: rules[0].min_severity: must be 0-3, got 5
"""

from __future__ import annotations

import os
import re
import string
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Any, Callable

from ..errors import ConfigError
from ..labels import CATEGORIES
from .policy import (_DAYS, _LANGS, _STARTTLS, DEFAULT_STATE_DIR, QUEUE, TEMPLATE_FIELDS, DeliverySettings,
                     Destination, EmailDestination, Hours, JsonlDestination, MessageSettings, RoutingPolicy, Rule,
                     StaffEntry, WebhookDestination, check_url, normalize_staff_name)
from .policy_table import Table, clock, severity, toml_key
from .toml_lines import key_locator, split_key

__all__ = ["check_min_scores", "check_address", "default_policy", "load_policy", "parse_policy"]

# A plain address: something@domain, no spaces, no display name.  Deliberately loose (the SMTP server has the
# last word), but it catches "team at example.jp", a missing @ and "Name <a@b>" before the first alert is lost.
_ADDRESS = re.compile(r'^[^\s@<>()\[\],;:"]+@[^\s@<>()\[\],;:".]+(\.[^\s@<>()\[\],;:".]+)*$')


def check_address(value: str, key: str, fail: Callable[[str], Exception]) -> str:
    """Raise ``fail(...)`` unless ``value`` is a plain e-mail address; returns it.

    >>> check_address("team@example.jp", "to", ValueError)
    'team@example.jp'
    >>> check_address("team at example.jp", "destinations.mail.to", ValueError)
    Traceback (most recent call last):
    ...
    ValueError: destinations.mail.to: 'team at example.jp' is not an e-mail address; write it like team@example.jp (no display name)
    """
    if not _ADDRESS.match(value):
        raise fail(f"{key}: {value!r} is not an e-mail address; write it like team@example.jp (no display name)")
    return value


def _parse_rule(raw: Any, i: int, fail) -> Rule:
    t = Table(raw, f"rules[{i}]", fail)
    name = t.get("name", str, f"rule{i}")
    categories = t.strings("categories")
    for c in categories:
        if c not in CATEGORIES:
            raise fail(f"{t.key('categories')}: unknown category {c!r}; use {', '.join(CATEGORIES)}")
    lo, hi = severity(t, "min_severity", 1), severity(t, "max_severity", 3)
    if lo > hi:
        raise fail(f"{t.key('min_severity')}: {lo} is above max_severity {hi}")
    dests = t.strings("destinations")
    if not dests:
        raise fail(f"{t.key('destinations')}: name at least one destination, e.g. [\"{QUEUE}\"]")
    rule = Rule(name=name, destinations=dests, categories=categories, min_severity=lo, max_severity=hi,
                min_score=t.number("min_score", 0.0, 0.0, 1.0),
                notify_manager=t.get("notify_manager", bool, False))
    t.finish()
    return rule


def _path(base: Path, value: str) -> str:
    p = Path(os.path.expanduser(value))
    return str(p if p.is_absolute() else base / p)


def _parse_destination(name: str, raw: Any, base: Path, fail) -> Destination:
    t = Table(raw, f"destinations.{toml_key(name)}", fail)
    kind = t.get("type", str, "jsonl" if name == QUEUE else "")
    if kind == "jsonl":
        path = t.get("path", str, "")
        if not path:
            raise fail(f"{t.key('path')}: a jsonl destination needs a file path")
        dest: Destination = JsonlDestination(name, _path(base, path))
    elif kind == "webhook":
        url, url_env = t.get("url", str, ""), t.get("url_env", str, "")
        if bool(url) == bool(url_env):
            raise fail(f"{t.key('url')}: give exactly one of url or url_env (the name of a variable holding it)")
        if url:
            check_url(url, t.key("url"), fail)
        dest = WebhookDestination(name, url=url, url_env=url_env, timeout_s=t.number("timeout_s", 5.0, 0.001, 120),
                                  secret_env=t.get("secret_env", str, ""),
                                  signature_header=t.get("signature_header", str, "X-Kasuhara-Signature"))
    elif kind == "email":
        for secret in ("password", "username", "user"):
            if secret in t.data:
                raise fail(f"{t.key(secret)}: never put credentials in the policy; "
                           f"set {secret}_env to the name of an environment variable instead")
        host, sender = t.get("host", str, ""), t.get("from", str, "")
        if not host or not sender:
            raise fail(f"{t.key('host' if not host else 'from')}: an email destination needs host and from")
        starttls = t.get("starttls", str, "auto")
        if starttls not in _STARTTLS:
            raise fail(f"{t.key('starttls')}: must be one of {', '.join(_STARTTLS)}, got {starttls!r}")
        check_address(sender, t.key("from"), fail)
        to = tuple(check_address(a, t.key("to"), fail) for a in t.strings("to"))
        ca_file = t.get("ca_file", str, "")
        dest = EmailDestination(
            name, host=host, sender=sender, to=to, port=int(t.number("port", 587, 1, 65535)),
            starttls=starttls, ssl=t.get("ssl", bool, False), ca_file=_path(base, ca_file) if ca_file else "",
            username_env=t.get("username_env", str, ""), password_env=t.get("password_env", str, ""),
            allow_plain_auth=t.get("allow_plain_auth", bool, False), timeout_s=t.number("timeout_s", 10.0, 0.001, 300))
        if bool(dest.username_env) != bool(dest.password_env):
            raise fail(f"{t.key('username_env')}: give both username_env and password_env, or neither")
    else:
        raise fail(f"{t.key('type')}: must be jsonl, webhook or email, got {kind!r}")
    t.finish()
    return dest


def _parse_hours(raw: Any, fail) -> Hours:
    t = Table(raw, "hours", fail)
    days = []
    for d in t.strings("days", _DAYS[:5]):
        if d.lower()[:3] not in _DAYS:
            raise fail(f"hours.days: unknown day {d!r}; use {', '.join(_DAYS)}")
        days.append(_DAYS.index(d.lower()[:3]))
    holidays = []
    for h in t.get("holidays", list, []):
        try:
            holidays.append(h if isinstance(h, date) else date.fromisoformat(str(h)))
        except ValueError:
            raise fail(f"hours.holidays: {h!r} is not a date like 2026-01-01") from None
    hold = severity(t, "hold_max_severity", 1)
    if hold > 2:
        raise fail("hours.hold_max_severity: must be 0-2; severity 3 alerts are never held")
    start, end = clock(t, "start", time(9, 0)), clock(t, "end", time(18, 0))
    if start >= end:
        raise fail(f"hours.start: {start:%H:%M} must be before hours.end {end:%H:%M}")
    hours = Hours(enabled=t.get("enabled", bool, True), days=tuple(sorted(set(days))), start=start, end=end,
                  holidays=tuple(holidays), hold_max_severity=hold)
    t.finish()
    return hours


def _parse_thresholds(raw: Any, base: Path, fail) -> dict[str, float] | None:
    t = Table(raw, "model", fail)
    folder, table = t.get("folder", str, ""), t.get("thresholds", dict, None)
    t.finish()
    if folder and table is not None:
        raise fail("model.folder: give either model.folder or model.thresholds, not both")
    if folder:
        from ..config import ModelConfig  # plain JSON: no model is loaded

        try:
            return dict(ModelConfig.load(_path(base, folder)).thresholds)
        except FileNotFoundError:
            raise fail(f"model.folder: no kasuhara_config.json in {_path(base, folder)}") from None
    if table is not None:
        for cat, v in table.items():
            if cat not in CATEGORIES:
                raise fail(f"model.thresholds.{cat}: unknown category; use {', '.join(CATEGORIES)}")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1:
                raise fail(f"model.thresholds.{cat}: must be a number in (0, 1), got {v!r}")
        return {k: float(v) for k, v in table.items()}
    return None


def check_min_scores(policy: RoutingPolicy, thresholds: dict[str, float], fail=None) -> None:
    """Reject rules asking for a score below the model's flag threshold.

    Such a rule could never select less than the model flags (rules only match flagged categories), so
    the setting is a mistake; it is an error rather than silently raised to the threshold.

    >>> p = parse_policy({"rules": [{"min_score": 0.3, "destinations": ["queue"]}]})
    >>> check_min_scores(p, {"abuse": 0.7})
    Traceback (most recent call last):
    ...
    kasuhara_nlp.errors.ConfigError: rules[0].min_score: 0.3 is below the model's flag threshold 0.7 for 'abuse'; use a value >= 0.7 or leave min_score out
    """
    fail = fail or ConfigError
    for i, rule in enumerate(policy.rules):
        if rule.min_score <= 0:
            continue  # not set: the flag threshold itself applies
        for cat in rule.categories or CATEGORIES:
            thr = thresholds.get(cat)
            if thr is not None and rule.min_score < thr - 1e-9:
                raise fail(f"rules[{i}].min_score: {rule.min_score:g} is below the model's flag threshold "
                           f"{thr:g} for {cat!r}; use a value >= {thr:g} or leave min_score out")


def _check_recipients(rules: tuple[Rule, ...], dests: dict[str, Destination], staff: dict[str, StaffEntry],
                      fail: Callable[[str], ConfigError]) -> None:
    """Reject an e-mail destination that can never have a recipient: every alert to it would be dead-lettered."""
    managers = any(e.manager_email for e in staff.values())
    for name, dest in dests.items():
        if not isinstance(dest, EmailDestination) or dest.to:
            continue
        using = [r for r in rules if name in r.destinations]
        if not using:
            continue  # never used, so never fails
        notifies = any(r.notify_manager for r in using)
        if not notifies or not managers:
            why = "no rule using it sets notify_manager" if not notifies else "no [staff] entry has a manager_email"
            raise fail(f"destinations.{toml_key(name)}.to: is empty and {why}, so alerts to it would have no "
                       f"recipient; list the team's address, e.g. to = [\"team@example.jp\"]")


def parse_policy(data: dict[str, Any], *, base_dir: str | Path = ".", source: str = "<dict>",
                 locate: Callable[[str], int | None] | None = None) -> RoutingPolicy:
    """Validate a policy given as a dict (the parsed TOML); relative paths are resolved against ``base_dir``.

    ``locate`` maps an error's key to its line in the source file (see toml_lines.py), so that the error
    names the line as well as the key.
    """
    base = Path(base_dir)

    def fail(message: str) -> ConfigError:
        key = split_key(message)
        line = locate(key) if locate and key else None
        return ConfigError(f"policy {source}{f':{line}' if line else ''}: {message}")

    top = Table(data, "", fail)
    top.used.update({"hours", "model"})  # parsed below, only when present
    state_dir = Path(_path(base, top.get("state_dir", str, DEFAULT_STATE_DIR)))
    raw_dests = top.get("destinations", dict, {})
    dests: dict[str, Destination] = {QUEUE: JsonlDestination(QUEUE, str(state_dir / "alerts.jsonl"))}
    for name, raw in raw_dests.items():
        dests[name] = _parse_destination(name, raw, base, fail)
    raw_rules = top.get("rules", list, None)
    if raw_rules is None:
        rules: tuple[Rule, ...] = (Rule("default", (QUEUE,)),)
    else:
        rules = tuple(_parse_rule(r, i, fail) for i, r in enumerate(raw_rules))
    for i, rule in enumerate(rules):
        for d in rule.destinations:
            if d not in dests:
                raise fail(f"rules[{i}].destinations: unknown destination {d!r}; define [destinations.{d}] "
                           f"or use one of {', '.join(sorted(dests))}")
    staff: dict[str, StaffEntry] = {}
    written: dict[str, str] = {}  # normalised name -> the name as written, to report two spellings of one person
    for name, raw in top.get("staff", dict, {}).items():
        t = Table(raw, f"staff.{toml_key(name)}", fail)
        key = normalize_staff_name(name)
        if key in written:
            raise fail(f"{t.where}: the same person as staff.{toml_key(written[key])} (names are matched after "
                       "NFKC and collapsing spaces); keep one of them")
        written[key] = name
        email = t.get("manager_email", str, "")
        if email:
            check_address(email, t.key("manager_email"), fail)
        staff[key] = StaffEntry(manager=t.get("manager", str, ""), manager_email=email)
        t.finish()
        if not staff[key].manager and not staff[key].manager_email:
            raise fail(f"{t.key('manager')}: give the manager's name and/or manager_email")
    _check_recipients(rules, dests, staff, fail)
    hours = _parse_hours(top.get("hours", dict, None), fail) if "hours" in data else Hours()
    dt = Table(top.get("delivery", dict, {}), "delivery", fail)
    delivery = DeliverySettings(attempts=int(dt.number("attempts", 3, 1, 20)),
                                base_delay_s=dt.number("base_delay_s", 0.5, 0, 300),
                                max_delay_s=dt.number("max_delay_s", 30.0, 0, 3600),
                                min_interval_s=dt.number("min_interval_s", 0.0, 0, 60),
                                dead_after_hours=dt.number("dead_after_hours", 24.0, 0, 24 * 30))
    dt.finish()
    mt = Table(top.get("message", dict, {}), "message", fail)
    language = mt.get("language", str, "ja")
    if language not in _LANGS:
        raise fail(f"message.language: must be ja or en, got {language!r}")
    templates = mt.get("templates", dict, {})
    for key, tmpl in templates.items():
        if key not in ("subject", "text", "title"):
            raise fail(f"message.templates.{key}: unknown template; use subject, title or text")
        if not isinstance(tmpl, str):
            raise fail(f"message.templates.{key}: must be a string")
        t_obj = string.Template(tmpl)
        unknown = set(t_obj.get_identifiers()) - TEMPLATE_FIELDS
        if unknown or not t_obj.is_valid():
            raise fail(f"message.templates.{key}: unknown placeholder(s) {sorted(unknown) or 'malformed $'}; "
                       f"use {', '.join('$' + f for f in sorted(TEMPLATE_FIELDS))}")
    ticket_url = mt.get("ticket_url", str, "")
    try:
        ticket_url.format(conversation_id="c", message_id="m", id="i")
    except (KeyError, IndexError, ValueError) as exc:
        raise fail(f"message.ticket_url: only {{conversation_id}}, {{message_id}} and {{id}} may be used ({exc})") from None
    message = MessageSettings(language=language, include_body=mt.get("include_body", bool, False),
                              ticket_url=ticket_url, guideline_url=mt.get("guideline_url", str, ""),
                              care_message=mt.get("care_message", str, ""), templates=dict(templates))
    mt.finish()
    thresholds = _parse_thresholds(top.get("model", dict, {}), base, fail) if "model" in data else None
    policy = RoutingPolicy(
        rules=rules, destinations=dests, staff=staff, hours=hours,
        cooldown_minutes=top.number("cooldown_minutes", 30.0, 0, 7 * 24 * 60), delivery=delivery,
        message=message, state_dir=state_dir,
        staff_reports_path=Path(_path(base, top.get("staff_reports_path", str, "data/staff_reports.jsonl"))),
        route_conversations=top.get("route_conversations", bool, False), thresholds=thresholds, source=source)
    top.finish()
    if thresholds:
        check_min_scores(policy, thresholds, fail)
    return policy


def default_policy() -> RoutingPolicy:
    """Every flagged category to the JSONL queue kasuhara-routing/alerts.jsonl; no quiet hours."""
    return parse_policy({}, source="<defaults>")


def load_policy(path: str | Path | RoutingPolicy | None) -> RoutingPolicy:
    """Read and validate a TOML policy file; ``None`` gives :func:`default_policy`.

    >>> load_policy(None).cooldown_minutes
    30.0
    """
    if isinstance(path, RoutingPolicy):
        return path
    if path is None:
        return default_policy()
    p = Path(path)
    try:
        # utf-8-sig: Windows editors (Notepad, Excel exports) often save with a BOM, which TOML does not allow.
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"policy file {p} not found; copy docs/routing-policy.example.toml to start") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"policy {p}: not UTF-8 (byte {exc.start}); save the file as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"at line (\d+)", str(exc))
        raise ConfigError(f"policy {p}{':' + m.group(1) if m else ''}: not valid TOML ({exc})") from None
    return parse_policy(data, base_dir=p.resolve().parent, source=str(p), locate=key_locator(text))
