"""Revise a corpus wave's labels by independent annotation and a per-category majority vote.

Every team-written message was labelled again from the label guide alone by an annotator who saw neither the
writer's labels nor any model output, and a second annotator labelled each message where the first disagreed
with the writer on any category. Each category then takes the majority of the three (writer, annotator 1,
annotator 2); where the writer and annotator 1 agree, nothing changes. docs/training.md §5 says why.

    python data/tools/relabel.py WAVE disputes OUT.jsonl   # the messages annotator 2 labels (id, channel, text)
    python data/tools/relabel.py WAVE apply                # rewrite that wave's corpus files; prints counts

WAVE is wave1 (writers w1-w5), wave2 (w6-w13), wave3 (w14-w21), wave4 (w30-w37), wave5 (w38-w41), wave6 (w42-w45) or wave7 (w46-w47): the
writer table ``kasuhara_nlp.data.WAVES``. Inputs, all in data/agreement/:
``WAVE_original_labels.jsonl`` (the writers' labels, kept for provenance), ``WAVE_relabel.jsonl`` (annotator 1,
every message) and ``WAVE_adjudication.jsonl`` (annotator 2, the disputes). ``apply`` starts from the writers'
labels each time, so running it twice gives the same corpus.
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

from kasuhara_nlp.data import WAVES
from kasuhara_nlp.datacard import read_rows
from kasuhara_nlp.labels import CATEGORIES, subtype_categories
from kasuhara_nlp.votes import LABELLINGS

DATA = Path(__file__).resolve().parents[1]
WRITTEN = tuple(w for w in WAVES if w != "rewrites")  # the rewrites take their sources' labels (§7)
ORIGINAL, FIRST, SECOND = LABELLINGS  # the writers', annotator 1's and annotator 2's


def read_labels(wave: str, kind: str) -> dict[str, dict]:
    """One labelling of a wave (``kind`` is ORIGINAL, FIRST or SECOND), by message id."""
    return read_rows(DATA / "agreement" / f"{wave}_{kind}.jsonl")


def corpus_files(wave: str) -> list[Path]:
    """The corpus files of a wave's writers (``data/corpus/wN_MM.jsonl``)."""
    return sorted(p for p in (DATA / "corpus").glob("w*_*.jsonl")
                  if int(p.stem.split("_")[0][1:]) in WAVES[wave])


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
    """The corpus ``record`` with its revised labels, severity, subtypes and hard_negative flag."""
    w = original[record["id"]]
    final = vote(w, first[w["id"]], second[w["id"]]) if w["id"] in second else {
        k: w[k] for k in ("labels", "severity", "subtypes")}
    # A message the writer flagged but the vote clears is an angry, borderline complaint.
    hard = False if final["labels"] else (w["hard_negative"] or bool(w["labels"]))
    return {**record, **final, "hard_negative": hard}


def apply(wave: str) -> collections.Counter:
    """Rewrite a wave's corpus files with the revised labels; returns counts of what changed."""
    original, first, second = (read_labels(wave, k) for k in (ORIGINAL, FIRST, SECOND))
    counts: collections.Counter = collections.Counter()
    for path in corpus_files(wave):
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
    wave, command, *rest = argv + ["", ""]
    if wave in WRITTEN and command == "disputes" and rest[0]:
        original, first = read_labels(wave, ORIGINAL), read_labels(wave, FIRST)
        missing = set(original) - set(first)
        if missing:
            print(f"annotator 1 has not labelled {len(missing)} messages, e.g. {sorted(missing)[:3]}")
            return 1
        texts = {i: r for path in corpus_files(wave) for i, r in read_rows(path).items()}
        ids = disputed(original, first)
        with open(rest[0], "w", encoding="utf-8") as f:
            for i in ids:
                f.write(json.dumps({"id": i, "channel": texts[i]["channel"], "text": texts[i]["text"]},
                                   ensure_ascii=False) + "\n")
        print(f"{len(ids)} of {len(original)} messages disputed -> {rest[0]}")
        return 0
    if wave in WRITTEN and command == "apply":
        for k, v in sorted(apply(wave).items()):
            print(f"{k}: {v}")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
