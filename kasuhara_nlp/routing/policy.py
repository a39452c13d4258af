"""The routing policy: which alerts go where, when, and how they are worded.

A policy is a TOML file read with :mod:`tomllib` (see docs/routing-policy.example.toml) and turned into
frozen, validated dataclasses.  Every error names the offending key, counting array items from 0, e.g.
``rules[2].min_severity: must be 0-3, got 5``.  Without a file, :func:`default_policy` sends every flagged
category to the JSONL queue ``kasuhara-routing/alerts.jsonl``.

Relative paths in a policy file are relative to the folder holding the file.

>>> p = load_policy(None)
>>> [r.name for r in p.rules], sorted(p.destinations)
(['default'], ['queue'])
>>> parse_policy({"rules": [{"min_severity": 5, "destinations": ["queue"]}]})
Traceback (most recent call last):
...
kasuhara_nlp.errors.ConfigError: policy <dict>: rules[0].min_severity: must be 0-3, got 5
"""

from __future__ import annotations

import difflib
import os
import string
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from ..errors import ConfigError
from ..labels import CATEGORIES, SEVERITY_LEVELS

__all__ = [
    "JST", "DeliverySettings", "EmailDestination", "Hours", "JsonlDestination", "MessageSettings",
    "RoutingPolicy", "Rule", "StaffEntry", "WebhookDestination", "check_min_scores", "default_policy",
    "load_policy", "parse_policy", "DEFAULT_STATE_DIR", "QUEUE",
]

#: Japan Standard Time.  Fixed offset: Japan has no daylight saving time, and this avoids needing tzdata.
JST = timezone(timedelta(hours=9), "JST")
#: Where state, the queue, the audit log and the dead letters live when a policy does not say.
DEFAULT_STATE_DIR = "kasuhara-routing"
#: Name of the JSONL queue destination, which always exists.
QUEUE = "queue"
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LANGS = ("ja", "en")
_STARTTLS = ("auto", "always", "never")
#: Placeholders a `templates.text` / `templates.subject` override may use (see alerts.py).
TEMPLATE_FIELDS = frozenset({
    "category", "category_name", "severity", "severity_name", "score", "scores", "staff", "manager",
    "conversation_id", "message_id", "ticket_url", "evidence", "body", "care_message", "guideline_url",
    "origin", "channel", "timestamp", "other_labels", "key",
})


@dataclass(frozen=True)
class Rule:
    """Select alerts by category and severity and send them to named destinations.

    Every matching rule applies; the destinations of all matching rules are merged.  A rule matches a
    category only when the model flagged it (it is in ``labels``), so ``min_score`` can ask for more
    than the model's flag threshold but never less (see :func:`check_min_scores`).  ``min_score`` is not
    applied to staff reports, which carry no model score.
    """

    name: str
    destinations: tuple[str, ...]
    categories: tuple[str, ...] = ()  # empty: every category
    min_severity: int = 1
    max_severity: int = 3
    min_score: float = 0.0
    notify_manager: bool = False

    def matches(self, category: str, severity: int, score: float | None) -> bool:
        """True when this rule selects ``category`` at ``severity`` (``score`` None: a staff report).

        >>> Rule("r", ("queue",), min_severity=2).matches("abuse", 3, 0.9)
        True
        """
        if self.categories and category not in self.categories:
            return False
        if not self.min_severity <= severity <= self.max_severity:
            return False
        return score is None or score >= self.min_score


@dataclass(frozen=True)
class JsonlDestination:
    """An append-only JSONL file; ``{date}`` in the path becomes the JST date (a daily digest file)."""

    name: str
    path: str
    type: str = "jsonl"

    def path_for(self, when: datetime) -> Path:
        return Path(self.path.replace("{date}", when.astimezone(JST).strftime("%Y-%m-%d")))


@dataclass(frozen=True)
class WebhookDestination:
    """An HTTP(S) endpoint taking a Slack-compatible JSON body."""

    name: str
    url: str = ""
    url_env: str = ""  # read the URL from this environment variable (webhook URLs are secrets)
    timeout_s: float = 5.0
    secret_env: str = ""  # HMAC-SHA256 key for the signature header; empty: unsigned
    signature_header: str = "X-Kasuhara-Signature"
    type: str = "webhook"


@dataclass(frozen=True)
class EmailDestination:
    """An SMTP server; credentials come from environment variables only."""

    name: str
    host: str
    sender: str
    to: tuple[str, ...] = ()
    port: int = 587
    starttls: str = "auto"  # auto: when the server offers it; always: fail without it; never
    ssl: bool = False  # implicit TLS (SMTPS, usually port 465)
    ca_file: str = ""  # trust this CA bundle / certificate instead of the system store
    username_env: str = ""
    password_env: str = ""
    allow_plain_auth: bool = False  # send credentials without TLS (a local relay only)
    timeout_s: float = 10.0
    type: str = "email"


Destination = JsonlDestination | WebhookDestination | EmailDestination


@dataclass(frozen=True)
class StaffEntry:
    """The manager of a staff member, told of severe alerts about messages that staff member received."""

    manager: str
    manager_email: str = ""


@dataclass(frozen=True)
class Hours:
    """Business hours in JST.  Outside them (quiet hours), alerts of severity <= ``hold_max_severity`` are
    held and released at the next run inside business hours or by ``route --release-held``.
    Severity 3 is never held."""

    enabled: bool = False
    days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    start: time = time(9, 0)
    end: time = time(18, 0)
    holidays: tuple[date, ...] = ()
    hold_max_severity: int = 1

    def is_quiet(self, now: datetime) -> bool:
        """True outside business hours (``now`` is converted to JST).

        >>> h = Hours(enabled=True)
        >>> h.is_quiet(datetime(2026, 4, 6, 10, 0, tzinfo=JST)), h.is_quiet(datetime(2026, 4, 6, 23, 0, tzinfo=JST))
        (False, True)
        """
        if not self.enabled:
            return False
        local = now.astimezone(JST)
        if local.weekday() not in self.days or local.date() in self.holidays:
            return True
        return not self.start <= local.time().replace(tzinfo=None) < self.end

    def holds(self, severity: int, now: datetime) -> bool:
        """True when an alert of ``severity`` is held back at ``now``; never for severity 3."""
        return severity < 3 and severity <= self.hold_max_severity and self.is_quiet(now)


@dataclass(frozen=True)
class DeliverySettings:
    """Retries (exponential backoff with full jitter) and a pause between deliveries (rate limiting)."""

    attempts: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    min_interval_s: float = 0.0


@dataclass(frozen=True)
class MessageSettings:
    """How alerts are worded."""

    language: str = "ja"
    include_body: bool = False  # the (PII-masked) message text, off by default
    ticket_url: str = ""  # e.g. https://helpdesk.example.jp/tickets/{conversation_id}
    guideline_url: str = ""
    care_message: str = ""  # empty: the built-in message of care in `language`
    templates: dict[str, str] = field(default_factory=dict)  # subject / text overrides (string.Template)


@dataclass(frozen=True)
class RoutingPolicy:
    """A validated routing policy.  Build it with :func:`load_policy` or :func:`parse_policy`."""

    rules: tuple[Rule, ...]
    destinations: dict[str, Destination]
    staff: dict[str, StaffEntry] = field(default_factory=dict)
    hours: Hours = Hours()
    cooldown_minutes: float = 30.0
    delivery: DeliverySettings = DeliverySettings()
    message: MessageSettings = MessageSettings()
    state_dir: Path = Path(DEFAULT_STATE_DIR)
    staff_reports_path: Path = Path("data/staff_reports.jsonl")
    route_conversations: bool = False
    thresholds: dict[str, float] | None = None  # the model's flag thresholds, when the policy names them
    source: str = "<defaults>"

    def env_problems(self, environ: dict[str, str] | None = None) -> list[str]:
        """Environment variables the used destinations need but which are unset."""
        env = os.environ if environ is None else environ
        used = {d for r in self.rules for d in r.destinations}
        problems = []
        for name in sorted(used):
            d = self.destinations[name]
            for attr in ("url_env", "secret_env", "username_env", "password_env"):
                var = getattr(d, attr, "")
                if var and not env.get(var):
                    problems.append(f"destinations.{name}.{attr}: environment variable {var} is not set")
        return problems


# --- parsing --------------------------------------------------------------------------------------


class _Table:
    """Read typed keys from one TOML table; unknown keys are errors with a suggestion."""

    def __init__(self, data: Any, where: str, fail: Callable[[str], ConfigError]):
        self.where, self.fail, self.used = where, fail, set()
        if not isinstance(data, dict):
            raise fail(f"{where or 'policy'}: must be a table, got {type(data).__name__}")
        self.data = data

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def get(self, name: str, kind: type | tuple[type, ...], default: Any) -> Any:
        self.used.add(name)
        if name not in self.data:
            return default
        value = self.data[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # bool is an int in Python; a policy saying `attempts = true` is a mistake.
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise self.fail(f"{self.key(name)}: must be {names}, got {value!r}")
        return value

    def number(self, name: str, default: float, lo: float, hi: float | None = None) -> float:
        value = float(self.get(name, (int, float), default))
        if value < lo or (hi is not None and value > hi):
            bound = f"between {lo:g} and {hi:g}" if hi is not None else f">= {lo:g}"
            raise self.fail(f"{self.key(name)}: must be {bound}, got {value:g}")
        return value

    def strings(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.get(name, (list, str), list(default))
        value = [value] if isinstance(value, str) else value
        if not all(isinstance(v, str) for v in value):
            raise self.fail(f"{self.key(name)}: must be a list of strings, got {value!r}")
        return tuple(value)

    def finish(self) -> None:
        for name in self.data:
            if name not in self.used:
                close = difflib.get_close_matches(name, sorted(self.used), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(sorted(self.used))}"
                raise self.fail(f"{self.key(name)}: unknown key{hint}")


def _severity(t: _Table, name: str, default: int) -> int:
    value = t.get(name, int, default)
    if value not in SEVERITY_LEVELS:
        raise t.fail(f"{t.key(name)}: must be 0-3, got {value}")
    return value


def _clock(t: _Table, name: str, default: time) -> time:
    value = t.get(name, (str, time), default)
    if isinstance(value, time):
        return value
    try:
        hh, mm = value.split(":")
        if hh == "24" and mm == "00":
            return time.max  # "24:00": until the end of the day
        return time(int(hh), int(mm))
    except ValueError:
        raise t.fail(f"{t.key(name)}: must be a time of day like \"09:00\", got {value!r}") from None


def _parse_rule(raw: Any, i: int, fail) -> Rule:
    t = _Table(raw, f"rules[{i}]", fail)
    name = t.get("name", str, f"rule{i}")
    categories = t.strings("categories")
    for c in categories:
        if c not in CATEGORIES:
            raise fail(f"{t.key('categories')}: unknown category {c!r}; use {', '.join(CATEGORIES)}")
    lo, hi = _severity(t, "min_severity", 1), _severity(t, "max_severity", 3)
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


def _check_url(value: str, key: str, fail) -> None:
    parts = urlsplit(value)
    # Alerts describe harassment of named staff: plain HTTP only to this machine.
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise fail(f"{key}: must be an https:// URL (http:// only for localhost), got {value!r}")


def _parse_destination(name: str, raw: Any, base: Path, fail) -> Destination:
    t = _Table(raw, f"destinations.{name}", fail)
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
            _check_url(url, t.key("url"), fail)
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
        ca_file = t.get("ca_file", str, "")
        dest = EmailDestination(
            name, host=host, sender=sender, to=t.strings("to"), port=int(t.number("port", 587, 1, 65535)),
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
    t = _Table(raw, "hours", fail)
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
    hold = _severity(t, "hold_max_severity", 1)
    if hold > 2:
        raise fail("hours.hold_max_severity: must be 0-2; severity 3 alerts are never held")
    start, end = _clock(t, "start", time(9, 0)), _clock(t, "end", time(18, 0))
    if start >= end:
        raise fail(f"hours.start: {start:%H:%M} must be before hours.end {end:%H:%M}")
    hours = Hours(enabled=t.get("enabled", bool, True), days=tuple(sorted(set(days))), start=start, end=end,
                  holidays=tuple(holidays), hold_max_severity=hold)
    t.finish()
    return hours


def _parse_thresholds(raw: Any, base: Path, fail) -> dict[str, float] | None:
    t = _Table(raw, "model", fail)
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


def parse_policy(data: dict[str, Any], *, base_dir: str | Path = ".", source: str = "<dict>") -> RoutingPolicy:
    """Validate a policy given as a dict (the parsed TOML); relative paths are resolved against ``base_dir``."""
    base = Path(base_dir)

    def fail(message: str) -> ConfigError:
        return ConfigError(f"policy {source}: {message}")

    top = _Table(data, "", fail)
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
    staff = {}
    for name, raw in top.get("staff", dict, {}).items():
        t = _Table(raw, f"staff.{name}", fail)
        staff[name] = StaffEntry(manager=t.get("manager", str, ""), manager_email=t.get("manager_email", str, ""))
        t.finish()
        if not staff[name].manager and not staff[name].manager_email:
            raise fail(f"staff.{name}.manager: give the manager's name and/or manager_email")
    hours = _parse_hours(top.get("hours", dict, None), fail) if "hours" in data else Hours()
    dt = _Table(top.get("delivery", dict, {}), "delivery", fail)
    delivery = DeliverySettings(attempts=int(dt.number("attempts", 3, 1, 20)),
                                base_delay_s=dt.number("base_delay_s", 0.5, 0, 300),
                                max_delay_s=dt.number("max_delay_s", 30.0, 0, 3600),
                                min_interval_s=dt.number("min_interval_s", 0.0, 0, 60))
    dt.finish()
    mt = _Table(top.get("message", dict, {}), "message", fail)
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
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"policy file {p} not found; copy docs/routing-policy.example.toml to start") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"policy {p}: not valid TOML ({exc})") from None
    return parse_policy(data, base_dir=p.resolve().parent, source=str(p))
