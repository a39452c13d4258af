"""Turn paraphrase helpers' output into corpus records (brief: data/plans/paraphrase.md).

Each output file ``out_K.jsonl`` (one ``{"src", "text", "label_quote"}`` per line) becomes the records of
writer ``w{21+K}``: labels, severity, subtypes, hard-negative flag, channel, industry and scenario family are
the source record's, so a rewrite always falls in its source's split.

    python data/tools/add_paraphrases.py CORPUS_DIR /tmp/para/out_01.jsonl ... --inputs /tmp/para/in_01.jsonl ...
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from kasuhara_nlp.datacard import read_rows

COPIED = ("family", "channel", "industry", "labels", "severity", "subtypes", "hard_negative")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", help="the corpus folder holding the source records; the new files go there")
    parser.add_argument("outputs", nargs="+", help="helpers' output files, out_K.jsonl")
    parser.add_argument("--inputs", nargs="+", required=True, help="the matching input chunks, in_K.jsonl")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    sources = {i: r for path in sorted(corpus.glob("*.jsonl")) for i, r in read_rows(path).items()}
    problems = 0
    for out_path, in_path in zip(args.outputs, args.inputs):
        k = int(re.search(r"(\d+)\.jsonl$", out_path).group(1))
        writer = f"w{21 + k}"
        inputs = [json.loads(x) for x in Path(in_path).open(encoding="utf-8") if x.strip()]
        outputs = [json.loads(x) for x in Path(out_path).open(encoding="utf-8") if x.strip()]
        records = []
        for n, (src, new) in enumerate(zip(inputs, outputs), 1):
            if new["src"] != src["id"]:
                print(f"{out_path}:{n}: src {new['src']} does not match input {src['id']}")
                problems += 1
                continue
            if src["id"] not in sources:
                print(f"{in_path}:{n}: source {src['id']} is not in {corpus}; pass the corpus the chunk was drawn from")
                problems += 1
                continue
            quote = new.get("label_quote")
            if quote is not None and quote not in new["text"]:
                print(f"{out_path}:{n}: label_quote is not in the text; kept as null")
                quote = None
            base = sources[src["id"]]
            records.append({"id": f"{writer}-{n:04d}", "text": new["text"], "label_quote": quote,
                            **{key: base[key] for key in COPIED}, "register": "paraphrase", "source": "team",
                            "notes": f"paraphrase of {src['id']} ({src['style']})"})
        if len(outputs) != len(inputs):
            print(f"{out_path}: {len(outputs)} rewrites for {len(inputs)} inputs")
            problems += 1
        target = corpus / f"{writer}_01.jsonl"
        target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        print(f"{target}: {len(records)} records")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
