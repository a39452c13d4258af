"""Delivery against real local servers: retries, dead letters, timeouts, HMAC, no duplicates, escalation
through the cool-down, quiet hours, e-mail over SMTP with and without STARTTLS."""

import json
import ssl
import time
from datetime import datetime

import pytest

from kasuhara_nlp.routing import Router, parse_policy
from kasuhara_nlp.routing.policy import JST
from tests.routing_helpers import Clock, SmtpServer, WebhookServer, read_jsonl, result, self_signed_cert

FAST = {"attempts": 3, "base_delay_s": 0.01, "max_delay_s": 0.02}


def hook_policy(tmp_path, url, *, delivery=None, hook_extra=None, **top):
    return parse_policy({
        "state_dir": str(tmp_path / "state"),
        "destinations": {"hook": {"type": "webhook", "url": url, "timeout_s": 2, **(hook_extra or {})}},
        "rules": [{"min_severity": 1, "destinations": ["queue", "hook"]}],
        "delivery": {**FAST, **(delivery or {})}, **top})


def test_retries_until_the_server_recovers(tmp_path):
    with WebhookServer(fail_first=2) as server:
        with Router(hook_policy(tmp_path, server.url)) as router:
            s = router.route(result("m1", ["abuse"], 2))
        assert (s.sent, s.dead) == (2, 0)  # queue + hook
        assert server.count() == 3 and len(set(server.keys())) == 1  # the same Idempotency-Key each time
    audit = read_jsonl(tmp_path / "state" / "audit.jsonl")
    assert [e["event"] for e in audit if e["destination"] == "hook"] == ["attempt_failed", "attempt_failed", "sent"]
    assert all("text" not in e and "evidence" not in e for e in audit)  # no bodies in the audit log


def test_a_client_error_is_not_retried(tmp_path):
    with WebhookServer(status=400, reply=b"invalid_payload") as server:
        with Router(hook_policy(tmp_path, server.url)) as router:
            s = router.route(result("m1", ["abuse"], 2))
            later = router.route([])
        assert server.count() == 1 and s.dead == 1 and later.retried == 0
    assert "HTTP 400: 'invalid_payload'" in read_jsonl(tmp_path / "state" / "dead_letter.jsonl")[0]["error"]


def test_a_hanging_server_times_out_and_is_dead_lettered_in_bounded_time(tmp_path):
    with WebhookServer(hang_s=1.5) as server:
        policy = hook_policy(tmp_path, server.url, delivery={"attempts": 2}, hook_extra={"timeout_s": 0.2})
        start = time.monotonic()
        with Router(policy) as router:
            s = router.route(result("m1", ["abuse"], 2))
        elapsed = time.monotonic() - start
    assert s.deferred == 1 and elapsed < 1.5  # a timeout is temporary: a later run retries it
    failed = [e for e in read_jsonl(tmp_path / "state" / "audit.jsonl") if e["event"] == "attempt_failed"]
    assert len(failed) == 2 and all("timed out" in e["detail"] for e in failed)


def test_hmac_signature_is_verified_by_the_server(tmp_path):
    with WebhookServer(secret="top-secret") as server:
        policy = hook_policy(tmp_path, server.url, hook_extra={"secret_env": "KASUHARA_TEST_SECRET"})
        with Router(policy, environ={"KASUHARA_TEST_SECRET": "top-secret"}) as router:
            router.route(result("m1", ["abuse"], 2))
        with Router(hook_policy(tmp_path / "b", server.url, hook_extra={"secret_env": "S"}),
                    environ={"S": "wrong-secret"}) as router:
            router.route(result("m2", ["abuse"], 2))
        assert [r["signature_ok"] for r in server.requests] == [True, False]
        assert server.requests[0]["headers"]["Content-Type"].startswith("application/json")


def test_rerunning_the_same_results_sends_nothing_twice_but_an_escalation_goes_out(tmp_path):
    results = [result(f"m{i}", ["abuse", "demand"], 2, message_id=f"<m{i}@x>") for i in range(3)]
    with WebhookServer() as server:
        with Router(hook_policy(tmp_path, server.url)) as router:
            first = router.route(results)
        with Router(hook_policy(tmp_path, server.url)) as router:  # a new run, same state
            second = router.route(results)
            escalated = router.route(result("m0", ["abuse"], 3, message_id="<m0@x>"))
        keys = server.keys()
    assert first.alerts == 6 and second.alerts == 0 and second.duplicates == 6
    assert escalated.alerts == 1 and len(keys) == len(set(keys)) == 7
    assert len(read_jsonl(tmp_path / "state" / "alerts.jsonl")) == 7


def test_cool_down_never_suppresses_an_escalation(tmp_path):
    conv = "T-100"
    results = [
        result("m1", ["abuse"], 2, conversation_id=conv, timestamp_utc="2026-04-06T01:00:00Z"),
        result("m2", ["abuse"], 2, conversation_id=conv, timestamp_utc="2026-04-06T01:05:00Z"),  # within
        result("m3", ["abuse"], 1, conversation_id=conv, timestamp_utc="2026-04-06T01:06:00Z"),  # lower
        result("m4", ["abuse"], 3, conversation_id=conv, timestamp_utc="2026-04-06T01:07:00Z"),  # escalation
        result("m5", ["abuse"], 3, conversation_id=conv, timestamp_utc="2026-04-06T01:08:00Z"),  # same as last
        result("m6", ["abuse"], 2, conversation_id=conv, timestamp_utc="2026-04-06T03:00:00Z"),  # after 30 min
        result("m7", ["abuse"], 2, conversation_id="T-200", timestamp_utc="2026-04-06T01:05:00Z"),  # other conv
    ]
    policy = parse_policy({"state_dir": str(tmp_path), "cooldown_minutes": 30})
    with Router(policy) as router:
        s = router.route(results)
    sent = [line["alert"]["message_id"] for line in read_jsonl(tmp_path / "alerts.jsonl")]
    assert sent == ["m1", "m4", "m6", "m7"] and s.suppressed == 3
    suppressed = [e for e in read_jsonl(tmp_path / "audit.jsonl") if e["event"] == "suppressed"]
    assert [e["message_id"] for e in suppressed] == ["m2", "m3", "m5"]


def test_one_message_with_two_categories_is_not_cooled_down_by_itself(tmp_path):
    with Router(parse_policy({"state_dir": str(tmp_path)})) as router:
        s = router.route(result("m1", ["abuse", "demand"], 2, conversation_id="T-1"))
    assert s.alerts == 2 and s.suppressed == 0


def test_quiet_hours_hold_severity_1_but_never_severity_3(tmp_path):
    policy = parse_policy({"state_dir": str(tmp_path), "hours": {"hold_max_severity": 1}})
    clock = Clock(datetime(2026, 4, 6, 23, 30, tzinfo=JST))  # Monday night
    with Router(policy, clock=clock) as router:
        night = router.route([result("m1", ["restraint"], 1), result("m2", ["abuse"], 3), result("m3", ["demand"], 2)])
        assert (night.held, night.alerts) == (1, 2)
        queued = [line["alert"]["message_id"] for line in read_jsonl(tmp_path / "alerts.jsonl")]
        assert queued == ["m2", "m3"]
        held = read_jsonl(tmp_path / "held.jsonl")
        assert [h["alert"]["message_id"] for h in held] == ["m1"]
        # Still night: the next run keeps holding.
        assert router.route([]).released == 0
        clock.now = datetime(2026, 4, 7, 9, 5, tzinfo=JST)  # Tuesday morning: the next run releases it
        morning = router.route([])
    assert (morning.released, morning.sent) == (1, 1)
    assert [line["alert"]["message_id"] for line in read_jsonl(tmp_path / "alerts.jsonl")] == ["m2", "m3", "m1"]
    assert read_jsonl(tmp_path / "held.jsonl") == []


def test_release_held_sends_held_alerts_at_once(tmp_path):
    policy = parse_policy({"state_dir": str(tmp_path), "hours": {}})
    clock = Clock(datetime(2026, 4, 5, 12, 0, tzinfo=JST))  # Sunday
    with Router(policy, clock=clock) as router:
        assert router.route(result("m1", ["abuse"], 1)).held == 1
        s = router.release_held()
    assert (s.released, s.sent) == (1, 1)
    assert len(read_jsonl(tmp_path / "alerts.jsonl")) == 1


def mail_policy(tmp_path, port, **mail):
    return parse_policy({
        "state_dir": str(tmp_path / "state"),
        "destinations": {"mail": {"type": "email", "host": "127.0.0.1", "port": port, "from": "bot@example.jp",
                                  "to": ["team@example.jp"], "timeout_s": 5, **mail}},
        "staff": {"山田 花子": {"manager": "佐藤 一郎", "manager_email": "sato@example.jp"}},
        "rules": [{"min_severity": 3, "destinations": ["mail"], "notify_manager": True},
                  {"min_severity": 2, "max_severity": 2, "destinations": ["mail"]}],
        "delivery": FAST})


def test_email_over_plain_smtp_reaches_the_team_and_the_manager(tmp_path):
    with SmtpServer() as smtp:
        with Router(mail_policy(tmp_path, smtp.port, starttls="auto")) as router:
            s = router.route([result("m1", ["abuse"], 3, staff_name="山田 花子", conversation_id="T-9"),
                              result("m2", ["demand"], 2, staff_name="山田 花子")])
        assert s.sent == 2
        severe, clear = smtp.messages
    assert severe["to"] == ["team@example.jp", "sato@example.jp"] and clear["to"] == ["team@example.jp"]
    msg = severe["message"]
    assert msg["Subject"] == "[カスハラ] 深刻度3 暴力・暴言 (m1)"
    body = msg.get_content()
    assert "対象の従業員：山田 花子" in body and "上長：佐藤 一郎" in body and "会社はあなたを守ります" in body
    assert msg["X-Kasuhara-Idempotency-Key"] and not severe["tls"]


def test_a_refused_manager_address_is_dead_lettered_not_sent(tmp_path):
    # The team's copy goes out; the manager's is refused (a mistyped or departed address). Calling that "sent"
    # would hide that the manager of a severity-3 case was never told.
    with SmtpServer(refuse=frozenset({"sato@example.jp"})) as smtp:
        with Router(mail_policy(tmp_path, smtp.port)) as router:
            s = router.route([result("m1", ["abuse"], 3, staff_name="山田 花子")])
        assert [m["to"] for m in smtp.messages] == [["team@example.jp"]]
    assert (s.sent, s.dead) == (0, 1)
    dead = read_jsonl(tmp_path / "state" / "dead_letter.jsonl")
    assert "refused sato@example.jp (550)" in dead[0]["error"] and "SMTP accepted 1/2" in dead[0]["error"]


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    pytest.importorskip("cryptography")
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


def server_tls(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def test_email_with_starttls_and_login(tmp_path, tls_files, monkeypatch):
    cert, key = tls_files
    monkeypatch.setenv("KASUHARA_TEST_SMTP_USER", "alert-bot")
    monkeypatch.setenv("KASUHARA_TEST_SMTP_PASSWORD", "s3cret")
    with SmtpServer(tls_context=server_tls(cert, key), require_starttls=True, auth=True) as smtp:
        policy = mail_policy(tmp_path, smtp.port, starttls="always", ca_file=str(cert),
                             username_env="KASUHARA_TEST_SMTP_USER", password_env="KASUHARA_TEST_SMTP_PASSWORD")
        with Router(policy) as router:
            s = router.route(result("m1", ["abuse"], 2))
        assert s.sent == 1 and smtp.messages[0]["tls"]


def test_starttls_with_an_untrusted_certificate_is_not_retried(tmp_path, tls_files):
    cert, key = tls_files
    with SmtpServer(tls_context=server_tls(cert, key)) as smtp:
        with Router(mail_policy(tmp_path, smtp.port, starttls="always")) as router:  # no ca_file
            s = router.route(result("m1", ["abuse"], 2))
        assert s.dead == 1 and smtp.messages == []
    dead = read_jsonl(tmp_path / "state" / "dead_letter.jsonl")
    assert dead[0]["attempts"] == 1 and "certificate" in dead[0]["error"]


def test_starttls_always_refuses_a_server_without_it(tmp_path):
    with SmtpServer() as smtp:
        with Router(mail_policy(tmp_path, smtp.port, starttls="always")) as router:
            s = router.route(result("m1", ["abuse"], 2))
        assert s.dead == 1 and smtp.messages == []
    assert "does not offer STARTTLS" in read_jsonl(tmp_path / "state" / "dead_letter.jsonl")[0]["error"]


def test_smtp_server_down_is_retried_and_left_for_a_later_run(tmp_path):
    from tests.routing_helpers import free_port

    with Router(mail_policy(tmp_path, free_port())) as router:
        s = router.route(result("m1", ["abuse"], 2))
    assert (s.dead, s.deferred, s.awaiting_retry) == (0, 1, 1)
    attempts = [e for e in read_jsonl(tmp_path / "state" / "audit.jsonl") if e["event"] == "attempt_failed"]
    assert len(attempts) == 3


@pytest.mark.parametrize("status, counter", [("pending", "resumed"), ("retry", "retried")],
                         ids=["first_delivery", "retried_delivery"])
def test_a_delivery_interrupted_after_sending_is_not_duplicated(tmp_path, status, counter):
    # As if the process died after the queue line and the webhook POST (a first delivery, or a retry by a
    # later run) but before "sent" was committed.
    with WebhookServer() as server:
        with Router(hook_policy(tmp_path, server.url)) as router:
            router.route(result("m1", ["abuse"], 2))
            router.state.db.execute("UPDATE deliveries SET status = ?", (status,))
            s = router.route([])
        keys = server.keys()
    assert (getattr(s, counter), s.sent, s.awaiting_retry) == (2, 2, 0)
    assert len(read_jsonl(tmp_path / "state" / "alerts.jsonl")) == 1  # the queue line was found, not rewritten
    assert len(keys) == 2 and len(set(keys)) == 1  # the webhook got the same Idempotency-Key again
    assert json.loads(json.dumps(server.bodies()[0]))["blocks"]


# --- staff names and missing managers ---------------------------------------------------------

def test_a_staff_name_written_with_a_full_width_space_still_finds_the_manager(tmp_path):
    with SmtpServer() as smtp:
        with Router(mail_policy(tmp_path, smtp.port)) as router:
            s = router.route(result("m1", ["abuse"], 3, staff_name="山田　花子"))  # U+3000, as helpdesks export it
        assert s.sent == 1 and s.manager_unknown == 0
        assert smtp.messages[0]["to"] == ["team@example.jp", "sato@example.jp"]


def test_a_manager_that_cannot_be_found_is_reported_not_silent(tmp_path):
    with SmtpServer() as smtp:
        with Router(mail_policy(tmp_path, smtp.port)) as router:
            s = router.route([result("m1", ["abuse"], 3, staff_name="鈴木 太郎"),  # not in [staff]
                              result("m2", ["abuse"], 3)])  # no staff name at all
        assert [m["to"] for m in smtp.messages] == [["team@example.jp"]] * 2  # the team still gets both
        body = smtp.messages[0]["message"].get_content()
    assert s.manager_unknown == 2 and s.sent == 2
    assert any("'鈴木 太郎' is not in [staff]" in w for w in s.warnings)
    assert "上長：不明（上長には通知されていません" in body  # the team learns it must tell the manager
    audit = [e for e in read_jsonl(tmp_path / "state" / "audit.jsonl") if e["event"] == "manager_unknown"]
    assert [e["message_id"] for e in audit] == ["m1", "m2"] and "staff_name is empty" in audit[1]["detail"]


# --- the cool-down is per conversation and category -------------------------------------------

def test_a_category_specific_rule_still_fires_in_a_cooled_down_conversation(tmp_path):
    policy = parse_policy({
        "state_dir": str(tmp_path), "cooldown_minutes": 30,
        "destinations": {"hr": {"type": "jsonl", "path": str(tmp_path / "hr.jsonl")}},
        "rules": [{"name": "team", "min_severity": 2, "destinations": ["queue"]},
                  {"name": "sexual-harassment-to-hr", "categories": ["other_harassment"], "min_severity": 2,
                   "destinations": ["hr"]}]})
    with Router(policy) as router:
        s = router.route([
            result("m1", ["abuse"], 2, conversation_id="C-9", timestamp_utc="2026-11-02T01:00:00Z"),
            result("m2", ["other_harassment"], 2, conversation_id="C-9", timestamp_utc="2026-11-02T01:10:00Z"),
            result("m3", ["abuse"], 2, conversation_id="C-9", timestamp_utc="2026-11-02T01:15:00Z"),  # a repeat
            result("m4", ["other_harassment"], 2, conversation_id="C-9", timestamp_utc="2026-11-02T01:20:00Z"),
        ])
    assert [line["alert"]["message_id"] for line in read_jsonl(tmp_path / "hr.jsonl")] == ["m2"]
    assert [line["alert"]["message_id"] for line in read_jsonl(tmp_path / "alerts.jsonl")] == ["m1", "m2"]
    assert s.suppressed == 2  # m3 and m4 repeat what the same people already have
