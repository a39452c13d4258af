"""The embedded probe of docs/training.md §21: one short message put inside a long non-harassing one.

Built only from the test split (seed 0), so no model has trained on any part of it:
- 200 "embedded attacks": a short test positive (at most 80 characters, severity 2 or 3) put at a sentence
  boundary of a long test message without harassment (at least 150 characters); expected to be flagged;
- 200 "embedded hard negatives": a short test hard negative put into a long test message without harassment;
  expected not to be flagged.

    python scripts/probe_embedded.py models/kasuhara-bert-ja [MODEL ...]
"""
import argparse
import random

from kasuhara_nlp import KasuharaClassifier
from kasuhara_nlp.data import LabelledMessage, load_messages
from kasuhara_nlp.normalize import split_sentences

PAIRS = 200
SHORT, LONG = 80, 150


def embed(host: str, inner: str, rng: random.Random) -> str:
    """``inner`` put at a sentence boundary of ``host`` chosen by ``rng`` (never first or last when it has a middle)."""
    ends = [e for _, e in split_sentences(host)][:-1] or [len(host)]
    at = rng.choice(ends)
    return host[:at] + inner + host[at:]


def build(messages: list[LabelledMessage], seed: int = 0) -> tuple[list[str], list[str]]:
    """(embedded attacks, embedded hard negatives) from the test messages of ``messages``."""
    test = [m for m in messages if m.split == "test"]
    attacks = [m.text for m in test if m.labels and m.severity >= 2 and len(m.text) <= SHORT]
    hard = [m.text for m in test if m.hard_negative and not m.labels and len(m.text) <= SHORT]
    hosts = [m.text for m in test if not m.labels and len(m.text) >= LONG]
    rng = random.Random(seed)
    return ([embed(rng.choice(hosts), t, rng) for t in rng.sample(attacks, PAIRS)],
            [embed(rng.choice(hosts), t, rng) for t in rng.sample(hard, PAIRS)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()
    attacks, negatives = build(load_messages())
    for folder in args.models:
        clf = KasuharaClassifier.from_pretrained(folder)
        caught = sum(bool(p.labels) for p in clf.predict(attacks, evidence=False))
        flagged = sum(bool(p.labels) for p in clf.predict(negatives, evidence=False))
        print(f"{folder} ({clf.config.name} {clf.config.version}): embedded attacks flagged {caught} of {len(attacks)}"
              f" ({caught / len(attacks):.3f}); embedded hard negatives flagged {flagged} of {len(negatives)}"
              f" ({flagged / len(negatives):.3f})")


if __name__ == "__main__":
    main()
