"""Write data/public_refs.jsonl: references (dataset, row id, labels, split) to public data in ../shared.

No third-party text is copied: the loader joins the references with ../shared at load time.
Run: python data/tools/build_public_refs.py [--shared ../shared]

Roles (see ../shared/datasets/SOURCES.md):
- ASDC customer turns (CC BY 4.0): benign negatives; the corpus's own dialogue split is kept
  (train -> train, dev -> dev, test -> benign_test).
- JMultiWOZ user turns (CC BY-SA 4.0): benign negatives, deduplicated by text, split by dialogue id
  (8% train, 4% dev, 8% benign_test; the rest unused).
- RTP-LX JA (MIT): weak positives for training only, where the annotators' mean score is clear
  (>= 2.5): Insult/Violence -> abuse, SexualContent/IdentityAttack -> other_harassment.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--out", default=str(ROOT / "data" / "public_refs.jsonl"))
    args = ap.parse_args()
    ds = Path(args.shared) / "datasets"
    refs = []

    split_of = {}
    with (ds / "asdc-customer-turns" / "dialogues.tsv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            split_of[row["dialogue_id"]] = {"train": "train", "dev": "dev", "test": "benign_test"}[row["split"]]
    seen = set()
    for line in (ds / "asdc-customer-turns" / "customer_turns.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        if r["text"] in seen:
            continue
        seen.add(r["text"])
        refs.append({"dataset": "asdc", "row_id": f"{r['dialogue_id']}#{r['turn']}", "group": r["dialogue_id"],
                     "labels": [], "severity": 0, "split": split_of[r["dialogue_id"]]})

    with gzip.open(ds / "jmultiwoz-user-utterances" / "user_utterances.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["text"] in seen:
                continue
            seen.add(r["text"])
            b = zlib.crc32(r["dialogue_id"].encode()) % 100
            split = "train" if b < 8 else "dev" if b < 12 else "benign_test" if b < 20 else None
            if split:
                refs.append({"dataset": "jmultiwoz", "row_id": r["data_id"], "group": r["dialogue_id"],
                             "labels": [], "severity": 0, "split": split})

    for line in (ds / "rtp-lx-ja" / "RTP_LX_JA.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        a = r["Annotations"]
        labels = []
        if max(a["Insult"], a["Violence"]) >= 2.5:
            labels.append("abuse")
        if max(a["SexualContent"], a["IdentityAttack"]) >= 2.5:
            labels.append("other_harassment")
        if labels:
            severity = 3 if a["Violence"] >= 2.5 else 2
            refs.append({"dataset": "rtp-lx-ja", "row_id": str(r["Index"]), "group": f"rtp{r['Index']}",
                         "labels": labels, "severity": severity, "split": "train"})

    with open(args.out, "w", encoding="utf-8") as f:
        for r in refs:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts = {}
    for r in refs:
        key = (r["dataset"], r["split"], "pos" if r["labels"] else "neg")
        counts[key] = counts.get(key, 0) + 1
    for k in sorted(counts):
        print(*k, counts[k])


if __name__ == "__main__":
    main()
