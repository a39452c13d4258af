"""Fine-tune a BERT-family encoder with one head (4 category + 4 severity logits), optionally as a
smaller student of a fine-tuned teacher, then calibrate, export to ONNX with 8-bit weights, and save a
model folder.  Needs the ``train`` extra.

The base can be the trimmed multilingual-e5-small built by :mod:`kasuhara_nlp.base_model`, or any
Hugging Face BERT such as tohoku-nlp/bert-base-japanese-v3 (BertJapaneseTokenizer: MeCab +
WordPiece), given as a local folder or a hub id.

>>> TrainConfig(model="bert", base="path/to/base", out_dir="/tmp/m").epochs  # doctest: +SKIP
6
"""

from __future__ import annotations

import copy
import json
import logging
import math
import shutil
import time
from pathlib import Path

import numpy as np

from .blend import baseline_name, choose_blend_weight
from .calibration import fit_temperature
from .config import CONFIG_NAME, TOKENIZER_NAME, ModelConfig
from .errors import ConfigError, MissingDependencyError
from .labels import CATEGORIES
from .onnx_export import export_onnx
from .subtypes import narrow_head, subtype_targets, widen_head
from .train import TrainConfig, fit_thresholds, set_seed, split_messages
from .votes import shares_for, vote_shares

log = logging.getLogger(__name__)
N_OUT = 8  # 4 category logits + 4 severity logits


def _imports():
    try:
        import torch
        import transformers
    except ImportError:
        raise MissingDependencyError(
            "BERT training needs torch and transformers: pip install -e '.[train]' "
            "(it pins torch==2.13.0, the CPU build)"
        ) from None
    return torch, transformers


def _device(config: TrainConfig, torch) -> str:
    if config.device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return config.device


def _bucketed_order(enc_ids: list[list[int]], size: int, rng) -> list[int]:
    """A shuffled order in which each batch holds messages of similar length.

    Why: messages run from 5 to 256 tokens, and a random batch pads every row to its longest one;
    sorting within chunks of 50 batches and shuffling the batches cuts training time on a CPU
    about threefold while every epoch still sees the messages in a new order.
    """
    order = rng.permutation(len(enc_ids)).tolist()
    chunk = size * 50
    batches = []
    for c in range(0, len(order), chunk):
        part = sorted(order[c:c + chunk], key=lambda k: len(enc_ids[k]))
        batches.extend(part[b:b + size] for b in range(0, len(part), size))
    return [k for b in rng.permutation(len(batches)) for k in batches[b]]


def _keep_layers(model, n: int) -> list[int]:
    """Keep ``n`` encoder layers, evenly spaced and ending with the last; returns their indices.

    >>> [round(11 - i * 2.0) for i in reversed(range(6))]  # 6 of 12: layers 1, 3, ..., 11
    [1, 3, 5, 7, 9, 11]
    """
    layers = model.base_model.encoder.layer
    if not 0 < n < len(layers):
        return list(range(len(layers)))
    step = len(layers) / n
    keep = [round(len(layers) - 1 - i * step) for i in reversed(range(n))]
    model.base_model.encoder.layer = type(layers)([layers[i] for i in keep])
    model.config.num_hidden_layers = n
    return keep


def _teacher_logits(config: TrainConfig, texts: list[str], device: str) -> np.ndarray:
    """The teacher's logits on ``texts`` (distillation targets, computed once before training).

    ``config.teacher`` may name several folders joined by commas: an ensemble, whose logits are averaged.
    """
    _, transformers = _imports()
    logits = []
    for folder in teacher_folders(config.teacher):
        teacher = transformers.AutoModelForSequenceClassification.from_pretrained(folder).float().to(device)
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
        logits.append(predict_logits(teacher, tokenizer, texts, config, device))
        del teacher
    return np.mean(logits, axis=0)


def teacher_folders(teacher: str) -> list[str]:
    """The folders named by ``--teacher``: one, or several joined by commas.

    >>> teacher_folders("/tmp/t1, /tmp/t2")
    ['/tmp/t1', '/tmp/t2']
    """
    return [f.strip() for f in teacher.split(",") if f.strip()]


def _batches(enc_ids: list[list[int]], order: list[int], size: int, pad_id: int, torch):
    for b in range(0, len(order), size):
        idx = order[b:b + size]
        width = max(len(enc_ids[k]) for k in idx)
        ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for r, k in enumerate(idx):
            ids[r, :len(enc_ids[k])] = torch.tensor(enc_ids[k])
            mask[r, :len(enc_ids[k])] = 1
        yield idx, ids, mask


def predict_logits(model, tokenizer, texts: list[str], config: TrainConfig, device: str) -> np.ndarray:
    """Raw logits (n, 8) of ``model`` on ``texts`` (first window only: early stopping and distillation)."""
    torch, _ = _imports()
    ids = tokenizer(texts, truncation=True, max_length=config.max_length)["input_ids"]
    order = sorted(range(len(ids)), key=lambda k: len(ids[k]))
    out = np.zeros((len(ids), N_OUT), dtype=np.float32)
    model.eval()
    with torch.no_grad():
        for idx, b_ids, b_mask in _batches(ids, order, 64, tokenizer.pad_token_id, torch):
            with torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16):
                logits = model(input_ids=b_ids.to(device), attention_mask=b_mask.to(device)).logits
            out[idx] = logits[:, :N_OUT].float().cpu().numpy()  # without subtype logits while training
    return out


def fine_tune(config: TrainConfig, messages: list):
    """Train and return (model, tokenizer, history).  The best dev epoch is kept (early stopping)."""
    torch, transformers = _imports()
    set_seed(config.seed)
    torch.manual_seed(config.seed)
    device = _device(config, torch)
    train, dev = split_messages(messages)
    tokenizer = transformers.AutoTokenizer.from_pretrained(config.base)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(config.base, num_labels=N_OUT).float()
    _keep_layers(model, config.layers)
    if config.freeze_embeddings:
        # Frozen word embeddings: 3x less to update on a 2-core CPU, and the trimmed vocabulary
        # keeps what pretraining learned for pieces the labelled data never shows.
        model.base_model.embeddings.word_embeddings.weight.requires_grad = False
    n_sub = 0
    if config.subtype_weight:
        names, sub_y, sub_mask = subtype_targets([m.extra for m in train])
        if not names:
            raise ConfigError("--subtype-weight needs training records that list their subtypes (the 'subtypes' "
                              "field of data/SCHEMA.md); none of the training messages does")
        n_sub, sub_y, sub_mask = len(names), torch.from_numpy(sub_y), torch.from_numpy(sub_mask)
        widen_head(model, n_sub, torch)
        sub_bce = torch.nn.BCEWithLogitsLoss()
    model.to(device)

    ids = tokenizer([m.text for m in train], truncation=True, max_length=config.max_length)["input_ids"]
    targets = [m.label_vector for m in train]
    if config.vote_dir:
        shares = vote_shares(config.vote_dir)
        if not any(m.id in shares for m in train):
            raise ConfigError(f"none of the {len(train)} training messages has labellings in {config.vote_dir}/"
                              "agreement; --soft-labels needs the writers' and annotators' labels there, as "
                              "data/agreement holds them for the bundled corpus")
        targets = shares_for(train, shares)
    y = torch.tensor(targets, dtype=torch.float32)
    sev = torch.tensor([m.severity for m in train], dtype=torch.long)
    # Class weighting: rare categories count as much as common ones.
    pos = (y > 0.5).sum(0).float().clamp(min=1)
    pos_weight = ((len(train) - pos) / pos).clamp(max=10.0).to(device)
    sev_counts = torch.bincount(sev, minlength=4).float().clamp(min=1)
    sev_weight = (sev_counts.sum() / (4 * sev_counts)).clamp(max=10.0).to(device)
    bce = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    ce = torch.nn.CrossEntropyLoss(weight=sev_weight)
    if config.teacher:
        soft = torch.from_numpy(_teacher_logits(config, [m.text for m in train], device))
        soft_cat, soft_sev = torch.sigmoid(soft[:, :4]), torch.softmax(soft[:, 4:], dim=1)

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.01)
    steps = config.epochs * math.ceil(len(train) / config.batch_size)
    sched = transformers.get_linear_schedule_with_warmup(opt, int(0.06 * steps), steps)

    best_score, best_state, bad_epochs, history = -1.0, None, 0, []
    start = time.time()
    rng = np.random.default_rng(config.seed)
    for epoch in range(config.epochs):
        model.train()
        order = _bucketed_order(ids, config.batch_size, rng)
        total = 0.0
        for idx, b_ids, b_mask in _batches(ids, order, config.batch_size, tokenizer.pad_token_id, torch):
            with torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16):
                logits = model(input_ids=b_ids.to(device), attention_mask=b_mask.to(device)).logits.float()
            loss = bce(logits[:, :4], y[idx].to(device)) + 0.5 * ce(logits[:, 4:N_OUT], sev[idx].to(device))
            if n_sub and sub_mask[idx].any():
                keep = sub_mask[idx].to(device)
                loss = loss + config.subtype_weight * sub_bce(logits[keep][:, N_OUT:], sub_y[idx].to(device)[keep])
            if config.teacher:
                # Soft targets: the teacher's category probabilities (binary cross-entropy) and its
                # severity distribution (cross-entropy, half weight as for the labels).
                w = config.distill_weight
                kd = torch.nn.functional.binary_cross_entropy_with_logits(logits[:, :4], soft_cat[idx].to(device))
                kd = kd - 0.5 * (soft_sev[idx].to(device) * torch.log_softmax(logits[:, 4:N_OUT], dim=1)).sum(1).mean()
                loss = (1 - w) * loss + w * kd
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            total += loss.item() * len(idx)
            if config.max_minutes and time.time() - start > config.max_minutes * 60:
                break
        dev_logits = predict_logits(model, tokenizer, [m.text for m in dev], config, device)
        score = _dev_score(dev_logits, dev)
        history.append({"epoch": epoch + 1, "train_loss": round(total / len(ids), 4), "dev_pr_auc": score,
                        "minutes": round((time.time() - start) / 60, 2)})
        log.info("epoch %d: %s", epoch + 1, history[-1])
        if config.checkpoint_dir:
            # A checkpoint is a plain eight-output model that --base can load: the subtype rows are training-only.
            saved = narrow_head(copy.deepcopy(model), N_OUT, torch) if n_sub else model
            save_checkpoint(saved, tokenizer, Path(config.checkpoint_dir) / f"epoch-{epoch + 1}", history)
        if score > best_score:
            best_score, bad_epochs = score, 0
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        else:
            bad_epochs += 1
        if bad_epochs >= config.patience or (config.max_minutes and time.time() - start > config.max_minutes * 60):
            break
    model.load_state_dict(best_state)
    if n_sub:
        narrow_head(model, N_OUT, torch)
    return model.to("cpu").float(), tokenizer, history


def _dev_score(logits: np.ndarray, dev: list) -> float:
    from sklearn.metrics import average_precision_score

    y = np.array([m.label_vector for m in dev])
    scores = [average_precision_score(y[:, j], logits[:, j]) for j in range(4) if y[:, j].any()]
    return round(float(np.mean(scores)), 4) if scores else 0.0


def write_tokenizer(tokenizer, out: Path) -> str | None:
    """Save tokenizer files plus a ``tokenizer.json`` that ONNX scanning reads without transformers.

    Returns "mecab" when words must be pre-split with fugashi at scan time (BertJapaneseTokenizer).
    """
    tokenizer.save_pretrained(out)
    if tokenizer.is_fast:
        return None
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = tokenizer.get_vocab()
    wp = Tokenizer(models.WordPiece(vocab, unk_token=tokenizer.unk_token, continuing_subword_prefix="##",
                                    max_input_chars_per_word=100))
    wp.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    wp.save(str(out / TOKENIZER_NAME))
    return "mecab"


def parent_model(base: str) -> dict | None:
    """What ``base`` was when it is a kasuhara model folder (training further from a trained model): its name,
    version, base and training, so the new model's card can say where its weights came from."""
    if not (Path(base) / CONFIG_NAME).exists():
        return None
    parent = ModelConfig.load(base)
    return {"name": parent.name, "version": parent.version, "base": parent.base,
            "train_config": parent.extra.get("train_config"), "history": parent.extra.get("history")}


def served_logits(folder: Path, config: TrainConfig, pretokenize: str | None, texts: list[str]) -> np.ndarray:
    """Uncalibrated category logits (n, 4) of the exported model in ``folder`` as scanning computes them."""
    from .bert import BertScorer

    extra = {"pretokenize": pretokenize} if pretokenize else {}
    scorer = BertScorer(folder, ModelConfig(backend="bert-onnx", name="calibrating", version=config.version,
                                            max_length=config.max_length, stride=config.stride, extra=extra))
    return scorer.category_logits(texts)


def finalize(model, tokenizer, config: TrainConfig, messages: list, history: list | None = None):
    """Calibrate on dev, choose thresholds, save fp16 safetensors + int8 ONNX + tokenizer + config.

    With ``config.blend_baseline``, the baseline's files are copied in and its probabilities are blended
    with the BERT's (the weight is chosen on dev by :func:`.blend.choose_blend_weight`; 1.0 means BERT alone).
    """
    torch, _ = _imports()
    from .baseline import BaselineModel
    from .classifier import KasuharaClassifier
    from .config import BASELINE_VOCAB_NAME, BASELINE_WEIGHTS_NAME

    _, dev = split_messages(messages)
    texts = [m.text for m in dev]
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pretokenize = write_tokenizer(tokenizer, out)
    sample = tokenizer(texts[:256], truncation=True, max_length=config.max_length)["input_ids"]
    max_diff = export_onnx(model, out, sample, tokenizer.pad_token_id)
    model.to(torch.float16).save_pretrained(out, safe_serialization=True)
    model.to(torch.float32)

    # Calibrate and choose thresholds on the scores the exported model serves (ONNX with 8-bit weights, the
    # maximum over every window of a long message), not on PyTorch's first window: the two differ by up to
    # max_diff, and thresholds sit where a small shift moves many messages.
    logits = served_logits(out, config, pretokenize, texts)
    y = np.array([m.label_vector for m in dev])
    temps = {c: round(fit_temperature(logits[:, j], y[:, j]), 4) for j, c in enumerate(CATEGORIES)}
    probs = 1 / (1 + np.exp(-logits / np.array([temps[c] for c in CATEGORIES])))
    blend: dict = {}
    baseline_dir = config.blend_baseline
    if baseline_dir:
        base_probs, _ = BaselineModel.load(baseline_dir).score(texts)
        weight, candidates = choose_blend_weight(probs, base_probs, y)
        probs = weight * probs + (1 - weight) * base_probs
        for name in (BASELINE_VOCAB_NAME, BASELINE_WEIGHTS_NAME):
            shutil.copy2(Path(baseline_dir) / name, out / name)
        blend = {"bert_weight": weight, "dev_pr_auc_by_bert_weight": candidates,
                 "baseline": baseline_name(baseline_dir)}
    thresholds = fit_thresholds(probs, dev, config)

    # The device actually used, not "auto": the model card says where the run took its minutes.
    train_config = {**config.to_dict(), "device": _device(config, torch)}
    extra = {"onnx_int8_max_prob_diff": max_diff, "train_config": train_config, "history": history or [],
             "train_size": len([m for m in messages if m.split == "train"]), "dev_size": len(dev)}
    if blend:
        extra["blend"] = blend
    parent = parent_model(config.base)
    if parent:
        extra["parent"] = parent
    if pretokenize:
        extra["pretokenize"] = pretokenize
    ModelConfig(
        backend="bert-onnx", name=config.name or "kasuhara-bert-ja", version=config.version,
        thresholds=thresholds, temperatures=temps, max_length=config.max_length, stride=config.stride,
        base=f"{parent['name']} {parent['version']}, trained further ({parent['base']})" if parent else config.base,
        extra=extra,
    ).save(out)
    return KasuharaClassifier.from_pretrained(out)


def train_bert(config: TrainConfig, messages: list):
    """Fine-tune, calibrate, export and save; returns the loaded (ONNX) classifier."""
    model, tokenizer, history = fine_tune(config, messages)
    return finalize(model, tokenizer, config, messages, history)


def average_weights(first, second, alpha: float = 0.5):
    """Set ``first``'s weights to ``(1 - alpha) * first + alpha * second`` and return it (WiSE-FT).

    Both models must have the same architecture, e.g. a model and the same model trained further.
    Integer buffers (position ids) are kept from ``first``.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ConfigError(f"alpha must be in [0, 1], got {alpha}")
    a, b = first.state_dict(), second.state_dict()
    if a.keys() != b.keys() or any(a[k].shape != b[k].shape for k in a):
        raise ConfigError("the two models differ in architecture; average a model with one trained from it")
    first.load_state_dict({k: (1 - alpha) * v + alpha * b[k].to(v.dtype) if v.is_floating_point() else v
                           for k, v in a.items()})
    return first


def save_checkpoint(model, tokenizer, path: Path, history: list) -> None:
    """Save a Hugging Face checkpoint: each epoch with ``--checkpoint-dir``, or the GPU job's result
    (finalised later on a CPU)."""
    if path.exists():
        shutil.rmtree(path)
    model.save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)
    (path / "history.json").write_text(json.dumps(history, indent=2))
