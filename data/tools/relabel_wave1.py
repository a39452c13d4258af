"""Revise the wave-1 labels (writers w1-w5) by independent annotation and a majority vote.

Wave 1 agreed least with an independent annotator (data/README.md: any-harassment kappa 0.78, against 0.97-0.99
for waves 2 and 3), so every wave-1 message was labelled again from the guide alone, and a second annotator
labelled each message where the first disagreed with the writer on any category. Each category then takes the
majority of the three (writer, annotator 1, annotator 2); where the writer and annotator 1 agree, nothing changes.

    python data/tools/relabel_wave1.py disputes OUT.jsonl   # the messages annotator 2 labels (id, channel, text)
    python data/tools/relabel_wave1.py apply                # rewrite data/corpus/w[1-5]_*.jsonl; prints counts

Inputs, all in data/agreement/: ``wave1_original_labels.jsonl`` (the writers' labels, kept for provenance),
``wave1_relabel.jsonl`` (annotator 1, every message) and ``wave1_adjudication.jsonl`` (annotator 2, disputes).
``apply`` starts from the writers' labels each time, so running it twice gives the same corpus.
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

from kasuhara_nlp.labels import CATEGORIES, subtype_categories

DATA = Path(__file__).resolve().parents[1]
CORPUS_GLOB = "w[1-5]_*.jsonl"
ORIGINAL = DATA / "agreement" / "wave1_original_labels.jsonl"
FIRST = DATA / "agreement" / "wave1_relabel.jsonl"
SECOND = DATA / "agreement" / "wave1_adjudication.jsonl"


def _read(path: Path) -> dict[str, dict]:
    with open(path, encoding="utf-8") as f:
        return {r["id"]: r for r in map(json.loads, f) if r}


def _corpus_files() -> list[Path]:
    return sorted((DATA / "corpus").glob(CORPUS_GLOB))


def disputed(original: dict[str, dict], first: dict[str, dict]) -> list[str]:
    """Ids where annotator 1 and the writer differ on at least one category."""
    return [i for i, r in original.items() if set(r["labels"]) != set(first[i]["labels"])]


def vote(writer: dict, first: dict, second: dict) -> dict:
    """Labels, severity and subtypes by per-category majority of three labellings."""
    votes = (first, second, writer)  # in this order of preference when several match the result
    labels = [c for c in CATEGORIES if sum(c in v["labels"] for v in votes) >= 2]
    if not labels:
        return {"labels": [], "severity": 0, "subtypes": []}
    same = [v for v in votes if set(v["labels"]) == set(labels)]
    if same:
        return {"labels": labels, "severity": same[0]["severity"], "subtypes": list(same[0]["subtypes"])}
    subtypes = sorted({s for v in votes for s in v["subtypes"] if subtype_categories([s]) <= set(labels)})
    severities = sorted(v["severity"] for v in votes if v["severity"] >= 1)
    return {"labels": labels, "severity": severities[len(severities) // 2], "subtypes": subtypes}


def revise(record: dict, original: dict[str, dict], first: dict[str, dict], second: dict[str, dict]) -> dict:
    """The wave-1 ``record`` with its revised labels, severity, subtypes and hard_negative flag."""
    w = original[record["id"]]
    final = vote(w, first[w["id"]], second[w["id"]]) if w["id"] in second else {
        k: w[k] for k in ("labels", "severity", "subtypes")}
    # A message the writer flagged but the vote clears is an angry, borderline complaint.
    hard = False if final["labels"] else (w["hard_negative"] or bool(w["labels"]))
    return {**record, **final, "hard_negative": hard}


def apply() -> collections.Counter:
    """Rewrite the wave-1 corpus files with the revised labels; returns counts of what changed."""
    original, first, second = _read(ORIGINAL), _read(FIRST), _read(SECOND)
    counts: collections.Counter = collections.Counter()
    for path in _corpus_files():
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            r = revise(json.loads(line), original, first, second)
            w = original[r["id"]]
            counts["messages"] += 1
            counts["disputed"] += r["id"] in second
            counts["any changed"] += bool(w["labels"]) != bool(r["labels"])
            counts["labels changed"] += set(w["labels"]) != set(r["labels"])
            for c in CATEGORIES:
                if (c in w["labels"]) != (c in r["labels"]):
                    counts[f"{c} {'added' if c in r['labels'] else 'removed'}"] += 1
            out.append(json.dumps(r, ensure_ascii=False))
        path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return counts


def main(argv: list[str]) -> int:
    if argv[:1] == ["disputes"] and len(argv) == 2:
        original, first = _read(ORIGINAL), _read(FIRST)
        missing = set(original) - set(first)
        if missing:
            print(f"annotator 1 has not labelled {len(missing)} messages, e.g. {sorted(missing)[:3]}")
            return 1
        texts = {}
        for path in _corpus_files():
            texts.update({r["id"]: r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())})
        ids = disputed(original, first)
        with open(argv[1], "w", encoding="utf-8") as f:
            for i in ids:
                f.write(json.dumps({"id": i, "channel": texts[i]["channel"], "text": texts[i]["text"]},
                                   ensure_ascii=False) + "\n")
        print(f"{len(ids)} of {len(original)} messages disputed -> {argv[1]}")
        return 0
    if argv == ["apply"]:
        for k, v in sorted(apply().items()):
            print(f"{k}: {v}")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
