"""Request similarity: a request's profile (n-gram and subject sets) gives the same similarity as comparing
the texts, and a conversation builds each request's profile once, not once per later message."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kasuhara_nlp import similarity
from kasuhara_nlp.conversation import ConversationConfig, score_conversation
from kasuhara_nlp.errors import ConfigError
from kasuhara_nlp.records import MessageRecord
from kasuhara_nlp.similarity import profile_similarity, request_profile, request_similarity

REFUND = "全額返金してください。"

# (case id, first request, second request, n, expected similarity or None where only the definition is checked)
PAIRS = (
    ("same_text", REFUND, REFUND, 2, 1.0),
    ("same_text_unigrams", REFUND, REFUND, 1, 1.0),
    ("different_subject_same_tail", "納期について教えてください", "料金について教えてください", 2, 0.0),
    ("blank_request", "", REFUND, 2, 0.0),
    ("whitespace_only", " \u3000\n", REFUND, 2, 0.0),
    ("both_blank", "", "", 2, 0.0),
    ("reworded_repeat", REFUND, "だから" + REFUND, 2, None),
    ("reworded_trigrams", REFUND, "何度も言っていますが、" + REFUND, 3, None),
    ("shorter_than_n", "金", "返金", 3, None),
    ("no_subject_tokens", "はい。", "はい！", 2, None),
    ("latin_and_digits", "注文番号A123の件", "注文番号 A123 の件です", 2, None),
    ("formula_kanji_only", "教えて下さい", "お願い致します", 2, None),
    ("katakana_subject", "キャンセルしたい", "キャンセルをお願い", 2, None),
)


def _dice(a: set[str], b: set[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b))


def _reference(a: str, b: str, n: int) -> float:
    """The definition written out: min(Dice of whitespace-free character n-grams, Dice of subject tokens)."""
    a_chars, b_chars = "".join(a.split()), "".join(b.split())
    if a_chars and b_chars:
        wording = _dice({a_chars[i: i + n] for i in range(max(len(a_chars) - n + 1, 1))},
                        {b_chars[i: i + n] for i in range(max(len(b_chars) - n + 1, 1))})
    else:
        wording = 0.0
    sa, sb = similarity._subject(a), similarity._subject(b)
    return min(wording, _dice(sa, sb) if sa or sb else 1.0)


@pytest.mark.parametrize("a,b,n,expected", [c[1:] for c in PAIRS], ids=[c[0] for c in PAIRS])
def test_profile_similarity_is_request_similarity(a: str, b: str, n: int, expected: float | None) -> None:
    got = profile_similarity(request_profile(a, n), request_profile(b, n))
    assert got == request_similarity(a, b, n) == _reference(a, b, n)
    assert got == profile_similarity(request_profile(b, n), request_profile(a, n))  # symmetric
    if expected is not None:
        assert got == expected


def test_profiles_of_different_n_do_not_compare() -> None:
    with pytest.raises(ConfigError, match="same n"):
        profile_similarity(request_profile(REFUND, 2), request_profile(REFUND, 3))


def _answered_thread(texts: list[str]) -> tuple[list[MessageRecord], list[dict]]:
    """Each customer message answered by an agent before the next, so every later request is compared
    with every earlier one."""
    start = datetime(2025, 3, 4, 1, 0, tzinfo=timezone.utc)
    records: list[MessageRecord] = []
    for i, text in enumerate(texts):
        for rid, role, body, minute in ((f"m{i}", "customer", text, 2 * i), (f"a{i}", "agent", "承知しました。", 2 * i + 1)):
            when = (start + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")
            records.append(MessageRecord(record_id=rid, body_text=body, text_to_score=body, conversation_id="c1",
                                         author_role=role, timestamp_utc=when, channel="email"))
    return records, [{"id": r.record_id, "status": "not_scored"} for r in records]


@pytest.mark.parametrize("count", [1, 2, 6, 12])
def test_each_request_is_profiled_once(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    # Rebuilding earlier requests' sets for every later message made a conversation quadratic in set builds.
    calls: list[str] = []
    subject = similarity._subject
    monkeypatch.setattr(similarity, "_subject", lambda text: calls.append(text) or subject(text))
    texts = [f"{q}について教えてください。" for q in ("納期", "料金", "送料", "支払方法", "返品", "領収書")] * 2
    records, results = _answered_thread(texts[:count])
    score_conversation(records, results, ConversationConfig())
    assert len(calls) == count
