"""Conversation scoring: max over messages plus each signal (duration, contacts, hours, repeats)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from kasuhara_nlp.conversation import ConversationConfig, char_ngram_similarity, score_conversation
from kasuhara_nlp.errors import ConfigError
from kasuhara_nlp.labels import CATEGORIES
from kasuhara_nlp.readers import read_records
from kasuhara_nlp.records import MessageRecord, ScanResult

CONFIG = ConversationConfig()
# Test times are built from the configured limits, so that no test hard-codes a timing threshold.
LIMIT = CONFIG.max_duration_minutes
GAP = CONFIG.contact_gap_minutes
STEP = GAP / 2  # customer messages this close together belong to one session
START = datetime(2025, 3, 4, 1, 0, tzinfo=timezone.utc)  # 10:00 JST on a Tuesday


def at(minutes: float) -> str:
    """The UTC timestamp ``minutes`` after START."""
    return (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def rec(rid: str, when: str | None, role: str = "customer", text: str = "確認してください", **kw) -> MessageRecord:
    return MessageRecord(record_id=rid, body_text=text, text_to_score=text, conversation_id="c1",
                         author_role=role, timestamp_utc=when, **kw)


def ok(rid: str, **scores: float) -> dict:
    return {"id": rid, "status": "ok", "scores": {c: scores.get(c, 0.0) for c in CATEGORIES},
            "labels": [c for c, p in scores.items() if p >= 0.5], "severity": 2 if any(p >= 0.5 for p in scores.values()) else 0,
            "evidence": []}


def not_scored(rid: str) -> dict:
    return {"id": rid, "status": "not_scored", "scores": {}, "labels": [], "severity": 0, "evidence": []}


def _types(result: dict) -> list[str]:
    return [s["type"] for s in result["signals"]]


def test_result_has_scan_result_fields() -> None:
    result = score_conversation([rec("m1", "2025-03-04T01:00:00Z")], [ok("m1")], CONFIG)
    assert set(ScanResult(id="x").to_dict()) <= set(result)
    assert result["kind"] == "conversation" and result["id"] == "c1" and result["signals"] == []
    assert result["flagged"] is False and result["severity"] == 0


def test_max_over_messages_and_evidence_message_ids() -> None:
    records = [rec("m1", "2025-03-04T01:00:00Z"), rec("m2", "2025-03-04T01:05:00Z"),
               rec("a1", "2025-03-04T01:06:00Z", role="agent")]
    r1 = ok("m1", abuse=0.9)
    r1["evidence"] = [{"label": "abuse", "start": 0, "end": 3, "text": "死ね", "score": 0.9}]
    r2 = ok("m2", abuse=0.2, demand=0.7)
    agent = ok("a1", abuse=0.99)  # agent results never count even if a caller passes "ok"
    agent["status"] = "not_scored"
    result = score_conversation(records, [r1, r2, agent], CONFIG)
    assert result["scores"]["abuse"] == 0.9 and result["scores"]["demand"] == 0.7
    assert result["labels"] == ["abuse", "demand"] and result["severity"] == 2
    assert result["evidence"][0]["message_id"] == "m1"


# (case id, records builder, config, expected signal types, expected restraint/demand label)
def _session(channel: str, start: float = 0.0, span: float = LIMIT * 1.5, prefix: str = "m") -> list[MessageRecord]:
    """Customer chat lines every STEP minutes from ``start`` for at least ``span`` minutes."""
    n = math.ceil(span / STEP) + 1
    return [rec(f"{prefix}{i}", at(start + i * STEP), text=f"まだ話は終わってない{i}", channel=channel)
            for i in range(n)]


def _long_call():
    return _session("chat")


def _call_offsets():
    n = math.ceil(LIMIT * 1.5 / STEP) + 1
    return [rec(f"m{i}", None, text=f"続けるぞ{i}", channel="phone_transcript", extra={"offset_seconds": i * STEP * 60})
            for i in range(n)]


def _many_contacts():
    return [rec(f"m{i}", f"2025-03-04T0{i}:00:00Z", text=f"別件{i}の質問です{i}", channel="email") for i in range(7)]


def _night_messages():
    # 02:00 and 23:30 JST on a weekday, and a Saturday noon message.
    return [rec("m1", "2025-03-03T17:00:00Z", text="起きろ"), rec("m2", "2025-03-04T14:30:00Z", text="まだか"),
            rec("m3", "2025-03-08T03:00:00Z", text="土曜だけど")]


def _repeated_demand():
    return [rec("m1", "2025-03-04T01:00:00Z", text="全額返金してください"),
            rec("a1", "2025-03-04T01:10:00Z", role="agent", text="規約上、返金はできかねます"),
            rec("m2", "2025-03-04T01:20:00Z", text="だから全額返金してください")]


def _persistent_repeats():
    # The same request after each of three answers: persistent even though no message of it is abusive.
    out = [rec("m0", "2025-03-04T01:00:00Z", text="全額返金してください", channel="email")]
    for i in range(1, 4):
        out += [rec(f"a{i}", f"2025-03-04T0{i}:10:00Z", role="agent", text="規約上、返金はできかねます", channel="email"),
                rec(f"m{i}", f"2025-03-04T0{i}:20:00Z", text="だから全額返金してください", channel="email")]
    return out


def _one_long_chat():
    # Twenty lines of one chat within ten minutes are one contact, not twenty.
    return [rec(f"m{i}", f"2025-03-04T01:{i // 2:02d}:{30 * (i % 2):02d}Z", text=f"質問{i}", channel="chat")
            for i in range(20)]


def _repeat_before_answer():
    # Saying the same thing twice before anyone answered is not repeating an answered demand.
    return [rec("m1", "2025-03-04T01:00:00Z", text="全額返金してください"),
            rec("m2", "2025-03-04T01:01:00Z", text="全額返金してください")]


# (case id, records builder, ids of messages the model flagged (as abuse), config, signal types listed,
#  the category the counted signals label or None)
SIGNAL_CASES = (
    ("long_duration", _long_call, (), CONFIG, ["long_duration"], "restraint"),
    ("short_call_no_signal", _long_call, (), ConversationConfig(max_duration_minutes=LIMIT * 2), [], None),
    ("call_offsets", _call_offsets, (), CONFIG, ["long_duration"], "restraint"),
    ("contacts_per_day", _many_contacts, (), ConversationConfig(min_out_of_hours_messages=99), ["contacts_per_day"],
     "restraint"),
    ("contacts_under_limit", _many_contacts, (), ConversationConfig(max_contacts_per_day=10, min_out_of_hours_messages=99),
     [], None),
    ("one_chat_is_one_contact", _one_long_chat, (), CONFIG, [], None),
    ("out_of_hours_demands", _night_messages, ("m1", "m2"), ConversationConfig(max_duration_minutes=100000),
     ["out_of_hours"], "restraint"),
    ("out_of_hours_but_one_demand", _night_messages, ("m1",), ConversationConfig(max_duration_minutes=100000),
     ["out_of_hours"], None),
    ("out_of_hours_legitimate", _night_messages, (), ConversationConfig(max_duration_minutes=100000),
     ["out_of_hours"], None),
    ("repeated_flagged_demand", _repeated_demand, ("m2",), CONFIG, ["repeated_demand"], "demand"),
    ("repeated_request_once", _repeated_demand, (), CONFIG, ["repeated_demand"], None),
    ("persistent_repeats", _persistent_repeats, (), CONFIG, ["repeated_demand"] * 3, "demand"),
    ("repeat_before_answer", _repeat_before_answer, (), CONFIG, [], None),
)


def test_mail_threads_have_no_duration() -> None:
    records = [rec("m1", "2025-03-04T01:00:00Z", channel="email"), rec("m2", "2025-03-06T01:00:00Z", channel="email")]
    assert "long_duration" not in _types(score_conversation(records, [ok("m1"), ok("m2")], CONFIG))


@pytest.mark.parametrize("build,flagged,config,types,label", [c[1:] for c in SIGNAL_CASES],
                         ids=[c[0] for c in SIGNAL_CASES])
def test_signals(build, flagged: tuple[str, ...], config: ConversationConfig, types: list[str],
                 label: str | None) -> None:
    records = build()
    results = [(ok(r.record_id, abuse=0.9) if r.record_id in flagged else ok(r.record_id))
               if r.author_role == "customer" else not_scored(r.record_id) for r in records]
    result = score_conversation(records, results, config)
    assert _types(result) == types
    assert all(mid in {r.record_id for r in records} for s in result["signals"] for mid in s["message_ids"])
    from_messages = ["abuse"] if flagged else []
    if label:
        assert all(s["counted"] for s in result["signals"])
        assert result["labels"] == sorted(from_messages + [label], key=CATEGORIES.index)
        assert result["scores"][label] == config.signal_score and result["severity"] >= 1 and result["flagged"]
    else:
        # Listed for the analyst, but a legitimate customer's habits add no label.
        assert not any(s["counted"] for s in result["signals"])
        assert result["labels"] == from_messages and result["scores"]["restraint"] == 0.0
        assert result["scores"]["demand"] == 0.0


def test_out_of_hours_counts_local_time() -> None:
    # 10:00 JST Tuesday is inside business hours even though it is 01:00 UTC.
    records = [rec("m1", "2025-03-04T01:00:00Z"), rec("m2", "2025-03-04T02:00:00Z")]
    result = score_conversation(records, [ok("m1"), ok("m2")], ConversationConfig(min_out_of_hours_messages=1))
    assert "out_of_hours" not in _types(result)


def test_internal_notes_and_auto_replies_are_not_customer_contacts() -> None:
    records = [rec(f"m{i}", f"2025-03-04T0{i}:00:00Z", text=f"自動{i}", is_auto_generated=True) for i in range(7)]
    result = score_conversation(records, [not_scored(r.record_id) for r in records],
                                ConversationConfig(min_out_of_hours_messages=99))
    assert "contacts_per_day" not in _types(result)
    assert result["status"] == "not_scored"


# (case id, bad keyword arguments)
BAD_CONFIGS = (
    ("negative_minutes", {"max_duration_minutes": -1}),
    ("zero_contacts", {"max_contacts_per_day": 0}),
    ("hours_reversed", {"business_start_hour": 18, "business_end_hour": 9}),
    ("bad_weekday", {"business_weekdays": (7,)}),
    ("similarity_zero", {"repeat_similarity": 0}),
    ("threshold_above_one", {"threshold": 1.5}),
    ("ngram_zero", {"ngram": 0}),
    ("negative_gap", {"contact_gap_minutes": -5}),
    ("zero_repeats", {"persistent_repeats": 0}),
    ("unknown_category", {"signal_categories": {"out_of_hours": "nope"}}),
    ("channels_not_a_tuple", {"duration_channels": "chat"}),
    ("empty_channel_name", {"duration_channels": ("chat", " ")}),
)


@pytest.mark.parametrize("kwargs", [c[1] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS])
def test_config_validation(kwargs: dict) -> None:
    with pytest.raises(ConfigError, match="ConversationConfig"):
        ConversationConfig(**kwargs)


def test_empty_conversation_is_an_error() -> None:
    with pytest.raises(ConfigError, match="at least one record"):
        score_conversation([], [], CONFIG)


def test_similarity_bounds() -> None:
    assert char_ngram_similarity("同じ文", "同じ文") == 1.0
    assert char_ngram_similarity("", "a") == 0.0


# --- duration counts only live channels, per continuous session, driven by the customer's side ---------


def _ticket(channel: str) -> list[MessageRecord]:
    # A polite helpdesk ticket: asked, answered, thanked the next day.
    return [rec("m1", at(0), text="注文した商品の色を変更したいのですが、可能でしょうか。", channel=channel),
            rec("a1", at(LIMIT), role="agent", text="発送前のため変更可能です。", channel=channel),
            rec("m2", at(LIMIT * 24), text="ありがとうございます。ネイビーでお願いします。", channel=channel)]


def _agent_slow_reply() -> list[MessageRecord]:
    # The agent took far longer than the limit to answer; the customer thanked at once.
    return [rec("m1", at(0), text="ポイントの有効期限を教えてください。", channel="chat"),
            rec("a1", at(LIMIT * 2.5), role="agent", text="1年間です。", channel="chat"),
            rec("m2", at(LIMIT * 2.5 + 1), text="ありがとうございます。", channel="chat")]


def _customer_chases_agent() -> list[MessageRecord]:
    # "確認します", then nothing: the customer asks again hours later.
    return [rec("m1", at(0), text="配送状況を知りたいです。", channel="chat"),
            rec("a1", at(1), role="agent", text="確認します。", channel="chat"),
            rec("m2", at(LIMIT * 2.5), text="まだでしょうか。", channel="chat")]


def _agent_keeps_talking() -> list[MessageRecord]:
    # Only the agent's lines bridge the time between the customer's question and thanks.
    n = math.ceil(LIMIT * 1.5 / STEP)
    return ([rec("m1", at(0), text="設定方法を教えてください。", channel="chat")]
            + [rec(f"a{i}", at(i * STEP), role="agent", text=f"手順{i}です。", channel="chat") for i in range(1, n + 1)]
            + [rec("m2", at(n * STEP + 1), text="ありがとうございました。", channel="chat")])


def _two_short_sessions() -> list[MessageRecord]:
    # Two sessions, each within the limit, together longer than it, apart by more than the contact gap.
    first = _session("chat", span=LIMIT * 0.75, prefix="m")
    return first + _session("chat", start=LIMIT * 0.75 + GAP * 1.5, span=LIMIT * 0.75, prefix="n")


# (case id, records builder, whether a long_duration signal is expected)
DURATION_CASES = (
    ("chat_session", lambda: _session("chat"), True),
    ("line_session", lambda: _session("messaging_line"), True),
    ("phone_channel_in_japanese", lambda: _session("電話"), True),
    ("zendesk_voice", lambda: _session("voice"), True),
    ("helpdesk_ticket_other", lambda: _ticket("other"), False),
    ("zendesk_web_ticket", lambda: _ticket("web"), False),
    ("continuous_but_not_live_channel", lambda: _session("web"), False),
    ("chat_agent_slow_reply", _agent_slow_reply, False),
    ("chat_customer_chases_silent_agent", _customer_chases_agent, False),
    ("chat_agent_keeps_talking", _agent_keeps_talking, False),
    ("chat_two_short_sessions", _two_short_sessions, False),
)


@pytest.mark.parametrize("build,expected", [c[1:] for c in DURATION_CASES], ids=[c[0] for c in DURATION_CASES])
def test_long_duration_is_a_live_customer_session(build, expected: bool) -> None:
    records = build()
    results = [ok(r.record_id) if r.author_role == "customer" else not_scored(r.record_id) for r in records]
    result = score_conversation(records, results, CONFIG)
    durations = [s for s in result["signals"] if s["type"] == "long_duration"]
    assert bool(durations) == expected
    if expected:
        (sig,) = durations
        assert sig["minutes"] > LIMIT and sig["counted"] and result["labels"] == ["restraint"]
        customer_ids = [r.record_id for r in records if r.author_role == "customer"]
        assert sig["message_ids"] == [customer_ids[0], customer_ids[-1]]
    else:
        assert "restraint" not in result["labels"] and result["severity"] == 0


# --- a transcript with clock times and no date line still gives durations -----------------------------


def _clock_transcript(start_minute: int, dated: bool) -> str:
    """A chat where the customer keeps asking every STEP minutes for longer than the limit."""
    lines = ["2026/11/04(水)"] if dated else []
    n = math.ceil(LIMIT * 1.5 / STEP) + 1
    for i in range(n):
        minute = int(start_minute + i * STEP) % (24 * 60)
        lines.append(f"[{minute // 60:02d}:{minute % 60:02d}] お客様：もう一度最初から説明してください{i}")
        lines.append(f"[{minute // 60:02d}:{minute % 60:02d}] オペレーター：かしこまりました")
    return "\n".join(lines) + "\n"


# (case id, first turn's minute of the day, whether a date line is on top)
CLOCK_CASES = (
    ("undated", 10 * 60, False),
    ("undated_across_midnight", 24 * 60 - int(LIMIT), False),
    ("dated", 10 * 60, True),
)


@pytest.mark.parametrize("start,dated", [c[1:] for c in CLOCK_CASES], ids=[c[0] for c in CLOCK_CASES])
def test_clock_times_without_a_date_give_a_duration(tmp_path: Path, start: int, dated: bool) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(_clock_transcript(start, dated), encoding="utf-8")
    records = list(read_records([str(path)]))
    assert all((r.timestamp_utc is not None) == dated for r in records)  # no invented absolute time
    results = [ok(r.record_id) if r.status == "ok" else not_scored(r.record_id) for r in records]
    result = score_conversation(records, results, CONFIG)
    (sig,) = [s for s in result["signals"] if s["type"] == "long_duration"]
    n = math.ceil(LIMIT * 1.5 / STEP) + 1
    assert sig["minutes"] == pytest.approx(sum(int(start + i * STEP) - int(start + (i - 1) * STEP) for i in range(1, n)))
    assert "restraint" in result["labels"] and sig["counted"]


# --- greetings and closings do not make different questions a "repeated demand" ------------------------

GREETING = "お世話になっております。株式会社ミナトの山田です。"
CLOSING = "よろしくお願いいたします。"
LETTER = "いつもお世話になっております。\n株式会社ミナト 経理部の山田と申します。\n\n{q}\n\nお手数ですが、よろしくお願い申し上げます。"
QUESTIONS = ("請求書の送付先を変更したいです。", "領収書の発行は可能でしょうか。", "来月分の納品日を教えてください。",
             "担当者様の連絡先を伺えますか。")
REFUND = "全額返金してください。"


def _thread(texts: list[str]) -> list[MessageRecord]:
    """A mail thread: each customer message answered by the agent before the next one."""
    out: list[MessageRecord] = []
    for i, text in enumerate(texts):
        out.append(rec(f"m{i}", at(i * 120), text=text, channel="email"))
        out.append(rec(f"a{i}", at(i * 120 + 60), role="agent", text="承知しました。ご確認ください。", channel="email"))
    return out[:-1]


# (case id, customer texts, ids the model flagged, repeated_demand signals listed, whether demand is labelled)
REPEAT_CASES = (
    ("different_questions_same_boilerplate", [GREETING + q + CLOSING for q in QUESTIONS], (), 0, False),
    ("different_questions_letter_boilerplate", [LETTER.format(q=q) for q in QUESTIONS], (), 0, False),
    ("different_questions_same_ending", ["来月分の納品日を教えてください。", "担当者様の連絡先を教えてください。",
                                        "請求書の送付先を教えてください。", "領収書の宛名を教えてください。"], (), 0, False),
    ("different_questions_long_polite_tail", [f"{q}について教えていただけますでしょうか。" for q in ("納期", "料金", "送料", "支払方法")],
     (), 0, False),
    ("same_request_with_boilerplate", [GREETING + REFUND + CLOSING] * 4, (), 3, True),
    ("same_request_reworded", [REFUND, "何度も言っていますが、" + REFUND, "だから" + REFUND, "いい加減に" + REFUND], (), 3, True),
    ("same_request_in_a_letter", [LETTER.format(q=REFUND)] * 4, (), 3, True),
    ("three_requests_each_repeated_once", [QUESTIONS[0], QUESTIONS[0], QUESTIONS[1], QUESTIONS[1], QUESTIONS[2],
                                           QUESTIONS[2]], (), 3, False),
    ("flagged_repeat_counts", [GREETING + REFUND + CLOSING, "だから" + REFUND], ("m1",), 1, True),
)


@pytest.mark.parametrize("texts,flagged,listed,labelled", [c[1:] for c in REPEAT_CASES],
                         ids=[c[0] for c in REPEAT_CASES])
def test_repeats_compare_the_request_not_the_boilerplate(texts: list[str], flagged: tuple[str, ...], listed: int,
                                                         labelled: bool) -> None:
    records = _thread(texts)
    results = [(ok(r.record_id, demand=0.9) if r.record_id in flagged else ok(r.record_id))
               if r.author_role == "customer" else not_scored(r.record_id) for r in records]
    result = score_conversation(records, results, CONFIG)
    repeats = [s for s in result["signals"] if s["type"] == "repeated_demand"]
    assert len(repeats) == listed
    assert ("demand" in result["labels"]) == labelled
    if not flagged:
        assert all(s["counted"] == labelled for s in repeats)
        assert result["scores"]["demand"] == (CONFIG.signal_score if labelled else 0.0)
