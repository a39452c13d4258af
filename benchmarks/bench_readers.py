"""Benchmark: parse a generated 100,000-message mbox (mixed Japanese encodings).

Prints records/second and peak memory (tracemalloc peak of a second, traced pass, and the
process's ru_maxrss).  Run: ``python benchmarks/bench_readers.py [--messages N]``.
"""

from __future__ import annotations

import argparse
import base64
import os
import quopri
import resource
import sys
import tempfile
import time
import tracemalloc

from kasuhara_nlp.readers import read_records

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tests.mailfactory import sjis_to_jis  # noqa: E402  (the same encoder the tests use)

BODIES = (
    "お世話になっております。注文した商品がまだ届きません。\nいつになったら届くのですか。至急回答してください。\n",
    "①返品の件です。㈱髙﨑商店の山田です。\n何度も連絡しているのに返事がない。誠意を見せろ。\n\n"
    "2025年3月4日(火) 10:15 サポート <support@example.jp>:\n> ご連絡ありがとうございます。\n> 確認いたします。\n",
    "いい加減にしてください。\n\n-- \n山田太郎\nTEL 090-1234-5678\nyamada@example.com\n",
)


def _cp50220(text: str) -> bytes:
    out, kanji = bytearray(), False
    for ch in text:
        if ord(ch) < 0x80:
            if kanji:
                out += b"\x1b(B"
                kanji = False
            out += ch.encode()
        else:
            if not kanji:
                out += b"\x1b$B"
                kanji = True
            out += sjis_to_jis(ch.encode("cp932"))
    return bytes(out + (b"\x1b(B" if kanji else b""))


def _message(i: int) -> bytes:
    body = BODIES[i % len(BODIES)] + f"番号{i}\n"
    kind = i % 4
    if kind == 0:
        charset, cte, payload = "utf-8", "8bit", body.encode()
    elif kind == 1:
        charset, cte, payload = "ISO-2022-JP", "7bit", _cp50220(body)
    elif kind == 2:
        charset, cte, payload = "Shift_JIS", "base64", base64.encodebytes(body.encode("cp932"))
    else:
        charset, cte, payload = "utf-8", "quoted-printable", quopri.encodestring(body.encode())
    subject = base64.b64encode(_cp50220("①返品の件")).decode()
    head = (
        f"From s{i}@example.com Tue Mar  4 10:15:00 2025\n"
        f"From: =?ISO-2022-JP?B?{subject}?= <c{i % 500}@example.com>\nTo: support@example.jp\n"
        f"Subject: =?ISO-2022-JP?B?{subject}?=\nMessage-ID: <b{i}@example.com>\n"
        f"Date: Tue, 04 Mar 2025 10:{i % 60:02d}:00 +0900\nMIME-Version: 1.0\n"
        f"Content-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: {cte}\n\n"
    )
    return head.encode() + payload + b"\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.mbox")
        with open(path, "wb") as f:
            for i in range(args.messages):
                f.write(_message(i))
        size = os.path.getsize(path)
        t0 = time.perf_counter()
        statuses: dict[str, int] = {}
        for rec in read_records([path]):
            statuses[rec.status] = statuses.get(rec.status, 0) + 1
        elapsed = time.perf_counter() - t0
        count = sum(statuses.values())
        # A second, shorter traced pass: tracemalloc slows parsing, so it is not timed.
        tracemalloc.start()
        for n, _ in enumerate(read_records([path])):
            if n >= 20_000:
                break
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"python {sys.version.split()[0]}; mbox {size / 1e6:.1f} MB, {args.messages} messages (utf-8, ISO-2022-JP "
          f"with ①㈱髙﨑, Shift_JIS base64, utf-8 QP)")
    print(f"parsed {count} records in {elapsed:.1f} s: {count / elapsed:,.0f} records/s; statuses {statuses}")
    print(f"tracemalloc peak (first 20,000 records): {peak / 1e6:.2f} MB; ru_maxrss: {maxrss_kib / 1024:.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
