"""Alert wording: the Slack-compatible body, Japanese and English, PII masked, no body unless opted in."""

import json
import subprocess
import sys

from kasuhara_nlp.routing import Router, parse_policy
from kasuhara_nlp.routing.alerts import Alert, render_text, slack_payload
from kasuhara_nlp.routing.policy import MessageSettings
from tests.routing_helpers import WebhookServer, cli_env, read_jsonl, result

PII_TEXT = "090-1234-5678に今すぐ電話しろ。yamada@example.com にも送れ。殺すぞ。"
RAW_PHONE, RAW_MAIL = "090-1234-5678", "yamada@example.com"


def unmasked_result(**kw):
    # As if scanned with --no-mask: evidence and text still hold PII.  Alerts must mask it anyway.
    ev = [{"label": "abuse", "start": 0, "end": len(PII_TEXT), "text": PII_TEXT, "score": 0.97}]
    return result("m1", ["abuse"], 3, text=PII_TEXT, evidence=ev, conversation_id="T-42", staff_name="山田 花子",
                  **kw)


def route_to_hook(tmp_path, server, message=None):
    policy = parse_policy({
        "state_dir": str(tmp_path),
        "destinations": {"hook": {"type": "webhook", "url": server.url}},
        "staff": {"山田 花子": {"manager": "佐藤 一郎"}},
        "rules": [{"min_severity": 1, "destinations": ["queue", "hook"], "notify_manager": True}],
        "message": {"ticket_url": "https://helpdesk.example.jp/tickets/{conversation_id}",
                    "guideline_url": "https://intra.example.jp/guideline", **(message or {})}})
    with Router(policy) as router:
        router.route(unmasked_result())
    return server.requests[-1]["body"].decode("utf-8"), (tmp_path / "alerts.jsonl").read_text(encoding="utf-8")


def test_slack_compatible_body(tmp_path):
    with WebhookServer() as server:
        raw, _ = route_to_hook(tmp_path, server)
    body = json.loads(raw)
    assert set(body) == {"text", "blocks"} and isinstance(body["text"], str)
    types = [b["type"] for b in body["blocks"]]
    assert types[0] == "header" and types[-1] == "context" and "section" in types
    header = body["blocks"][0]["text"]
    assert header["type"] == "plain_text" and len(header["text"]) <= 150
    assert header["text"] == "【カスハラ検知】暴力・暴言（深刻度3・重大）"
    for block in body["blocks"]:
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            assert len(block.get("fields", [])) <= 10
            for f in block.get("fields", []) + [block.get("text", {"text": ""})]:
                assert len(f["text"]) <= 3000
    assert "<https://helpdesk.example.jp/tickets/T-42|チケットを開く>" in raw
    assert "会社はあなたを守ります" in raw and "https://intra.example.jp/guideline" in raw
    assert "山田 花子" in raw and "佐藤 一郎" in raw and "T-42" in raw and "0.97" in raw


def test_pii_is_masked_everywhere_and_there_is_no_body_by_default(tmp_path):
    with WebhookServer() as server:
        hook, queue = route_to_hook(tmp_path, server)
    for out in (hook, queue, (tmp_path / "audit.jsonl").read_text(encoding="utf-8")):
        assert RAW_PHONE not in out and RAW_MAIL not in out
    assert "[電話]" in json.loads(hook)["text"] and "[メール]" in json.loads(hook)["text"]
    line = json.loads(queue.splitlines()[0])
    assert line["alert"]["body"] is None and "本文" not in line["text"]


def test_body_only_when_the_policy_opts_in_and_then_masked(tmp_path):
    with WebhookServer() as server:
        hook, queue = route_to_hook(tmp_path, server, {"include_body": True})
    text = json.loads(hook)["text"]
    assert "本文（個人情報はマスク済み）" in text and "[電話]に今すぐ電話しろ" in text
    assert RAW_PHONE not in hook and RAW_PHONE not in queue


def test_english_alerts_and_template_overrides():
    alert = Alert(key="k", message_id="m1", category="demand", severity=2, score=0.81, staff_name="Tanaka",
                  evidence=({"label": "demand", "text": "土下座しろ", "score": 0.81},))
    text = render_text(alert, MessageSettings(language="en"))
    assert text.splitlines()[0] == "[Customer harassment] Excessive or unreasonable demands (severity 2, clear)"
    assert "Staff member: Tanaka" in text and "You do not have to deal with this alone" in text
    custom = MessageSettings(templates={"text": "$category_name/$severity_name/$staff\n$evidence"},
                             care_message="ひとりで悩まないで")
    assert render_text(alert, custom) == "過剰または不合理な要求/明確/Tanaka\n・「土下座しろ」（0.81）"
    assert "ひとりで悩まないで" in slack_payload(alert, MessageSettings(care_message="ひとりで悩まないで"))["blocks"][-1][
        "elements"][0]["text"]


def test_slack_mrkdwn_is_escaped():
    alert = Alert(key="k", message_id="m1", category="abuse", severity=2,
                  evidence=({"label": "abuse", "text": "<!channel> & <http://evil|click>", "score": 0.9},))
    raw = json.dumps(slack_payload(alert, MessageSettings()), ensure_ascii=False)
    assert "<!channel>" not in raw and "&lt;!channel&gt; &amp;" in raw


def test_routing_imports_no_model():
    code = ("import sys, kasuhara_nlp.routing; "
            "print(','.join(m for m in ('torch', 'onnxruntime', 'transformers', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=cli_env())
    assert out.returncode == 0 and out.stdout.strip() == ""


def test_queue_record_shape(tmp_path):
    with Router(parse_policy({"state_dir": str(tmp_path)})) as router:
        router.route(result("m1", ["abuse"], 2, conversation_id="T-1", staff_name="鈴木"))
    line = read_jsonl(tmp_path / "alerts.jsonl")[0]
    assert set(line) == {"idempotency_key", "destination", "queued_at", "alert", "text"}
    a = line["alert"]
    assert (a["category"], a["severity"], a["conversation_id"], a["staff_name"]) == ("abuse", 2, "T-1", "鈴木")
    assert a["staff_report"] is False and a["rules"] == ["default"]


# --- ids in ticket links, and Slack link markup ----------------------------------------------

def test_a_customer_controlled_id_cannot_rewrite_the_ticket_link(tmp_path):
    # A Message-ID header is written by the sender; this one tries to put its own URL in the team's link.
    with WebhookServer() as server:
        policy = parse_policy({
            "state_dir": str(tmp_path), "destinations": {"hook": {"type": "webhook", "url": server.url}},
            "rules": [{"destinations": ["queue", "hook"]}],
            "message": {"ticket_url": "https://helpdesk.example.jp/tickets/{message_id}"}})
        with Router(policy) as router:
            router.route(result("m1", ["abuse"], 2, message_id="<x|https://evil.example/login>"))
        body = server.bodies()[0]
    link = next(b["text"]["text"] for b in body["blocks"] if b["type"] == "section" and "tickets" in
                b.get("text", {}).get("text", ""))
    assert link == "<https://helpdesk.example.jp/tickets/%3Cx%7Chttps%3A%2F%2Fevil.example%2Flogin%3E|チケットを開く>"
    queued = read_jsonl(tmp_path / "alerts.jsonl")[0]["alert"]["ticket_url"]
    assert queued == "https://helpdesk.example.jp/tickets/%3Cx%7Chttps%3A%2F%2Fevil.example%2Flogin%3E"


def test_slack_links_escape_what_slack_requires():
    from kasuhara_nlp.routing.alerts import slack_link

    assert slack_link("https://x.jp/a?b=1&c=2", "A & B <C> | D") == "<https://x.jp/a?b=1&amp;c=2|A &amp; B &lt;C&gt; ｜ D>"
    assert slack_link("https://x.jp/a|b>c", "t") == "<https://x.jp/a%7Cb%3Ec|t>"
    payload = slack_payload(Alert(key="k", message_id="m1", category="abuse", severity=2),
                            MessageSettings(guideline_url="https://intra.example.jp/g?x=1|evil"))
    assert payload["blocks"][-1]["elements"][0]["text"].endswith("<https://intra.example.jp/g?x=1%7Cevil|対応ガイドライン>")
