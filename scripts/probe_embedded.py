"""The embedded probe of docs/training.md §21: one short message put inside a long non-harassing one.

Built only from the test split (seed 0), so no model has trained on any part of it:
- 200 "embedded attacks": a short test positive (at most 80 characters, severity 2 or 3) put at a sentence
  boundary of a long test message without harassment (at least 150 characters); expected to be flagged;
- 200 "embedded hard negatives": a short test hard negative put into a long test message without harassment;
  expected not to be flagged.

And, with ``--held-out``, the held-out probe of §23 (``data/probe/embedded_heldout.jsonl``): long messages written
whole, each with one harassing sentence or one angry but legitimate one, by a writer who saw none of the corpus.

    python scripts/probe_embedded.py models/kasuhara-bert-ja [MODEL ...] [--held-out]
"""
import argparse
import json
import random

from kasuhara_nlp import KasuharaClassifier
from kasuhara_nlp.data import DATA_DIR, LabelledMessage, load_messages, wave_of
from kasuhara_nlp.normalize import split_sentences

PAIRS = 200
# The corpus the probe was built from (2026-11-30): later waves join the test split but not the probe, so its
# figures stay comparable across candidates.
PROBE_WAVES = {None, "wave1", "wave2", "wave3", "rewrites", "wave4", "wave5", "wave6"}
HELD_OUT = DATA_DIR / "probe" / "embedded_heldout.jsonl"
SHORT, LONG = 80, 150


def embed(host: str, inner: str, rng: random.Random) -> str:
    """``inner`` put at a sentence boundary of ``host`` chosen by ``rng`` (never first or last when it has a middle)."""
    ends = [e for _, e in split_sentences(host)][:-1] or [len(host)]
    at = rng.choice(ends)
    return host[:at] + inner + host[at:]


def pools(messages: list[LabelledMessage]) -> tuple[list[LabelledMessage], ...]:
    """(short attacks of severity 2 or more, short hard negatives, long messages without harassment to put them
    in): what the probe here and the training records of augment_embedded.py are made of."""
    attacks = [m for m in messages if m.labels and m.severity >= 2 and len(m.text) <= SHORT]
    hard = [m for m in messages if m.hard_negative and not m.labels and len(m.text) <= SHORT]
    hosts = [m for m in messages if not m.labels and len(m.text) >= LONG]
    return attacks, hard, hosts


def build(messages: list[LabelledMessage], seed: int = 0) -> tuple[list[str], list[str]]:
    """(embedded attacks, embedded hard negatives) from the test messages of ``messages``."""
    test = [m for m in messages if m.split == "test" and wave_of(m.id) in PROBE_WAVES]
    attacks, hard, hosts = ([m.text for m in pool] for pool in pools(test))
    rng = random.Random(seed)
    return ([embed(rng.choice(hosts), t, rng) for t in rng.sample(attacks, PAIRS)],
            [embed(rng.choice(hosts), t, rng) for t in rng.sample(hard, PAIRS)])


def held_out() -> tuple[list[str], list[str]]:
    """The §23 held-out probe as (attack texts, legitimate texts)."""
    rows = [json.loads(line) for line in HELD_OUT.open(encoding="utf-8") if line.strip()]
    return [r["text"] for r in rows if r["expect"] == "attack"], [r["text"] for r in rows if r["expect"] == "benign"]


def report(clf: KasuharaClassifier, name: str, attacks: list[str], negatives: list[str]) -> None:
    """Print how many of ``attacks`` and of ``negatives`` ``clf`` flags."""
    caught = sum(bool(p.labels) for p in clf.predict(attacks, evidence=False))
    flagged = sum(bool(p.labels) for p in clf.predict(negatives, evidence=False))
    print(f"{clf.folder} ({clf.config.name} {clf.config.version}) {name}: attacks flagged {caught} of {len(attacks)}"
          f" ({caught / len(attacks):.3f}); negatives flagged {flagged} of {len(negatives)}"
          f" ({flagged / len(negatives):.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--held-out", action="store_true", help="also score data/probe/embedded_heldout.jsonl")
    args = parser.parse_args()
    attacks, negatives = build(load_messages())
    for folder in args.models:
        clf = KasuharaClassifier.from_pretrained(folder)
        report(clf, "embedded probe (§21)", attacks, negatives)
        if args.held_out:
            report(clf, "held-out probe (§23)", *held_out())


if __name__ == "__main__":
    main()
