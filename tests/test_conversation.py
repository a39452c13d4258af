"""Conversation scoring: max over messages plus each signal (duration, contacts, hours, repeats)."""

from __future__ import annotations

import pytest

from kasuhara_nlp.conversation import ConversationConfig, char_ngram_similarity, score_conversation
from kasuhara_nlp.errors import ConfigError
from kasuhara_nlp.labels import CATEGORIES
from kasuhara_nlp.records import MessageRecord, ScanResult

CONFIG = ConversationConfig()


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
def _long_call():
    return [rec("m1", "2025-03-04T01:00:00Z"), rec("a1", "2025-03-04T01:30:00Z", role="agent"),
            rec("m2", "2025-03-04T02:15:00Z", text="まだ話は終わってない")]


def _call_offsets():
    return [rec("m1", None, extra={"offset_seconds": 10}), rec("m2", None, text="続けるぞ", extra={"offset_seconds": 4300})]


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
    ("short_call_no_signal", _long_call, (), ConversationConfig(max_duration_minutes=120), [], None),
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
