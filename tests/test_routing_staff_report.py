"""Staff self-reports (library and CLI), and the `kasuhara route` command."""

import json
import subprocess
import sys

import pytest

from kasuhara_nlp.cli import EXIT_DATA_ERRORS, EXIT_OK, EXIT_USAGE, main
from kasuhara_nlp.data import read_labelled
from kasuhara_nlp.errors import ConfigError
from kasuhara_nlp.routing import parse_policy, report_message
from tests.routing_helpers import WebhookServer, cli_env, read_jsonl, result

TEXT = "お前みたいな店員は辞めちまえ。連絡先は090-1234-5678だ。明日も来るからな。"


def policy_dict(tmp_path, **extra):
    return {"state_dir": str(tmp_path / "state"), "staff_reports_path": str(tmp_path / "staff_reports.jsonl"),
            "staff": {"山田 花子": {"manager": "佐藤 一郎", "manager_email": "sato@example.jp"}}, **extra}


def test_a_staff_report_is_routed_and_kept_as_a_labelled_example(tmp_path):
    with WebhookServer() as server:
        policy = parse_policy(policy_dict(
            tmp_path, destinations={"hook": {"type": "webhook", "url": server.url}},
            rules=[{"min_severity": 2, "min_score": 0.99, "destinations": ["queue", "hook"], "notify_manager": True}]))
        r = report_message(TEXT, staff="山田 花子", categories=["abuse"], severity=2, policy=policy,
                           conversation_id="T-7", quote="お前みたいな店員は辞めちまえ", note="人格否定")
        # min_score does not apply: a staff report has no model score.
        assert r.summary.sent == 2 and r.added
        body = server.bodies()[0]
    assert "【従業員からの申告】暴力・暴言（深刻度2・明確）" in body["text"]
    assert "従業員からの申告" in body["text"] and "佐藤 一郎" in body["text"]
    assert "お前みたいな店員は辞めちまえ" in body["text"] and "090-1234-5678" not in json.dumps(body)
    alert = read_jsonl(tmp_path / "state" / "alerts.jsonl")[0]["alert"]
    assert alert["staff_report"] is True and alert["score"] is None and alert["staff_name"] == "山田 花子"

    example = read_jsonl(tmp_path / "staff_reports.jsonl")
    assert len(example) == 1
    e = example[0]
    assert e["source"] == "staff_report" and e["labels"] == ["abuse"] and e["severity"] == 2
    assert e["label_quote"] == "お前みたいな店員は辞めちまえ" and "[電話]" in e["text"]
    assert "山田" not in json.dumps(e, ensure_ascii=False)  # the staff member's name is not kept
    # The project's own loader reads it (data/SCHEMA.md format).
    loaded = list(read_labelled(tmp_path / "staff_reports.jsonl"))
    assert loaded[0].labels == ["abuse"] and loaded[0].source == "staff_report"


def test_reporting_the_same_message_twice_sends_and_keeps_it_once(tmp_path):
    policy = parse_policy(policy_dict(tmp_path))
    first = report_message(TEXT, staff="山田 花子", categories=["abuse"], severity=2, policy=policy)
    again = report_message(TEXT, staff="山田 花子", categories=["abuse"], severity=2, policy=policy)
    worse = report_message(TEXT, staff="山田 花子", categories=["abuse"], severity=3, policy=policy)
    assert (first.summary.sent, again.summary.sent, again.summary.duplicates, worse.summary.sent) == (1, 0, 1, 1)
    assert not again.added and len(read_jsonl(tmp_path / "staff_reports.jsonl")) == 1


def test_staff_reports_bypass_the_cool_down(tmp_path):
    policy = parse_policy(policy_dict(tmp_path))
    from kasuhara_nlp.routing import Router

    with Router(policy) as router:
        assert router.route(result("m1", ["abuse"], 2, conversation_id="T-1")).sent == 1
        r = report_message("もう一度言う、辞めろ", staff="山田 花子", categories=["abuse"], severity=2,
                           conversation_id="T-1", router=router)
    assert r.summary.sent == 1 and r.summary.suppressed == 0


@pytest.mark.parametrize("kwargs,key", [
    ({"categories": [], "severity": 2}, "categories"),
    ({"categories": ["abuse"], "severity": 0}, "categories/severity"),
    ({"categories": ["rudeness"], "severity": 2}, "categories/severity"),
    ({"categories": ["abuse"], "severity": 2, "staff": " "}, "staff"),
    ({"categories": ["abuse"], "severity": 2, "channel": "fax"}, "channel"),
    ({"categories": ["abuse"], "severity": 2, "quote": "not in the text"}, "quote"),
])
def test_bad_reports_say_which_argument(tmp_path, kwargs, key):
    args = {"staff": "山田 花子", **kwargs}
    with pytest.raises(ConfigError, match=rf"^{key}:"):
        report_message(TEXT, policy=parse_policy(policy_dict(tmp_path)), **args)


def write_policy(tmp_path, text=""):
    p = tmp_path / "policy.toml"
    p.write_text(f'state_dir = "state"\nstaff_reports_path = "staff_reports.jsonl"\n{text}', encoding="utf-8")
    return p


def test_report_message_cli_through_a_subprocess(tmp_path):
    policy = write_policy(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "kasuhara_nlp", "report-message", "-", "--staff", "山田 花子",
                           "--category", "abuse", "--category", "other_harassment", "--severity", "2",
                           "--policy", str(policy), "--json"],
                          input=TEXT.encode("utf-8"), capture_output=True, timeout=60, env=cli_env())
    assert proc.returncode == EXIT_OK, proc.stderr.decode()
    assert json.loads(proc.stdout)["sent"] == 2  # one alert per category
    assert "辞めちまえ" not in proc.stderr.decode()  # no message text in logs
    assert read_jsonl(tmp_path / "staff_reports.jsonl")[0]["labels"] == ["abuse", "other_harassment"]


def test_report_message_cli_usage_errors(tmp_path, capsys):
    assert main(["report-message", "x", "--staff", "a", "--category", "rude", "--severity", "2"]) == EXIT_USAGE
    policy = write_policy(tmp_path)
    assert main(["report-message", "x", "--staff", "a", "--category", "abuse", "--severity", "2",
                 "--channel", "fax", "--policy", str(policy)]) == EXIT_USAGE
    assert "channel: must be one of" in capsys.readouterr().err


@pytest.mark.parametrize("field, value, problem", [
    ("scores", [0.9, 0.1], "scores is not an object"),
    ("scores", {"abuse": "high"}, "scores is not an object"),
    ("labels", "abuse", "labels is not a list"),   # a string would be read letter by letter
    ("severity", "2", "severity is not an integer"),
])
def test_route_reports_a_malformed_result_line_and_routes_the_rest(tmp_path, capsys, field, value, problem):
    bad = result("m1", ["abuse"], 2)
    bad[field] = value
    results = tmp_path / "results.jsonl"
    results.write_text(json.dumps(bad) + "\n" + json.dumps(result("m2", ["abuse"], 2)) + "\n", encoding="utf-8")
    assert main(["route", str(results), "--policy", str(write_policy(tmp_path)), "--json"]) == EXIT_DATA_ERRORS
    captured = capsys.readouterr()
    assert f"results.jsonl:1: {problem}" in captured.err
    summary = json.loads(captured.out)
    assert summary["unreadable"] == 1 and summary["sent"] == 1  # the good line after it still went out


def test_route_cli(tmp_path, capsys):
    results = tmp_path / "results.jsonl"
    results.write_text("\n".join([json.dumps(result("m1", ["abuse"], 2)), "{broken", json.dumps(result("m2", [], 0))])
                       + "\n", encoding="utf-8")
    policy = write_policy(tmp_path)
    assert main(["route", str(results), "--policy", str(policy)]) == EXIT_DATA_ERRORS  # one unreadable line
    err = capsys.readouterr().err
    assert "results.jsonl:2: not a JSON object" in err and "sent: 1" in err
    assert main(["route", str(results), "--policy", str(policy), "--json"]) == EXIT_DATA_ERRORS
    assert json.loads(capsys.readouterr().out)["duplicates"] == 1
    assert main(["route", "--policy", str(policy), "--release-held", "-q"]) == EXIT_OK
    assert main(["route", "--policy", str(policy)]) == EXIT_USAGE
    bad = write_policy(tmp_path, "[[rules]]\nmin_severity = 9\ndestinations = [\"queue\"]\n")
    assert main(["route", str(results), "--policy", str(bad)]) == EXIT_USAGE
    assert "rules[0].min_severity: must be 0-3" in capsys.readouterr().err
    assert main(["route", str(tmp_path / "missing.jsonl"), "--policy", str(policy)]) != EXIT_OK


def test_route_cli_dead_letters_exit_1(tmp_path):
    with WebhookServer(status=404) as server:
        policy = write_policy(tmp_path, f'[destinations.hook]\ntype = "webhook"\nurl = "{server.url}"\n'
                                        '[[rules]]\ndestinations = ["hook"]\n'
                                        '[delivery]\nattempts = 2\nbase_delay_s = 0.01\n')
        results = tmp_path / "r.jsonl"
        results.write_text(json.dumps(result("m1", ["abuse"], 2)) + "\n", encoding="utf-8")
        assert main(["route", str(results), "--policy", str(policy), "-q"]) == EXIT_DATA_ERRORS
    assert len(read_jsonl(tmp_path / "state" / "dead_letter.jsonl")) == 1


def test_scan_route_needs_a_jsonl_output(capsys):
    assert main(["scan", "x.csv", "--route", "p.toml"]) == EXIT_USAGE
    assert "--route needs a JSONL output file" in capsys.readouterr().err


def test_scan_with_route_end_to_end(tmp_path, baseline_dir, capsys):
    from tests.conftest import POSITIVE

    inbox = tmp_path / "inbox.jsonl"
    rows = [{"id": f"p{i}", "text": t} for i, t in enumerate(POSITIVE["abuse"] + POSITIVE["demand"])]
    rows.append({"id": "n1", "text": "返品の手続きを教えてください。"})
    inbox.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    policy = write_policy(tmp_path)
    out = tmp_path / "results.jsonl"
    args = ["scan", str(inbox), "-o", str(out), "--model", str(baseline_dir), "--route", str(policy)]
    assert main(args) == EXIT_OK
    flagged = [(r["id"], c) for r in read_jsonl(out) if r["status"] == "ok" for c in r["labels"]]
    queue = read_jsonl(tmp_path / "state" / "alerts.jsonl")
    assert flagged and len(queue) == len(flagged)
    assert "routing:" in capsys.readouterr().err
    assert main(args) == EXIT_OK and len(read_jsonl(tmp_path / "state" / "alerts.jsonl")) == len(flagged)


# --- a staff report is never swallowed ------------------------------------------------------

def test_a_staff_report_on_a_cooled_down_message_is_delivered(tmp_path):
    from kasuhara_nlp.routing import Router

    policy = parse_policy(policy_dict(tmp_path, cooldown_minutes=30))
    with Router(policy) as router:
        s = router.route([result("m1", ["abuse"], 2, conversation_id="C-9", message_id="M-1",
                                 timestamp_utc="2026-11-02T01:00:00Z"),
                          result("m2", ["abuse"], 2, conversation_id="C-9", message_id="M-2",
                                 timestamp_utc="2026-11-02T01:10:00Z")])
        assert (s.sent, s.suppressed) == (1, 1)  # the model's alert on M-2 was cooled down
        r = report_message(TEXT, staff="山田 花子", categories=["abuse"], severity=2, conversation_id="C-9",
                           message_id="M-2", router=router)
    assert (r.summary.sent, r.summary.duplicates, r.deliveries) == (1, 0, {"queue": "sent"})
    queued = read_jsonl(tmp_path / "state" / "alerts.jsonl")
    assert [(q["alert"]["message_id"], q["alert"]["staff_report"]) for q in queued] == [("M-1", False), ("M-2", True)]
    assert "【従業員からの申告】" in queued[-1]["text"]


def test_a_staff_report_confirming_a_model_alert_goes_out_once(tmp_path):
    from kasuhara_nlp.routing import Router

    with Router(parse_policy(policy_dict(tmp_path))) as router:
        assert router.route(result("m1", ["abuse"], 2, message_id="M-1")).sent == 1
        first = report_message(TEXT, staff="山田 花子", categories=["abuse"], severity=2, message_id="M-1",
                               router=router)
        again = report_message(TEXT, staff="山田 花子", categories=["abuse"], severity=2, message_id="M-1",
                               router=router)
    assert (first.summary.sent, again.summary.sent, again.summary.duplicates) == (1, 0, 1)
    assert [q["alert"]["staff_report"] for q in read_jsonl(tmp_path / "state" / "alerts.jsonl")] == [False, True]


def test_reporting_again_retries_a_report_that_never_got_through(tmp_path):
    with WebhookServer(status=404) as server:
        policy = parse_policy(policy_dict(tmp_path, destinations={"hook": {"type": "webhook", "url": server.url}},
                                          rules=[{"destinations": ["hook"]}], delivery={"attempts": 1}))
        first = report_message(TEXT, staff="山田 花子", categories=["abuse"], severity=2, policy=policy)
        assert first.deliveries == {"hook": "dead"}
        server.status = 200  # fixed
        again = report_message(TEXT, staff="山田 花子", categories=["abuse"], severity=2, policy=policy)
        assert server.count() == 2
    assert (again.summary.sent, again.summary.duplicates, again.deliveries) == (1, 0, {"hook": "sent"})


# --- what the reporter is told, and how the team reads the time ------------------------------

def test_the_reporter_gets_a_warm_japanese_acknowledgement(tmp_path, capsys):
    policy = write_policy(tmp_path, '[staff."山田 花子"]\nmanager = "佐藤 一郎"\nmanager_email = "sato@example.jp"\n'
                                    '[[rules]]\ndestinations = ["queue"]\nnotify_manager = true\n')
    args = ["report-message", TEXT, "--staff", "山田　花子", "--category", "abuse", "--severity", "3",
            "--policy", str(policy)]
    assert main(args) == EXIT_OK
    ack = capsys.readouterr().out
    assert ack.startswith("申告を受け付けました。")
    for promise in ("一人で抱え込まないでください", "安全を最優先", "対応チームに届きました", "上長の佐藤 一郎さんにも伝わります",
                    "身の危険を感じるときは"):
        assert promise in ack, promise
    assert "辞めちまえ" not in ack  # the message itself is not repeated back
    assert main(args) == EXIT_OK
    assert "すでに受け付けて" in capsys.readouterr().out  # a repeat is not "ignored"


def test_a_report_that_could_not_be_sent_tells_the_reporter_to_speak_up(tmp_path, capsys):
    with WebhookServer(status=404) as server:
        policy = write_policy(tmp_path, f'[destinations.hook]\ntype = "webhook"\nurl = "{server.url}"\n'
                                        '[[rules]]\ndestinations = ["hook"]\n[delivery]\nattempts = 1\n')
        code = main(["report-message", TEXT, "--staff", "山田 花子", "--category", "abuse", "--severity", "2",
                     "--policy", str(policy), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == EXIT_DATA_ERRORS and out["delivery"] == {"hook": "dead"}
    assert "送信ができませんでした" in out["acknowledgement"] and "直接伝えてください" in out["acknowledgement"]


def test_a_staff_report_alert_shows_when_it_was_reported_in_jst(tmp_path):
    policy = parse_policy(policy_dict(tmp_path))
    report_message(TEXT, staff="山田 花子", categories=["abuse"], severity=2, policy=policy, channel="phone")
    text = read_jsonl(tmp_path / "state" / "alerts.jsonl")[0]["text"]
    line = next(x for x in text.splitlines() if x.startswith("申告日時："))
    assert line.endswith("+09:00") and "受信日時" not in text
    assert "チャネル：電話" in text  # the channel's name, not its id
