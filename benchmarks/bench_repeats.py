"""Benchmark: the ``repeated_demand`` signal with request profiles against the baseline that rebuilt sets.

Each customer request is compared with every earlier request an agent answered.  The baseline (the same
loop given the comparison before request profiles) rebuilds both requests' n-gram and subject sets for every
pair, so a conversation of N requests builds O(N²) sets; now each request's :class:`RequestProfile` is built
once and a pair costs only its set intersections.  Both run in the same process on the same synthetic
conversations (every request answered, a third of them repeats or rewordings of earlier ones), their
signals are checked to be identical, and the best of ``--repeat`` runs of each is printed with the ratio.

Run: ``python benchmarks/bench_repeats.py [--sizes 10 50 200] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import datetime, timedelta, timezone
from typing import Callable

from kasuhara_nlp.conversation import ConversationConfig, _repeat_signals
from kasuhara_nlp.records import MessageRecord
from kasuhara_nlp.similarity import _subject, char_ngram_similarity

SUBJECTS = ("納期", "料金", "送料", "支払方法", "返品", "領収書", "請求書の送付先", "注文番号A123", "キャンセル", "保証期間",
            "配送業者", "商品の色", "ポイント残高", "会員登録", "パスワード再設定")
ASKS = ("について教えてください。", "を変更したいのですが、可能でしょうか。", "の件でご連絡しました。確認をお願いします。",
        "はどうなっていますか。至急回答してください。", "について、担当者様からご説明いただけますでしょうか。")
WRAPS = ("", "お世話になっております。株式会社ミナトの山田です。", "だから", "何度も言っていますが、")


# --- baseline: the same loop, with both texts' sets rebuilt for every pair (as before request profiles) ---

def _baseline_request_similarity(a: str, b: str, n: int = 2) -> float:
    sa, sb = _subject(a), _subject(b)
    subject = 2 * len(sa & sb) / (len(sa) + len(sb)) if sa or sb else 1.0
    return min(char_ngram_similarity(a, b, n), subject)


def baseline_repeat_signals(ordered: list[MessageRecord], config: ConversationConfig, flagged: set[str]) -> list[dict]:
    """Baseline: ``conversation._repeat_signals`` comparing the request texts pair by pair."""
    return _repeat_signals(ordered, config, flagged, make_profile=lambda text, n: text,
                           compare=lambda a, b: _baseline_request_similarity(a, b, config.ngram))


# --- workload ---------------------------------------------------------------------------------------

def conversation(size: int, seed: int) -> list[MessageRecord]:
    """``size`` customer requests, each answered by an agent; about a third repeat or reword an earlier one."""
    rng = random.Random(seed)
    start = datetime(2025, 3, 4, 1, 0, tzinfo=timezone.utc)
    texts: list[str] = []
    records: list[MessageRecord] = []
    for i in range(size):
        if texts and rng.random() < 0.35:
            text = rng.choice(WRAPS) + rng.choice(texts)
        else:
            text = rng.choice(WRAPS) + rng.choice(SUBJECTS) + rng.choice(ASKS)
        texts.append(text)
        for rid, role, body, minute in ((f"m{i}", "customer", text, 2 * i), (f"a{i}", "agent", "承知しました。", 2 * i + 1)):
            when = (start + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")
            records.append(MessageRecord(record_id=rid, body_text=body, text_to_score=body, conversation_id="c1",
                                         author_role=role, timestamp_utc=when, channel="email"))
    return records


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """Best of ``repeat`` wall-clock runs, in seconds (the least disturbed by other processes)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 200], help="customer messages per conversation")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each; the best is reported")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    config = ConversationConfig()
    print(f"{'messages':>8}  {'baseline (rebuilt sets) ms':>26}  {'profiles ms':>11}  {'baseline / profiles':>19}  signals")
    for size in args.sizes:
        records = conversation(size, args.seed)
        old, new = baseline_repeat_signals(records, config, set()), _repeat_signals(records, config, set())
        if old != new:  # the speed-up must not change a single signal
            raise SystemExit(f"signals differ at {size} messages: baseline {len(old)}, profiles {len(new)}")
        t_old = best_time(lambda: baseline_repeat_signals(records, config, set()), args.repeat)
        t_new = best_time(lambda: _repeat_signals(records, config, set()), args.repeat)
        print(f"{size:>8}  {t_old * 1000:>26.2f}  {t_new * 1000:>11.2f}  {t_old / t_new:>18.1f}x  {len(new)}")


if __name__ == "__main__":
    main()
