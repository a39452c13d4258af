"""Failures across runs, against real local servers: temporary failures wait for a later run and are
retried, permanent ones are dead at once, retries give up after dead_after_hours, every run needs attention
while anything is dead or waiting; a whole webhook request is bounded by timeout_s; dead-letter reasons say
what happened."""

import json
from datetime import datetime, timedelta

from kasuhara_nlp.cli import EXIT_DATA_ERRORS, EXIT_OK, main
from kasuhara_nlp.routing import Router, parse_policy
from kasuhara_nlp.routing.policy import JST
from tests.routing_helpers import Clock, SmtpServer, WebhookServer, read_jsonl, result

FAST = {"attempts": 2, "base_delay_s": 0.01, "max_delay_s": 0.02}


def hook_policy(tmp_path, url, *, delivery=None, **hook):
    return parse_policy({
        "state_dir": str(tmp_path / "state"),
        "destinations": {"hook": {"type": "webhook", "url": url, "timeout_s": 2, **hook}},
        "rules": [{"min_severity": 1, "destinations": ["queue", "hook"]}],
        "delivery": {**FAST, **(delivery or {})}})


def test_a_temporary_outage_is_retried_by_the_next_run(tmp_path):
    with WebhookServer(fail_first=1000) as server:
        with Router(hook_policy(tmp_path, server.url)) as router:
            outage = router.route([result("m1", ["abuse"], 3), result("m2", ["demand"], 2)])
            # One destination down costs one alert's attempts, not every alert's: m2 waits without trying.
            assert server.count() == 2
            assert (outage.sent, outage.deferred, outage.dead, outage.awaiting_retry) == (2, 2, 0, 2)
            assert outage.needs_attention and "await retry" in outage.problems()[0]
            still_down = router.route([])  # a later run (cron), the server still failing
            assert (still_down.retried, still_down.deferred, still_down.awaiting_retry) == (2, 2, 2)
            server.fail_first = 0  # the server recovers
            recovered = router.route([])
        keys = server.keys()
    assert (recovered.retried, recovered.sent, recovered.awaiting_retry, recovered.dead_open) == (2, 2, 0, 0)
    assert not recovered.needs_attention
    assert len(set(keys)) == 2  # every try of an alert carried the same Idempotency-Key
    assert read_jsonl(tmp_path / "state" / "dead_letter.jsonl") == []
    events = [e["event"] for e in read_jsonl(tmp_path / "state" / "audit.jsonl") if e["message_id"] == "m1"
              and e["destination"] == "hook"]
    assert events[-1] == "sent" and "awaiting_retry" in events


def test_smtp_greylisting_is_retried_by_the_next_run(tmp_path):
    with SmtpServer(greylist_first=1) as smtp:
        policy = parse_policy({
            "state_dir": str(tmp_path / "state"), "delivery": {**FAST, "attempts": 1},
            "destinations": {"mail": {"type": "email", "host": "127.0.0.1", "port": smtp.port,
                                      "from": "bot@example.jp", "to": ["team@example.jp"]}},
            "rules": [{"destinations": ["mail"]}]})
        with Router(policy) as router:
            first = router.route(result("m1", ["abuse"], 2))
            second = router.route([])
        assert len(smtp.messages) == 1
    assert (first.deferred, first.dead, second.sent, second.awaiting_retry) == (1, 0, 1, 0)
    audit = read_jsonl(tmp_path / "state" / "audit.jsonl")
    assert "451 4.7.1 greylisted" in next(e["detail"] for e in audit if e["event"] == "awaiting_retry")


def test_retries_give_up_after_dead_after_hours(tmp_path):
    clock = Clock(datetime(2026, 4, 6, 10, 0, tzinfo=JST))
    with WebhookServer(status=503) as server:
        policy = hook_policy(tmp_path, server.url, delivery={"attempts": 1, "dead_after_hours": 24})
        with Router(policy, clock=clock) as router:
            router.route(result("m1", ["abuse"], 2))
            clock.now += timedelta(hours=23)
            assert router.route([]).awaiting_retry == 1
            clock.now += timedelta(hours=2)
            last = router.route([])
    assert (last.dead, last.awaiting_retry, last.dead_open) == (1, 0, 1) and last.needs_attention
    error = read_jsonl(tmp_path / "state" / "dead_letter.jsonl")[0]["error"]
    assert error.startswith("gave up after 3 attempts over 24 h (delivery.dead_after_hours): HTTP 503")


def test_a_permanent_failure_is_dead_at_once_and_stays_open_until_handled(tmp_path):
    with WebhookServer(status=404) as server:
        with Router(hook_policy(tmp_path, server.url)) as router:
            first = router.route(result("m1", ["abuse"], 2))
            later = router.route([])  # not retried, but still reported
            assert server.count() == 1
            assert (first.dead, later.dead, later.dead_open) == (1, 0, 1) and later.needs_attention
            server.status = 200  # the operator fixed the endpoint
            retried = router.retry_dead()
            assert (retried.retried, retried.sent, retried.dead_open) == (1, 1, 0)
            assert server.count() == 2
    assert "dead letter" not in " ".join(retried.problems())


def test_route_cli_keeps_failing_while_alerts_wait_and_says_why(tmp_path, capsys):
    with WebhookServer(status=503) as server:
        policy = tmp_path / "policy.toml"
        policy.write_text(f'state_dir = "state"\n[destinations.hook]\ntype = "webhook"\nurl = "{server.url}"\n'
                          '[[rules]]\ndestinations = ["hook"]\n[delivery]\nattempts = 1\n', encoding="utf-8")
        results = tmp_path / "r.jsonl"
        results.write_text(json.dumps(result("m1", ["abuse"], 3)) + "\n", encoding="utf-8")
        assert main(["route", str(results), "--policy", str(policy), "-q"]) == EXIT_DATA_ERRORS
        capsys.readouterr()
        # The next cron run: nothing new, but the severity-3 alert still has not arrived.
        assert main(["route", str(results), "--policy", str(policy), "--json"]) == EXIT_DATA_ERRORS
        captured = capsys.readouterr()
        assert json.loads(captured.out)["awaiting_retry"] == 1
        assert "1 deliveries await retry" in captured.err
        server.status = 410  # the webhook was removed: permanent
        assert main(["route", str(results), "--policy", str(policy), "-q"]) == EXIT_DATA_ERRORS
        assert "dead_letter.jsonl were not delivered" in capsys.readouterr().err
        assert main(["route", "--policy", str(policy), "--ack-dead", "--json"]) == EXIT_OK
        assert json.loads(capsys.readouterr().out)["resolved"] == 1
        assert main(["route", str(results), "--policy", str(policy), "-q"]) == EXIT_OK
    audit = [e["event"] for e in read_jsonl(tmp_path / "state" / "audit.jsonl")]
    assert audit.count("awaiting_retry") == 2 and audit[-1] == "resolved"


def test_a_trickling_webhook_cannot_hold_the_run_beyond_timeout_s(tmp_path):
    # Headers at once, then one byte every 0.1 s: each read is well inside the 0.5 s socket timeout, so only
    # a deadline on the whole request stops it before the 40 bytes (4 s) are in.
    with WebhookServer(trickle_s=0.1, trickle_bytes=40) as server:
        with Router(hook_policy(tmp_path, server.url, timeout_s=0.5, delivery={"attempts": 1})) as router:
            s = router.route(result("m1", ["abuse"], 3))
    assert (s.sent, s.deferred) == (1, 1)  # the queue got it; the webhook attempt was cut at its deadline
    detail = next(e["detail"] for e in read_jsonl(tmp_path / "state" / "audit.jsonl")
                  if e["event"] == "attempt_failed")
    assert "timed out: no complete answer within timeout_s = 0.5 s" in detail


def test_a_redirect_is_dead_lettered_with_its_target_and_why(tmp_path):
    with WebhookServer(status=307, location="http://127.0.0.1:9/moved?token=secret") as server:
        with Router(hook_policy(tmp_path, server.url)) as router:
            s = router.route(result("m1", ["abuse"], 2))
        assert server.count() == 1 and s.dead == 1
    error = read_jsonl(tmp_path / "state" / "dead_letter.jsonl")[0]["error"]
    assert "HTTP 307 redirect to http://127.0.0.1:9/moved?…" in error and "token=secret" not in error
    assert "not followed" in error and "destinations.hook.url" in error


def test_all_refused_recipients_are_named(tmp_path):
    with SmtpServer(refuse=frozenset({"team@example.jp", "sato@example.jp"})) as smtp:
        policy = parse_policy({
            "state_dir": str(tmp_path / "state"), "delivery": FAST,
            "staff": {"山田 花子": {"manager": "佐藤 一郎", "manager_email": "sato@example.jp"}},
            "destinations": {"mail": {"type": "email", "host": "127.0.0.1", "port": smtp.port,
                                      "from": "bot@example.jp", "to": ["team@example.jp"]}},
            "rules": [{"destinations": ["mail"], "notify_manager": True}]})
        with Router(policy) as router:
            s = router.route(result("m1", ["abuse"], 3, staff_name="山田 花子"))
    assert s.dead == 1
    error = read_jsonl(tmp_path / "state" / "dead_letter.jsonl")[0]["error"]
    assert "sato@example.jp (550" in error and "team@example.jp (550" in error
    assert "destinations.mail.to" in error
