"""Routing policy: defaults, the example file, and validation errors that name the key (table-driven)."""

from datetime import datetime
from pathlib import Path

import pytest

from kasuhara_nlp.errors import ConfigError
from kasuhara_nlp.routing import Router, load_policy, parse_policy
from kasuhara_nlp.routing.policy import JST, Hours

ROOT = Path(__file__).resolve().parent.parent
HOOK = {"type": "webhook", "url": "https://hooks.example.jp/x"}
MAIL = {"type": "email", "host": "smtp.example.jp", "from": "a@example.jp", "to": ["t@example.jp"]}

# (policy dict, the key the error must name, a phrase of the fix)
BAD_POLICIES = [
    ({"rules": [{"destinations": ["queue"]}, {"destinations": ["queue"]}, {"min_severity": 5, "destinations": ["queue"]}]},
     "rules[2].min_severity", "must be 0-3"),
    ({"rules": [{"max_severity": -1, "destinations": ["queue"]}]}, "rules[0].max_severity", "must be 0-3"),
    ({"rules": [{"min_severity": 3, "max_severity": 2, "destinations": ["queue"]}]}, "rules[0].min_severity",
     "above max_severity"),
    ({"rules": [{"categories": ["abuse", "rudeness"], "destinations": ["queue"]}]}, "rules[0].categories",
     "unknown category 'rudeness'"),
    ({"rules": [{"destinations": []}]}, "rules[0].destinations", "at least one destination"),
    ({"rules": [{"destinations": ["slack"]}]}, "rules[0].destinations", "define [destinations.slack]"),
    ({"rules": [{"min_score": 1.5, "destinations": ["queue"]}]}, "rules[0].min_score", "between 0 and 1"),
    ({"rules": [{"min_score": "high", "destinations": ["queue"]}]}, "rules[0].min_score", "must be int or float"),
    ({"rules": [{"destinations": ["queue"], "notify_manger": True}]}, "rules[0].notify_manger",
     "did you mean 'notify_manager'"),
    ({"rules": {"destinations": ["queue"]}}, "rules", "must be list"),
    ({"cooldown_minutes": -5}, "cooldown_minutes", "between 0 and 10080"),
    ({"cooldown_minute": 5}, "cooldown_minute", "did you mean 'cooldown_minutes'"),
    ({"delivery": {"attempts": 0}}, "delivery.attempts", "between 1 and 20"),
    ({"delivery": {"attempts": True}}, "delivery.attempts", "must be int or float"),
    ({"hours": {"hold_max_severity": 3}}, "hours.hold_max_severity", "never held"),
    ({"hours": {"start": "9時"}}, "hours.start", "like \"09:00\""),
    ({"hours": {"start": "18:00", "end": "09:00"}}, "hours.start", "must be before hours.end"),
    ({"hours": {"days": ["mon", "someday"]}}, "hours.days", "unknown day"),
    ({"hours": {"holidays": ["2026-13-01"]}}, "hours.holidays", "not a date"),
    ({"destinations": {"slack": {"type": "webhook"}}}, "destinations.slack.url", "exactly one of url or url_env"),
    ({"destinations": {"slack": {**HOOK, "url": "http://hooks.example.jp/x"}}}, "destinations.slack.url",
     "https://"),
    ({"destinations": {"slack": {**HOOK, "timeout_s": 0}}}, "destinations.slack.timeout_s", "between"),
    ({"destinations": {"slack": {"type": "pager"}}}, "destinations.slack.type", "jsonl, webhook or email"),
    ({"destinations": {"mail": {**MAIL, "password": "hunter2"}}}, "destinations.mail.password",
     "never put credentials in the policy"),
    ({"destinations": {"mail": {**MAIL, "starttls": "maybe"}}}, "destinations.mail.starttls", "auto, always, never"),
    ({"destinations": {"mail": {**MAIL, "username_env": "U"}}}, "destinations.mail.username_env",
     "both username_env and password_env"),
    ({"destinations": {"mail": {k: v for k, v in MAIL.items() if k != "host"}}}, "destinations.mail.host",
     "needs host and from"),
    ({"destinations": {"q2": {"type": "jsonl"}}}, "destinations.q2.path", "needs a file path"),
    ({"staff": {"山田": {}}}, 'staff."山田".manager', "manager"),
    ({"message": {"language": "fr"}}, "message.language", "ja or en"),
    ({"message": {"templates": {"text": "$category_name $body_text"}}}, "message.templates.text",
     "unknown placeholder"),
    ({"message": {"templates": {"footer": "x"}}}, "message.templates.footer", "unknown template"),
    ({"message": {"ticket_url": "https://x.jp/{ticket}"}}, "message.ticket_url", "{conversation_id}"),
    ({"model": {"thresholds": {"abuse": 1.5}}}, "model.thresholds.abuse", "(0, 1)"),
    ({"model": {"thresholds": {"abuse": 0.7}}, "rules": [{"min_score": 0.5, "destinations": ["queue"]}]},
     "rules[0].min_score", "below the model's flag threshold 0.7"),
    # An e-mail destination that can never have a recipient, and addresses that are not addresses.
    ({"destinations": {"mail": {**MAIL, "to": []}}, "rules": [{"destinations": ["mail"]}]},
     "destinations.mail.to", "no rule using it sets notify_manager"),
    ({"destinations": {"mail": {**MAIL, "to": []}}, "rules": [{"destinations": ["mail"], "notify_manager": True}]},
     "destinations.mail.to", "no [staff] entry has a manager_email"),
    ({"destinations": {"mail": {**MAIL, "to": ["team at example.jp"]}}}, "destinations.mail.to",
     "'team at example.jp' is not an e-mail address"),
    ({"destinations": {"mail": {**MAIL, "from": "Kasuhara <a@example.jp>"}}}, "destinations.mail.from",
     "no display name"),
    ({"staff": {"山田 花子": {"manager_email": "sato.example.jp"}}}, 'staff."山田 花子".manager_email',
     "not an e-mail address"),
    ({"staff": {"山田 花子": {"manager": "佐藤"}, "山田　花子": {"manager": "鈴木"}}}, 'staff."山田　花子"',
     "the same person as staff.\"山田 花子\""),
    ({"delivery": {"dead_after_hours": -1}}, "delivery.dead_after_hours", "between 0 and 720"),
]


@pytest.mark.parametrize("data,key,fix", BAD_POLICIES, ids=[c[1] + ":" + c[2][:20] for c in BAD_POLICIES])
def test_bad_policy_errors_name_the_key(data, key, fix):
    with pytest.raises(ConfigError) as info:
        parse_policy(data)
    message = str(info.value)
    assert f"{key}:" in message, message
    assert fix in message, message


def test_defaults_need_no_file():
    p = load_policy(None)
    assert [r.destinations for r in p.rules] == [("queue",)]
    assert p.destinations["queue"].path.endswith("kasuhara-routing/alerts.jsonl")
    assert not p.hours.enabled and p.message.language == "ja" and not p.message.include_body


def test_example_policy_parses_and_is_documented():
    example = ROOT / "docs" / "routing-policy.example.toml"
    p = load_policy(example)
    assert {r.min_severity for r in p.rules} == {1, 2, 3}
    assert p.hours.enabled and p.hours.hold_max_severity == 1
    assert {"queue", "team_webhook", "team_mail", "digest"} <= set(p.destinations)
    assert p.thresholds is None or all(0 < v < 1 for v in p.thresholds.values())
    # Every key of the example is explained by a comment somewhere in docs/routing.md.
    doc = (ROOT / "docs" / "routing.md").read_text(encoding="utf-8")
    for key in ("min_severity", "min_score", "notify_manager", "hold_max_severity", "cooldown_minutes",
                "include_body", "secret_env", "starttls", "password_env", "staff_reports_path", "min_interval_s"):
        assert key in doc, key


def test_min_score_below_the_models_threshold_is_an_error(tmp_path):
    policy = parse_policy({"state_dir": str(tmp_path),
                           "rules": [{"categories": ["demand"], "min_score": 0.6, "destinations": ["queue"]}]})
    with pytest.raises(ConfigError, match=r"rules\[0\].min_score: 0.6 is below .* 0.73 for 'demand'"):
        Router(policy, thresholds={"abuse": 0.7, "demand": 0.73, "restraint": 0.65, "other_harassment": 0.53})
    # At or above the threshold is fine, and other categories' thresholds do not matter.
    Router(policy, thresholds={"demand": 0.6, "abuse": 0.9}).close()


def test_min_score_against_a_model_folder(tmp_path):
    folder = ROOT / "models" / "kasuhara-baseline"
    with pytest.raises(ConfigError, match=r"rules\[0\].min_score"):
        parse_policy({"model": {"folder": str(folder)}, "rules": [{"min_score": 0.2, "destinations": ["queue"]}]})
    parse_policy({"model": {"folder": str(folder)}, "rules": [{"min_score": 0.95, "destinations": ["queue"]}]})


def test_missing_secret_environment_variable_fails_before_any_work(tmp_path):
    policy = parse_policy({"state_dir": str(tmp_path), "destinations": {"hook": {**HOOK, "secret_env": "NO_SUCH_VAR"}},
                           "rules": [{"destinations": ["hook"]}]})
    with pytest.raises(ConfigError, match="destinations.hook.secret_env: environment variable NO_SUCH_VAR"):
        Router(policy, environ={})


def test_relative_paths_follow_the_policy_file(tmp_path):
    (tmp_path / "p.toml").write_text('state_dir = "state"\nstaff_reports_path = "sr.jsonl"\n', encoding="utf-8")
    p = load_policy(tmp_path / "p.toml")
    assert p.state_dir == tmp_path / "state" and p.staff_reports_path == tmp_path / "sr.jsonl"


def test_bad_toml_and_missing_file():
    with pytest.raises(ConfigError, match="not found; copy docs/routing-policy.example.toml"):
        load_policy("/nonexistent/policy.toml")


@pytest.mark.parametrize("when,quiet", [
    (datetime(2026, 4, 6, 9, 0, tzinfo=JST), False),    # Monday 09:00
    (datetime(2026, 4, 6, 17, 59, tzinfo=JST), False),
    (datetime(2026, 4, 6, 18, 0, tzinfo=JST), True),
    (datetime(2026, 4, 5, 12, 0, tzinfo=JST), True),    # Sunday
    (datetime(2026, 4, 29, 12, 0, tzinfo=JST), True),   # a listed holiday (昭和の日)
    (datetime.fromisoformat("2026-04-06T01:00:00+00:00"), False),  # 10:00 JST
])
def test_quiet_hours_in_jst(when, quiet):
    hours = parse_policy({"hours": {"holidays": ["2026-04-29"]}}).hours
    assert hours.is_quiet(when) is quiet


def test_severity_3_is_never_held():
    hours = Hours(enabled=True, hold_max_severity=2)
    night = datetime(2026, 4, 6, 23, 0, tzinfo=JST)
    assert hours.holds(1, night) and hours.holds(2, night) and not hours.holds(3, night)


# --- BOM, and errors that name the line -----------------------------------------------------

def test_a_policy_saved_with_a_bom_loads(tmp_path):
    (tmp_path / "p.toml").write_text('\ufeffcooldown_minutes = 5\n', encoding="utf-8")
    assert load_policy(tmp_path / "p.toml").cooldown_minutes == 5


@pytest.mark.parametrize("text,where", [
    ('state_dir = "s"\n\n[[rules]]\ndestinations = ["queue"]\n\n[[rules]]\ndestinations = ["queue"]\n'
     'min_severty = 3\n', ":8: rules[1].min_severty: unknown key"),
    ('[destinations.mail]\ntype = "email"\nhost = "h"\nfrom = "a@example.jp"\nto = [\n  "team at x.jp",\n]\n',
     ":5: destinations.mail.to: 'team at x.jp'"),
    ('[staff."山田 花子"]\nmanager_email = "sato"\n', ':2: staff."山田 花子".manager_email:'),
    ('[hours]\nstart = "18:00"\nend = "09:00"\n', ":2: hours.start:"),
    ('[[rules]\ndestinations = ["queue"]\n', ":1: not valid TOML"),
])
def test_policy_errors_name_the_file_and_line(tmp_path, text, where):
    path = tmp_path / "routing.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    assert str(info.value).startswith(f"policy {path}{where}"), str(info.value)


def test_new_routing_modules_doctests():
    import doctest
    import importlib

    for name in ("state", "summary", "results_io", "staff_ack", "toml_lines", "alerts", "destinations",
                 "policy", "policy_parse", "policy_table", "alert_build", "staff_report"):
        result = doctest.testmod(importlib.import_module(f"kasuhara_nlp.routing.{name}"))
        assert result.failed == 0, name
