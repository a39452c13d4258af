"""Train on a borrowed GPU machine, then finish the model on a CPU.

A GPU run here is one prepared command with small transfers (64 MiB in, 8 files of 16 MiB out), so the job
is split in three steps:

1. ``pack``   (CPU): a 12-layer model to train teachers from (``--base``), optionally a smaller trained model
   to train further as their student (``--student``), and the train/dev messages, in one folder small enough
   to carry.  Layers travel as per-row int8; the frozen word embeddings, which every model here shares, travel
   in fp16, exactly as they ship.
2. ``remote`` (GPU): train teachers from the base (one per learning rate and seed, early stopping on dev) for as
   long as the time budget allows; with a student packed, train it on the labels and on the teachers' averaged
   logits.  Every trained tensor except the frozen word embeddings comes back in fp16 shards:
   ``teacher_N`` (the best teacher by dev PR-AUC) and ``student_N``, with ``run.json``.
3. ``finish`` (CPU): rebuild the packed model, put the trained tensors on it, then calibrate, choose thresholds,
   export ONNX int8 and save the model folder with :func:`kasuhara_nlp.bert_train.finalize`.

The same training runs on a CPU in one step: ``kasuhara train --model bert --base ... [--teacher ...]``.
docs/training.md §16 gives the commands of the last run.

Usage:
    python scripts/gpu_train.py pack --base TEACHER_INIT [--student STUDENT_INIT] --out .carry
    python scripts/gpu_train.py remote --carry .carry --out $OUT          # on the GPU machine
    python scripts/gpu_train.py finish --carry .carry --trained DIR --which student --out /tmp/candidate
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EMBED = "embeddings.word_embeddings.weight"
MODEL_FILES = ("config.json", "kasuhara_config.json", "tokenizer.json", "tokenizer_config.json",
               "special_tokens_map.json")
EMBED_FILE = "word_embeddings.safetensors"
WEIGHTS_FILE = "weights_int8.safetensors"
MESSAGES_FILE = "messages.jsonl.gz"
RUN_FILE = "run.json"
SHARD_BYTES = 15 * 2**20  # files of at most 16 MiB come back
WORK = Path("/tmp/kasuhara-gpu")


def _bert_key(name: str) -> str:
    # A base saved as BertModel has no "bert." prefix; BertForSequenceClassification has one.
    return name[5:] if name.startswith("bert.") else name


def _pack_model(folder: Path, out: Path) -> dict:
    """Pack ``folder``'s weights except the word embeddings (matrices in per-row int8, the rest fp16);
    returns the word embeddings."""
    import torch
    from safetensors.torch import load_file, save_file

    out.mkdir(parents=True, exist_ok=True)
    packed, embed = {}, {}
    for name, t in load_file(folder / "model.safetensors").items():
        if _bert_key(name) == EMBED:
            embed[EMBED] = t.half().contiguous()
        elif t.ndim == 2:
            s = (t.float().abs().amax(dim=1, keepdim=True) / 127).clamp(min=1e-12)
            packed[name] = torch.round(t.float() / s).to(torch.int8).contiguous()
            packed[name + ".scale"] = s.half().contiguous()
        else:
            packed[name] = t.half().contiguous()
    save_file(packed, str(out / WEIGHTS_FILE))
    for f in MODEL_FILES:
        if (folder / f).exists():
            shutil.copy2(folder / f, out / f)
    return embed


def pack(base: Path, out: Path, student: Path | None = None, messages: list | None = None) -> None:
    from safetensors.torch import save_file

    from kasuhara_nlp.data import load_messages

    embed = _pack_model(base, out / "teacher")
    if student:
        other = _pack_model(student, out / "student")
        if not (other[EMBED] == embed[EMBED]).all():
            raise SystemExit(f"{student} and {base} have different word embeddings; the student must share the "
                             "teacher's frozen embeddings (train it from the same base)")
        shared = out / "student" / "tokenizer.json"
        if shared.exists() and shared.read_bytes() == (out / "teacher" / "tokenizer.json").read_bytes():
            shared.unlink()  # one copy travels; unpack takes the teacher's
    save_file(embed, str(out / EMBED_FILE))
    # Only train and dev travel: test, blind and benign_test stay here, unseen.
    with gzip.open(out / MESSAGES_FILE, "wt", encoding="utf-8") as f:
        n = 0
        for m in load_messages() if messages is None else messages:
            if m.split in ("train", "dev"):
                f.write(json.dumps({"id": m.id, "text": m.text, "labels": m.labels, "severity": m.severity,
                                    "split": m.split, "source": m.source, "hard_negative": m.hard_negative,
                                    "family": m.family}, ensure_ascii=False) + "\n")
                n += 1
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
    print(f"packed {n} messages; folder size {size:.1f} MiB")


def unpack(carry: Path, which: str, out: Path) -> Path:
    """A Hugging Face model folder of the packed ``which`` ("teacher" or "student") in ``out``."""
    from safetensors.torch import load_file, save_file

    packed = load_file(carry / which / WEIGHTS_FILE)
    state = {name: t.float() * packed[name + ".scale"].float() if name + ".scale" in packed else t.float()
             for name, t in packed.items() if not name.endswith(".scale")}
    prefix = "bert." if any(k.startswith("bert.") for k in state) else ""
    state[prefix + EMBED] = load_file(carry / EMBED_FILE)[EMBED].float()
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state.items()}, str(out / "model.safetensors"))
    for f in MODEL_FILES:
        for src in (carry / which / f, carry / "teacher" / f):
            if src.exists():
                shutil.copy2(src, out / f)
                break
    return out


def _messages(path: Path) -> list:
    from kasuhara_nlp.data import LabelledMessage

    out = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            out.append(LabelledMessage(r["id"], r["text"], r["labels"], r["severity"], r["split"], r["source"],
                                       original=r["text"], family=r["family"], hard_negative=r["hard_negative"]))
    return out


def _save_shards(model, out: Path, prefix: str) -> None:
    """Every tensor but the frozen word embeddings, in fp16 shards of at most SHARD_BYTES."""
    from safetensors.torch import save_file

    for old in out.glob(f"{prefix}_*.safetensors"):
        old.unlink()
    shard, size, n = {}, 0, 0
    for name, t in model.state_dict().items():
        if _bert_key(name) == EMBED:
            continue
        t = t.detach().cpu().half().contiguous() if t.is_floating_point() else t.detach().cpu().contiguous()
        if shard and size + t.numel() * t.element_size() > SHARD_BYTES:
            save_file(shard, str(out / f"{prefix}_{n}.safetensors"))
            shard, size, n = {}, 0, n + 1
        shard[name] = t
        size += t.numel() * t.element_size()
    save_file(shard, str(out / f"{prefix}_{n}.safetensors"))


def remote(carry: Path, out: Path, teachers: list[tuple[float, int]], epochs: int, student_lr: float,
           student_epochs: int, distill_weight: float, max_length: int, budget_minutes: float,
           student_minutes: float, device: str = "cuda", limit: int = 0) -> None:
    """Train the teachers, then the student (if packed), within ``budget_minutes`` in all."""
    import torch

    from kasuhara_nlp.bert_train import _dev_score, _teacher_logits, fine_tune
    from kasuhara_nlp.train import TrainConfig, split_messages

    start = time.time()
    deadline = start + budget_minutes * 60
    has_student = (carry / "student" / WEIGHTS_FILE).exists()
    reserve = student_minutes if has_student else 0.0
    messages = _messages(carry / MESSAGES_FILE)
    if limit:  # a dry run on a CPU checks the job end to end on a few messages of each split
        messages = [m for m in messages if m.split == "train"][:limit] + [m for m in messages if m.split == "dev"][:limit]
    out.mkdir(parents=True, exist_ok=True)
    run = {"device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu", "torch": torch.__version__,
           "n_train": sum(m.split == "train" for m in messages), "n_dev": sum(m.split == "dev" for m in messages),
           "max_length": max_length, "teachers": [], "student": None}

    def save_run() -> None:
        run["minutes"] = round((time.time() - start) / 60, 2)
        (out / RUN_FILE).write_text(json.dumps(run, indent=2))

    def config(**kw) -> TrainConfig:
        return TrainConfig(model="bert", out_dir=str(WORK / "unused"), batch_size=32, max_length=max_length,
                           stride=max_length // 4, patience=2, device=device, **kw)

    teacher_base = unpack(carry, "teacher", WORK / "teacher-init")
    share = (budget_minutes - reserve) / len(teachers)
    folders, best = [], None
    for i, (lr, seed) in enumerate(teachers):
        left = (deadline - time.time()) / 60 - reserve
        if left < 1.0:
            break
        cfg = config(base=str(teacher_base), epochs=epochs, learning_rate=lr, seed=seed,
                     max_minutes=max(0.5, min(left - 0.5, share - 0.3)))
        model, tokenizer, history = fine_tune(cfg, messages)
        folder = WORK / f"teacher-{i}"
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        folders.append(str(folder))
        score = max(h["dev_pr_auc"] for h in history)
        run["teachers"].append({"learning_rate": lr, "seed": seed, "history": history, "best_dev_pr_auc": score})
        print(json.dumps(run["teachers"][-1]), flush=True)
        if best is None or score > best[0]:
            best = (score, i)
            _save_shards(model, out, "teacher")  # written now, so a run cut short still returns a teacher
            run["best_teacher"] = i
        del model
        if device == "cuda":
            torch.cuda.empty_cache()
        save_run()
    if not folders:
        raise SystemExit("no time was left to train a teacher; raise --budget-minutes")
    _, dev = split_messages(messages)
    dev_logits = _teacher_logits(config(base=folders[0], teacher=",".join(folders)), [m.text for m in dev], device)
    run["ensemble_dev_pr_auc"] = _dev_score(dev_logits, dev)
    save_run()
    print(json.dumps({"teachers": len(folders), "ensemble_dev_pr_auc": run["ensemble_dev_pr_auc"]}), flush=True)

    if has_student:
        student_base = unpack(carry, "student", WORK / "student-init")
        left = (deadline - time.time()) / 60
        # The teachers' logits are computed before the clock of max_minutes starts: leave them a minute.
        cfg = config(base=str(student_base), epochs=student_epochs, learning_rate=student_lr, seed=13,
                     teacher=",".join(folders), distill_weight=distill_weight, max_minutes=max(0.5, left - 1.0))
        model, _, history = fine_tune(cfg, messages)
        _save_shards(model, out, "student")
        run["student"] = {"learning_rate": student_lr, "epochs": student_epochs, "distill_weight": distill_weight,
                          "teachers": len(folders), "history": history,
                          "best_dev_pr_auc": max(h["dev_pr_auc"] for h in history)}
        print(json.dumps(run["student"]), flush=True)
    save_run()
    print(json.dumps({"minutes": run["minutes"]}), flush=True)


def finish(carry: Path, trained: Path, which: str, out: Path, version: str, blend: Path | None = None,
           messages: list | None = None) -> None:
    """Rebuild the packed ``which`` model with the trained tensors, then calibrate, export and save it."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from kasuhara_nlp.bert_train import finalize
    from kasuhara_nlp.config import CONFIG_NAME
    from kasuhara_nlp.data import load_messages
    from kasuhara_nlp.train import TrainConfig

    run = json.loads((trained / RUN_FILE).read_text())
    shards = sorted(trained.glob(f"{which}_*.safetensors"))
    if not shards:
        raise SystemExit(f"no {which}_*.safetensors in {trained}; the GPU run returned {sorted(run)}")
    init = unpack(carry, which, WORK / f"{which}-finish")
    model = AutoModelForSequenceClassification.from_pretrained(init, num_labels=8, dtype=torch.float32)
    state = {}
    for f in shards:
        state.update({k: v.float() if v.is_floating_point() else v for k, v in load_file(f).items()})
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if _bert_key(m) != EMBED]
    if missing or unexpected:
        raise SystemExit(f"trained tensors do not fit the packed {which}: missing {missing}, unexpected {unexpected}")
    tokenizer = AutoTokenizer.from_pretrained(init)
    if which == "student":
        trained_run, teacher = run["student"], f"{run['student']['teachers']} teachers trained on {run['device']}"
        lr, epochs, weight = trained_run["learning_rate"], trained_run["epochs"], trained_run["distill_weight"]
    else:
        trained_run = run["teachers"][run["best_teacher"]]
        teacher, lr, epochs, weight = "", trained_run["learning_rate"], len(trained_run["history"]), 0.5
    # base: the unpacked folder, so the card names the packed model (its kasuhara_config.json) as the parent.
    cfg = TrainConfig(model="bert", base=str(init), out_dir=str(out), epochs=epochs, learning_rate=lr,
                      max_length=run["max_length"], stride=run["max_length"] // 4, teacher=teacher,
                      device="cpu" if run["device"] == "cpu" else "cuda",
                      distill_weight=weight, name="kasuhara-bert-ja", version=version, blend_baseline=str(blend or ""))
    clf = finalize(model, tokenizer, cfg, load_messages() if messages is None else messages,
                   history=trained_run["history"])
    data = json.loads((out / CONFIG_NAME).read_text())
    data["extra"]["gpu_run"] = {k: run[k] for k in ("device", "torch", "minutes", "n_train", "n_dev")}
    data["extra"]["gpu_run"]["teachers"] = [{k: t[k] for k in ("learning_rate", "seed", "best_dev_pr_auc")}
                                            for t in run["teachers"]]
    data["extra"]["gpu_run"]["ensemble_dev_pr_auc"] = run.get("ensemble_dev_pr_auc")
    (out / CONFIG_NAME).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(clf.info(), ensure_ascii=False, indent=2))


def _teacher_runs(values: list[str]) -> list[tuple[float, int]]:
    """``LR:SEED`` pairs, e.g. ``5e-5:13``."""
    try:
        return [(float(v.split(":")[0]), int(v.split(":")[1])) for v in values]
    except (IndexError, ValueError):
        raise SystemExit(f"--teachers takes LR:SEED pairs such as 5e-5:13, got {values}") from None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack")
    p.add_argument("--base", type=Path, required=True, help="12-layer model folder the teachers start from")
    p.add_argument("--student", type=Path, help="trained model folder to train further as the teachers' student")
    p.add_argument("--data", type=Path, help="labelled data folder (default: the repository's data/)")
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("remote")
    p.add_argument("--carry", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--teachers", nargs="+", default=["5e-5:13", "8e-5:14", "5e-5:15"], help="LR:SEED per teacher")
    p.add_argument("--epochs", type=int, default=4, help="at most, per teacher")
    p.add_argument("--student-lr", type=float, default=5e-5)
    p.add_argument("--student-epochs", type=int, default=4)
    p.add_argument("--distill-weight", type=float, default=0.5)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--budget-minutes", type=float, default=8.0, help="for the whole job")
    p.add_argument("--student-minutes", type=float, default=2.5, help="kept back from the teachers")
    p.add_argument("--device", default="cuda")
    p.add_argument("--limit", type=int, default=0, help="use only N train and N dev messages (dry runs)")
    p = sub.add_parser("finish")
    p.add_argument("--carry", type=Path, required=True)
    p.add_argument("--trained", type=Path, required=True)
    p.add_argument("--which", choices=("student", "teacher"), default="student")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--version", default="1.5.0")
    p.add_argument("--blend-baseline", type=Path, help="baseline model folder to blend with (weight chosen on dev)")
    a = ap.parse_args()
    if a.cmd == "pack":
        from kasuhara_nlp.data import load_messages

        pack(a.base, a.out, a.student, load_messages(a.data) if a.data else None)
    elif a.cmd == "remote":
        remote(a.carry, a.out, _teacher_runs(a.teachers), a.epochs, a.student_lr, a.student_epochs,
               a.distill_weight, a.max_length, a.budget_minutes, a.student_minutes, a.device, a.limit)
    else:
        finish(a.carry, a.trained, a.which, a.out, a.version, a.blend_baseline)


if __name__ == "__main__":
    main()
