"""`kasuhara scan` streams: results go out as they are final, and records are not kept until the end."""

from __future__ import annotations

import gc
import weakref

import pytest

from kasuhara_nlp.classifier import KasuharaClassifier
from kasuhara_nlp.conversation import ConversationConfig, score_conversation
from kasuhara_nlp.labels import CATEGORIES
from kasuhara_nlp.readers.common import finish_record
from kasuhara_nlp.records import MessageRecord
from kasuhara_nlp.scan import ScanOptions, scan_records


@pytest.fixture(scope="module")
def clf(baseline_dir):
    return KasuharaClassifier.from_pretrained(baseline_dir, thresholds={c: 0.5 for c in CATEGORIES})


def _ticket_rows(n: int, refs: list | None = None, read: list | None = None):
    """A CSV-like export: one ticket per row, so every record opens a conversation that never gets a second message."""
    for i in range(n):
        rec = finish_record(MessageRecord(record_id=str(i), body_text=f"商品が届きません。注文番号{i}を確認してください。" * 20,
                                          conversation_id=f"T{i}", source_format="csv", source_locator=f"line {i + 2}"))
        if refs is not None:
            refs.append(weakref.ref(rec))
        if read is not None:
            read.append(i)
        yield rec


def test_records_are_released_once_their_results_are_out(clf):
    # Before: every record (its whole body) and its result stayed in memory until the end of the input,
    # so a scan grew with its input.  Now a scan holds a batch, and the conversations on disk.
    refs: list[weakref.ref] = []
    results = scan_records(_ticket_rows(300, refs), clf, ScanOptions(batch_size=8))
    messages = [next(results) for _ in range(300)]
    gc.collect()
    alive = sum(r() is not None for r in refs)
    assert alive <= 8, f"{alive} of 300 records still in memory after their results were yielded"
    assert [m["id"] for m in messages] == [str(i) for i in range(300)]
    assert list(results) == []  # one message per ticket: no conversation records


def test_the_first_result_comes_before_the_last_record_is_read(clf):
    read: list[int] = []
    results = scan_records(_ticket_rows(100, read=read), clf, ScanOptions(batch_size=8))
    first = next(results)
    assert first["id"] == "0" and len(read) < 100
    results.close()  # abandoning a scan part-way releases its conversation store


def _thread_records() -> list[MessageRecord]:
    """Three conversations, interleaved (not grouped), with agent answers, repeats and a long chat."""
    rows = []
    for k in range(4):
        minute = 20 * k
        rows += [
            ("c1", "customer", "chat", f"2026-11-03T01:{minute:02d}:00Z", "返金してください。今すぐに。"),
            ("c2", "customer", "mail", f"2026-11-0{3 + k}T14:00:00Z", "土下座して謝れ。お前は本当に無能だな。"),
            ("c1", "agent", "chat", f"2026-11-03T01:{minute + 1:02d}:00Z", "規定により返金はできかねます。"),
            ("c3", "customer", "other", None, "解約します。"),
        ]
    out = []
    for i, (conv, role, channel, ts, text) in enumerate(rows):
        out.append(finish_record(MessageRecord(
            record_id=f"m{i}", body_text=text, conversation_id=conv, author_role=role, channel=channel,
            timestamp_utc=ts, sequence=i, author_name="山田" if role == "customer" else "佐藤",
            status="ok" if role == "customer" else "not_scored", extra={"elapsed_seconds": i * 60})))
    return out


def test_conversation_records_are_those_of_the_full_records(clf):
    records = _thread_records()
    results = list(scan_records(records, clf, ScanOptions(batch_size=5)))
    messages = [r for r in results if r["kind"] == "message"]
    conversations = [r for r in results if r["kind"] == "conversation"]
    assert [m["id"] for m in messages] == [r.record_id for r in records]
    assert results[len(messages):] == conversations  # after every message, in order of first message
    expected = []
    for conv in ("c1", "c2", "c3"):
        recs = [r for r in records if r.conversation_id == conv]
        res = [m for m in messages if m["conversation_id"] == conv]
        expected.append(dict(score_conversation(recs, res, ConversationConfig()),
                             model=clf.config.name, model_version=clf.config.version))
    assert conversations == expected
    assert any(s["type"] == "repeated_demand" for s in conversations[0]["signals"])
