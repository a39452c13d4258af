"""Training records of docs/training.md §22: short training messages put inside long non-harassing ones.

Made only from the train split of a data folder (seed 1), so no dev, test or blind text is touched:
- N "embedded attacks": a short train positive (at most 80 characters, severity 2 or 3) put at a sentence
  boundary of a long train message without harassment (at least 150 characters); labels and severity are the
  short message's (a 暴言 is harassment whatever polite text surrounds it);
- N "embedded hard negatives": a short train hard negative put into a long train message without harassment;
  no labels, hard_negative true.

Each record carries ``split: train`` and names both parts in ``embedded_from``. The texts are the project's own
corpus, joined; public (ASDC, JMultiWOZ, RTP-LX) text is never used.

    python scripts/augment_embedded.py --data /tmp/dQ -o /tmp/dQ/corpus/aug_embedded.jsonl [--pairs 600]
"""
import argparse
import json
import random
from pathlib import Path

from kasuhara_nlp.data import load_messages

from probe_embedded import embed, pools


def build(data: str, pairs: int, seed: int = 1) -> list[dict]:
    """The augmentation records for the train split of ``data``."""
    train = [m for m in load_messages(data, public=False) if m.split == "train"]
    attacks, hard, hosts = pools(train)
    rng = random.Random(seed)
    out = []
    for kind, pool in (("attack", attacks), ("hard", hard)):
        for i, inner in enumerate(rng.sample(pool, min(pairs, len(pool)))):
            host = rng.choice(hosts)
            out.append({"id": f"aug-{kind}-{i:04d}", "text": embed(host.text, inner.text, rng),
                        "labels": inner.labels, "severity": inner.severity, "split": "train",
                        "source": "augmented", "channel": host.channel, "family": f"aug-{kind}-{i:04d}",
                        "hard_negative": kind == "hard", "embedded_from": [host.id, inner.id]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="data folder (its corpus/ and agreement/)")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--pairs", type=int, default=600, help="records of each kind")
    args = parser.parse_args()
    records = build(args.data, args.pairs)
    with Path(args.output).open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    print(f"{len(records)} records -> {args.output}")


if __name__ == "__main__":
    main()
