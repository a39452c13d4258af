"""What a scan keeps of each conversation until its input ends: on disk, so memory does not grow with the input.

A conversation record can only be written once no more of its messages can come, which for an export
not grouped by conversation (a CSV with a ticket column, an mbox of separate mails) is the end of the
input.  Holding every record and result in memory until then grew a scan by about 3 MB per MB of input.
:class:`ConversationStore` keeps instead only what :func:`~kasuhara_nlp.conversation.score_conversation`
reads (ids, roles, channel, times, the customer's words for repeated requests, and the message's scores,
labels and evidence) in a private temporary SQLite database, deleted when the store is closed, and gives
the conversations back one at a time, so a scan holds at most one conversation in memory.

>>> from kasuhara_nlp.records import MessageRecord
>>> with ConversationStore() as store:
...     for i, conv in enumerate(["c1", "c2", "c1"]):
...         rec = MessageRecord(record_id=f"m{i}", body_text="返金しろ", conversation_id=conv)
...         store.add(rec, {"id": f"m{i}", "status": "ok", "labels": [], "scores": {}, "severity": 0})
...     [(recs[0].conversation_id, [r.record_id for r in recs]) for recs, _ in store.conversations()]
[('c1', ['m0', 'm2'])]
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import fields
from typing import Any, Iterator

from .conversation import CUSTOMER_ROLES
from .records import MessageRecord
from .similarity import customer_words

__all__ = ["ConversationStore"]

# Fields of a message result that conversation scoring reads.
_RESULT_FIELDS = ("id", "status", "scores", "labels", "severity", "evidence")
# Record fields left out: the body (only the customer's words to score are kept) and per-message detail.
_DROPPED = {"body_text", "text_to_score", "segments", "attachments", "pii_findings", "decode_warnings"}
_KEPT = tuple(f.name for f in fields(MessageRecord) if f.name not in _DROPPED)
_PENDING = 256  # rows inserted together


def _row(record: MessageRecord, result: dict[str, Any]) -> tuple[str, str, str | None]:
    """(conversation id, JSON of the kept record fields and result fields, the customer's words or None)."""
    slim = {name: getattr(record, name) for name in _KEPT}
    kept_result = {k: result[k] for k in _RESULT_FIELDS if k in result}
    text = None
    if record.author_role in CUSTOMER_ROLES:  # only customer requests are compared for repeats
        text = customer_words(record)
    return str(record.conversation_id), json.dumps([slim, kept_result], ensure_ascii=False, default=str), text


class ConversationStore:
    """Message records and results of a scan, grouped by conversation, in a temporary on-disk database.

    Use as a context manager (or call :meth:`close`): the database file is deleted on close.
    """

    def __init__(self) -> None:
        # "" = a private temporary database: in SQLite's page cache up to a few MB, then on disk.
        self._db = sqlite3.connect("", check_same_thread=False)
        self._db.execute("CREATE TABLE items (seq INTEGER PRIMARY KEY, conv TEXT NOT NULL, data TEXT, words TEXT)")
        self._pending: list[tuple[str, str, str | None]] = []
        self._indexed = False

    def add(self, record: MessageRecord, result: dict[str, Any]) -> None:
        """Keep what conversation scoring needs of ``record`` (which must have a ``conversation_id``) and its result."""
        if self._indexed:
            raise RuntimeError("ConversationStore.add after conversations() was read")
        self._pending.append(_row(record, result))
        if len(self._pending) >= _PENDING:
            self._write()

    def _write(self) -> None:
        self._db.executemany("INSERT INTO items (conv, data, words) VALUES (?, ?, ?)", self._pending)
        self._pending.clear()

    def conversations(self, min_messages: int = 2) -> Iterator[tuple[list[MessageRecord], list[dict[str, Any]]]]:
        """``(records, results)`` of each conversation with at least ``min_messages`` messages, in the order
        of their first message, each in input order.  Records carry no body; customer records keep the
        words that were scored in ``text_to_score``."""
        if not self._indexed:
            self._write()
            self._db.execute("CREATE INDEX items_conv ON items (conv, seq)")
            self._indexed = True
        groups = self._db.execute("SELECT conv FROM items GROUP BY conv HAVING COUNT(*) >= ? ORDER BY MIN(seq)",
                                  (min_messages,))
        for (conv,) in groups:
            records: list[MessageRecord] = []
            results: list[dict[str, Any]] = []
            for data, words in self._db.execute("SELECT data, words FROM items WHERE conv = ? ORDER BY seq", (conv,)):
                slim, result = json.loads(data)
                records.append(MessageRecord(**slim, text_to_score=words))
                results.append(result)
            yield records, results

    def close(self) -> None:
        """Delete the database."""
        self._db.close()

    def __enter__(self) -> "ConversationStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
