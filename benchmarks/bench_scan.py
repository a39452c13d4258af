"""Throughput, latency and cold start of the scan path, as ratios against bigger models in one run.

Prints messages/second of `kasuhara scan` over a CSV, p50/p95 single-message latency of ``predict``
and cold-start time, for:

- the scikit-learn baseline (models/kasuhara-baseline);
- the shipped BERT (models/kasuhara-bert-ja) on ONNX Runtime int8 (the default) and on PyTorch fp32;
- through the same pipeline on the same messages, with random weights: a BERT-base-sized Japanese BERT
  (12 layers, 768 hidden, MeCab + WordPiece 32k: what fine-tuning tohoku-nlp/bert-base-japanese-v3
  gives) and an XLM-R-base-sized model (12 layers, 768 hidden, 250k vocabulary: what the Detoxify
  multilingual model runs), each on ONNX Runtime int8 and on PyTorch fp32.

The messages are an inbox-like mix: held-out benign text with 2% harassment (see bench_messages).
Machines here are noisy, so compare ratios measured in the same run, not absolute numbers.
Usage: python benchmarks/bench_scan.py [--n 10000] [--n-large 1000] [--skip-large]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kasuhara_nlp.classifier import KasuharaClassifier  # noqa: E402
from kasuhara_nlp.config import ModelConfig  # noqa: E402
from kasuhara_nlp.data import load_messages, shared_dir  # noqa: E402
from kasuhara_nlp.labels import CATEGORIES  # noqa: E402
from kasuhara_nlp.scan import ScanOptions, run_scan  # noqa: E402


SAME = "shipped BERT, ONNX int8 (default), the references' messages"


def bench_messages(rate: float = 0.02, seed: int = 0) -> list[str]:
    """An inbox-like mix, as messages arrive: held-out benign text with ``rate`` harassment.

    Benign: the corpus's test/blind negatives (angry complaints included) and held-out real customer
    turns (ASDC, JMultiWOZ); harassment: the test/blind positives.  Only flagged messages pay for
    evidence, so the harassment rate matters for throughput; 2% is what support teams report.
    """
    import random

    held_out = [m for m in load_messages() if m.split in ("test", "blind", "benign_test")]
    benign = [m.original for m in held_out if not m.labels]
    harassing = [m.original for m in held_out if m.labels]
    rng = random.Random(seed)
    n_pos = max(1, int(len(benign) * rate / (1 - rate)))
    texts = benign + rng.sample(harassing, min(n_pos, len(harassing)))
    rng.shuffle(texts)
    return texts


def write_csv(path: Path, texts: list[str], n: int) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "本文"])
        for i in range(n):
            w.writerow([f"m{i}", texts[i % len(texts)]])
    return path


def throughput(clf, csv_path: Path, n: int) -> float:
    start = time.perf_counter()
    run_scan([str(csv_path)], str(csv_path.with_suffix(".out.jsonl")), clf, ScanOptions(conversations=False))
    return n / (time.perf_counter() - start)


def latency(clf, texts: list[str], k: int = 200) -> tuple[float, float]:
    clf.predict(texts[0])  # warm-up
    times = []
    for t in texts[:k]:
        start = time.perf_counter()
        clf.predict(t)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def cold_start(model: Path, runtime: str) -> float:
    code = ("import time; t=time.perf_counter(); from kasuhara_nlp import KasuharaClassifier; "
            f"c=KasuharaClassifier.from_pretrained({str(model)!r}, runtime={runtime!r}); c.predict('テスト'); "
            "print(time.perf_counter()-t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def cli_scan(model: Path, csv_path: Path, n: int) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kasuhara_nlp", "scan", str(csv_path), "-o",
                    str(csv_path.with_suffix(".cli.jsonl")), "-q", "--model", str(model)], check=True, cwd=ROOT)
    return n / (time.perf_counter() - start)


def _japanese_vocab(folder: Path, size: int = 32768) -> Path:
    """A MeCab + WordPiece vocabulary trained on a slice of the corpus (as tohoku-nlp's BERTs use)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    from kasuhara_nlp.segmenter import words

    lines = []
    for shard in sorted((shared_dir() / "corpus").glob("*/*.txt.gz"))[:6]:
        with gzip.open(shard, "rt", encoding="utf-8") as f:
            for i, line in enumerate(f):
                if i >= 4000:
                    break
                lines.append(" ".join(words(line.strip())))
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.train_from_iterator(lines, trainers.WordPieceTrainer(
        vocab_size=size, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    vocab = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
    (folder / "vocab.txt").write_text("\n".join(t for t, _ in vocab) + "\n", encoding="utf-8")
    return folder


def random_model(kind: str, folder: Path, tokenizer_from: Path, like: ModelConfig) -> Path:
    """A randomly initialised BERT-base-sized model in the pipeline's model-folder format.

    It windows messages as ``like`` (the shipped model) does, and its thresholds are set so that it
    never flags: random weights would otherwise flag most messages and pay for evidence sentences the
    shipped model only scores for the few it flags, which would flatter the shipped model's ratio.
    """
    import torch
    from transformers import (AutoTokenizer, BertConfig, BertForSequenceClassification, BertJapaneseTokenizer,
                              XLMRobertaConfig, XLMRobertaForSequenceClassification)

    from kasuhara_nlp.bert_train import write_tokenizer
    from kasuhara_nlp.onnx_export import export_onnx

    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "bert-base-japanese":
        _japanese_vocab(folder)
        tok = BertJapaneseTokenizer(str(folder / "vocab.txt"), word_tokenizer_type="mecab",
                                    subword_tokenizer_type="wordpiece", mecab_kwargs={"mecab_dic": "unidic_lite"})
        model = BertForSequenceClassification(BertConfig(vocab_size=tok.vocab_size, num_labels=8))
    else:
        tok = AutoTokenizer.from_pretrained(tokenizer_from)
        model = XLMRobertaForSequenceClassification(XLMRobertaConfig(
            vocab_size=250002, num_labels=8, max_position_embeddings=514, pad_token_id=1, type_vocab_size=1))
    model.eval()
    model.save_pretrained(folder)
    pretokenize = write_tokenizer(tok, folder)
    sample = tok(["テストです。", "お問い合わせありがとうございます。"])["input_ids"]
    export_onnx(model, folder, sample, tok.pad_token_id)
    extra = {"pretokenize": pretokenize} if pretokenize else {}
    ModelConfig(backend="bert-onnx", name=f"random-{kind}", version="0", max_length=like.max_length,
                stride=like.stride, thresholds={c: 0.999 for c in CATEGORIES}, extra=extra).save(folder)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10000, help="messages for the shipped models")
    ap.add_argument("--n-large", type=int, default=1000, help="messages for the BERT-base-sized models")
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--cli-only", action="store_true", help="only time `kasuhara scan` through the CLI")
    ap.add_argument("--model", default=str(ROOT / "models" / "kasuhara-bert-ja"), help="the BERT model folder")
    args = ap.parse_args()

    texts = bench_messages()
    tmp = Path(tempfile.mkdtemp(prefix="kasuhara-bench-"))
    big = write_csv(tmp / "inbox.csv", texts, args.n)
    small = write_csv(tmp / "inbox_small.csv", texts, args.n_large)
    rows = []
    setups = [("baseline", ROOT / "models" / "kasuhara-baseline", "onnx", big, args.n)]
    bert = Path(args.model)
    if bert.exists():
        setups += [("shipped BERT, ONNX int8 (default)", bert, "onnx", big, args.n),
                   ("shipped BERT, PyTorch fp32", bert, "torch", small, args.n_large)]
    if bert.exists() and not args.skip_large and not args.cli_only:
        like = ModelConfig.load(bert)
        jp = random_model("bert-base-japanese", tmp / "bert-base-ja", bert, like)
        xlmr = random_model("xlm-r-base", tmp / "xlmr-base", bert, like)
        # The ratios compare the default path with the references on the very same messages.
        setups += [(SAME, bert, "onnx", small, args.n_large),
                   ("BERT-base Japanese (random), ONNX int8", jp, "onnx", small, args.n_large),
                   ("BERT-base Japanese (random), PyTorch fp32", jp, "torch", small, args.n_large),
                   ("XLM-R-base (random), ONNX int8", xlmr, "onnx", small, args.n_large),
                   ("XLM-R-base (random), PyTorch fp32", xlmr, "torch", small, args.n_large)]
    for name, folder, runtime, csv_path, n in ([] if args.cli_only else setups):
        clf = KasuharaClassifier.from_pretrained(folder, runtime=runtime)
        row = {"setup": name, "messages": n, "msgs_per_s": round(throughput(clf, csv_path, n), 1)}
        if name != SAME:  # latency and cold start do not depend on the CSV: measured once per model
            row["p50_ms"], row["p95_ms"] = (round(x, 2) for x in latency(clf, texts))
            row["cold_start_s"] = round(cold_start(folder, runtime), 2)
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    cli = {"setup": "kasuhara scan CLI, baseline", "msgs_per_s": round(cli_scan(setups[0][1], big, args.n), 1)}
    if bert.exists():
        cli["shipped_bert_msgs_per_s"] = round(cli_scan(bert, big, args.n), 1)
    print(json.dumps(cli, ensure_ascii=False))
    refs = {r["setup"]: r["msgs_per_s"] for r in rows}
    print("\n| setup | messages | msgs/s | p50 ms | p95 ms | cold start s |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        cells = [r.get(k, "") for k in ("setup", "messages", "msgs_per_s", "p50_ms", "p95_ms", "cold_start_s")]
        print("| " + " | ".join(str(c) for c in cells) + " |")
    print(f"\n`kasuhara scan` (CLI, process start included) over {args.n} messages: baseline {cli['msgs_per_s']} msgs/s"
          + (f", shipped BERT {cli['shipped_bert_msgs_per_s']} msgs/s" if bert.exists() else ""))
    default = refs.get(SAME)
    for ref in ("XLM-R-base (random), ONNX int8", "XLM-R-base (random), PyTorch fp32",
                "BERT-base Japanese (random), ONNX int8"):
        if default and ref in refs:
            print(f"default scan path / {ref}: {default / refs[ref]:.1f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "cli": cli}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
