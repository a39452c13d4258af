"""Counts, agreement and near-duplicate figures of the labelled corpus, for data/README.md.

Run ``python -m kasuhara_nlp.datacard`` to print them as Markdown (the data card quotes that output).

>>> kappa([1, 0, 1, 0], [1, 0, 1, 0])
1.0
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from .data import DATA_DIR, load_messages
from .dedup import near_duplicates
from .errors import InputFormatError
from .labels import CATEGORIES

AGREEMENT_DIR = DATA_DIR / "agreement"


def kappa(a: list[int], b: list[int]) -> float:
    """Cohen's kappa of two annotators' labels (any hashable values)."""
    n = len(a)
    if n == 0:
        return float("nan")
    po = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return 1.0 if pe == 1 else round((po - pe) / (1 - pe), 4)


# Second-annotator files, one per annotated sample: training items of the first wave (w1-w5), the second
# (w6-w13) and the third (w14-w21), and the whole blind set (reported only: how far a careful human gets).
SECOND_LABELS = {"wave 1 (w1-w5)": "second_labels.jsonl", "wave 2 (w6-w13)": "wave2_second_labels.jsonl",
                 "wave 3 (w14-w21)": "wave3_second_labels.jsonl", "blind set": "blind_second_labels.jsonl"}
# Whole waves labelled again (data/tools/relabel.py): the writers' own labels against the first annotator's.
RELABELLED = {f"wave {n}, all: writers vs annotator": (f"wave{n}_original_labels.jsonl", f"wave{n}_relabel.jsonl")
              for n in (1, 2, 3, 4, 5, 6, 7)}


def _f1(truth: list[int], guess: list[int]) -> float | None:
    """F1 of ``guess`` against ``truth``; None when neither has a positive."""
    tp = sum(t and g for t, g in zip(truth, guess))
    pos = sum(truth) + sum(guess)
    return 2 * tp / pos if pos else None


def _kappas(first: dict, second: dict) -> dict:
    """Kappas over the items both annotators labelled (rows with ``labels`` and ``severity``, by id), and the
    second annotator's macro-F1 against the first labels: what a careful human scores as a classifier."""
    ids = sorted(set(first) & set(second))
    out = {"n": len(ids)}
    f1s = []
    for c in CATEGORIES:
        a, b = [int(c in first[i]["labels"]) for i in ids], [int(c in second[i]["labels"]) for i in ids]
        out[c] = kappa(a, b)
        f1s.append(_f1(a, b))
    out["any_harassment"] = kappa([int(bool(first[i]["labels"])) for i in ids],
                                  [int(bool(second[i]["labels"])) for i in ids])
    out["severity"] = kappa([first[i]["severity"] for i in ids], [second[i]["severity"] for i in ids])
    scored = [f for f in f1s if f is not None]
    out["macro_f1"] = round(sum(scored) / len(scored), 4) if scored else None
    return out


def read_rows(path: Path) -> dict[str, dict]:
    """The rows of a JSONL labelling file (``id``, ``labels``, ``severity``...) by id; blank lines are skipped.

    A line that is not a JSON object with an ``id`` raises :class:`InputFormatError` naming the file and line.
    """
    rows = {}
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                rows[r["id"]] = r
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise InputFormatError(f"bad JSONL row ({exc}); see data/SCHEMA.md", path=str(path), line=n) from None
    return rows


def agreement(data_dir: Path = DATA_DIR, messages: list | None = None) -> dict | None:
    """Cohen's kappa per category (and for any harassment, and severity) against the second annotator, and
    the second annotator's macro-F1, for each annotated sample present (see :data:`SECOND_LABELS`; the
    labels they are scored against are the corpus labels as they stand), and for each wave labelled again
    as a whole (:data:`RELABELLED`: the writers' labels against the first annotator's).

    ``messages`` are the team-written messages when the caller has them loaded already."""
    folder = data_dir / "agreement"
    samples = {name: read_rows(folder / file) for name, file in SECOND_LABELS.items() if (folder / file).exists()}
    out = {}
    if samples:
        team = messages if messages is not None else load_messages(data_dir, public=False)
        by_id = {m.id: {"labels": m.labels, "severity": m.severity} for m in team}
        out = {name: _kappas(by_id, second) for name, second in samples.items()}
    for name, (writers, annotator) in RELABELLED.items():
        if (folder / writers).exists() and (folder / annotator).exists():
            out[name] = _kappas(read_rows(folder / writers), read_rows(folder / annotator))
    return out or None


def card(data_dir: Path = DATA_DIR) -> dict:
    """Every figure of the data card as a dict."""
    everything = load_messages(data_dir)
    team = [m for m in everything if m.source in ("team", "blind")]
    public = [m for m in everything if m.source not in ("team", "blind")]
    corpus = [m for m in team if m.split != "blind"]
    blind = [m for m in team if m.split == "blind"]

    def counts(msgs):
        c = Counter()
        for m in msgs:
            c["records"] += 1
            if m.labels:
                c["positive"] += 1
                c["multi_label"] += len(m.labels) > 1
            else:
                c["none"] += 1
                c["hard_negative"] += m.hard_negative
            for label in m.labels:
                c[label] += 1
            c[f"severity_{m.severity}"] += 1
        return dict(c)

    pairs = near_duplicates([m.original for m in team])
    cross = [(i, j) for i, j, _ in pairs if team[i].split != team[j].split]
    return {
        "corpus": counts(corpus),
        "blind": counts(blind),
        "corpus_by_split": {s: counts([m for m in corpus if m.split == s]) for s in ("train", "dev", "test")},
        "by_channel": dict(Counter(m.channel for m in corpus)),
        "by_industry": dict(Counter(m.extra.get("industry", "unknown") for m in corpus)),
        "families": len({m.family for m in corpus}),
        "public": dict(Counter(f"{m.source}/{m.split}/{'positive' if m.labels else 'negative'}" for m in public)),
        "near_duplicates": {"pairs_over_0.6": len(pairs), "across_splits": len(cross),
                            "messages": len(team), "pair_rate": round(len(pairs) / max(1, len(team)), 5)},
        "agreement": agreement(data_dir, team),
    }


def to_markdown(c: dict) -> str:
    """The card's figures as Markdown tables."""
    lines = ["| | corpus (train+dev+test) | blind |", "|---|---:|---:|"]
    keys = ["records", "none", "hard_negative", "positive", "multi_label", *CATEGORIES,
            "severity_0", "severity_1", "severity_2", "severity_3"]
    for k in keys:
        lines.append(f"| {k} | {c['corpus'].get(k, 0)} | {c['blind'].get(k, 0)} |")
    lines += ["", "| split | records | none | positive | " + " | ".join(CATEGORIES) + " |",
              "|---|---:|---:|---:|" + "---:|" * len(CATEGORIES)]
    for s, x in c["corpus_by_split"].items():
        lines.append(f"| {s} | {x.get('records', 0)} | {x.get('none', 0)} | {x.get('positive', 0)} | "
                     + " | ".join(str(x.get(cat, 0)) for cat in CATEGORIES) + " |")
    for title, key in (("channel", "by_channel"), ("industry", "by_industry"), ("public data", "public")):
        lines += ["", f"| {title} | records |", "|---|---:|"]
        lines += [f"| {k} | {v} |" for k, v in sorted(c[key].items(), key=lambda kv: -kv[1])]
    nd = c["near_duplicates"]
    lines += ["", f"Scenario families: {c['families']}.",
              f"Near-duplicate pairs (character 5-gram Jaccard > 0.6) among {nd['messages']} team-written messages: "
              f"{nd['pairs_over_0.6']} ({nd['across_splits']} across splits)."]
    if c["agreement"]:
        keys = [*CATEGORIES, "any_harassment", "severity", "macro_f1"]
        lines += ["", "Agreement with an independent second annotator (Cohen's kappa; macro_f1: the second "
                  "annotator's labels scored against the first, as a classifier would be):", "",
                  "| sample | items | " + " | ".join(keys) + " |", "|---|---:|" + "---:|" * len(keys)]
        lines += [f"| {name} | {a['n']} | " + " | ".join(str(a[k]) for k in keys) + " |"
                  for name, a in c["agreement"].items()]
    return "\n".join(lines)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m kasuhara_nlp.datacard", description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=DATA_DIR, help="data folder (default: data/)")
    print(to_markdown(card(parser.parse_args().data_dir)))
