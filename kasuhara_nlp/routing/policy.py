"""The routing policy: which alerts go where, when, and how they are worded.

A policy is a TOML file read with :mod:`tomllib` (see docs/routing-policy.example.toml) and turned into
frozen, validated dataclasses.  Every error names the offending key, counting array items from 0, e.g.
``rules[2].min_severity: must be 0-3, got 5``.  Without a file, :func:`default_policy` sends every flagged
category to the JSONL queue ``kasuhara-routing/alerts.jsonl``.

Relative paths in a policy file are relative to the folder holding the file.

>>> from kasuhara_nlp.routing.policy_parse import load_policy, parse_policy
>>> p = load_policy(None)
>>> [r.name for r in p.rules], sorted(p.destinations)
(['default'], ['queue'])
>>> parse_policy({"rules": [{"min_severity": 5, "destinations": ["queue"]}]})
Traceback (most recent call last):
...
kasuhara_nlp.errors.ConfigError: policy <dict>: rules[0].min_severity: must be 0-3, got 5
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

__all__ = [
    "JST", "DeliverySettings", "EmailDestination", "Hours", "JsonlDestination", "MessageSettings",
    "RoutingPolicy", "Rule", "StaffEntry", "WebhookDestination", "DEFAULT_STATE_DIR", "QUEUE", "check_url",
    "normalize_staff_name",
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


def normalize_staff_name(name: str) -> str:
    """The form staff names are matched in: NFKC, whitespace runs collapsed to one space, trimmed.

    Helpdesk exports write 「山田　花子」 with a full-width space, or half-width katakana; a policy
    written by hand usually has 「山田 花子」.  Matching them exactly would silently skip the manager.

    >>> normalize_staff_name("山田\u3000 花子 ") == normalize_staff_name("山田 花子") == "山田 花子"
    True
    """
    return " ".join(unicodedata.normalize("NFKC", name).split())


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
    # A delivery that failed for a temporary reason (timeout, 5xx, SMTP 4xx) is retried by later runs
    # until this long after its first failure; then it is dead.  0: dead at the end of the first run.
    dead_after_hours: float = 24.0


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
    staff: dict[str, StaffEntry] = field(default_factory=dict)  # keys: normalize_staff_name(name)
    hours: Hours = Hours()
    cooldown_minutes: float = 30.0
    delivery: DeliverySettings = DeliverySettings()
    message: MessageSettings = MessageSettings()
    state_dir: Path = Path(DEFAULT_STATE_DIR)
    staff_reports_path: Path = Path("data/staff_reports.jsonl")
    route_conversations: bool = False
    thresholds: dict[str, float] | None = None  # the model's flag thresholds, when the policy names them
    source: str = "<defaults>"

    def staff_entry(self, name: str | None) -> StaffEntry | None:
        """The staff map's entry for ``name``, matched after :func:`normalize_staff_name`; None if unknown."""
        return self.staff.get(normalize_staff_name(name)) if name else None

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


def check_url(value: str, key: str, fail: Callable[[str], Exception]) -> None:
    """Raise ``fail(...)`` unless ``value`` is an https URL (plain http only to this machine).

    >>> check_url("http://127.0.0.1:8080/hook", "url", ValueError)
    """
    parts = urlsplit(value)
    # Alerts describe harassment of named staff: plain HTTP only to this machine.
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise fail(f"{key}: must be an https:// URL (http:// only for localhost), got {value!r}")
