"""Shared fixtures: tiny random BERT models built from configs (never downloaded), tiny corpora."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from kasuhara_nlp.data import LabelledMessage
from kasuhara_nlp.labels import CATEGORIES

FIXTURES = Path(__file__).parent / "fixtures"

# A few sentences per kind, enough for the tiny models to learn something and for the vocab.
POSITIVE = {
    "abuse": ["お前は本当に無能だな。", "ふざけるな、バカ野郎。", "殺すぞ。覚えておけ。", "役立たずは辞めちまえ。"],
    "demand": ["土下座して謝れ。", "慰謝料として百万円払え。", "担当者をクビにしろ。", "全部無料でやり直せ。"],
    "restraint": ["今すぐ家に来い。", "納得するまで電話を切るな。", "夜中でも電話に出ろ。", "店から帰らないからな。"],
    "other_harassment": ["声が可愛いね、LINE教えて。", "名前を出してSNSで晒す。", "外国人を出すな。", "仕事終わりに外で待ってる。"],
}
NEGATIVE = ["商品が届きません。確認してください。", "ありがとうございました。", "返品の手続きを教えてください。",
            "三回目の不具合で本当に怒っています。", "解約します。", "請求額が間違っています。至急訂正してください。",
            "予約を変更したいです。", "昨日は言い過ぎました、すみません。"]


def make_messages(n_per_split: dict[str, int] | None = None, seed: int = 0) -> list[LabelledMessage]:
    """A tiny labelled set with every category in every split."""
    rng = random.Random(seed)
    n_per_split = n_per_split or {"train": 3, "dev": 2, "test": 1}
    out = []
    for split, reps in n_per_split.items():
        for r in range(reps):
            for cat, texts in POSITIVE.items():
                for i, t in enumerate(texts):
                    sev = 3 if "殺" in t else 2
                    out.append(LabelledMessage(f"{split}-{cat}-{r}-{i}", t, [cat], sev, split, "team",
                                               original=t))
            for i, t in enumerate(NEGATIVE):
                out.append(LabelledMessage(f"{split}-neg-{r}-{i}", t, [], 0, split, "team", original=t,
                                           hard_negative=i % 2 == 1))
    rng.shuffle(out)
    return out


def _all_text() -> str:
    return "".join(t for ts in POSITIVE.values() for t in ts) + "".join(NEGATIVE) + "テスト返金しろ！？"


def build_tiny_bert(folder: Path) -> Path:
    """A random 2-layer BERT (hidden 32) with a character WordPiece tokenizer, in Hugging Face format."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = sorted(set(_all_text()))
    vocab = {t: i for i, t in enumerate(specials + chars + ["##" + c for c in chars])}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", continuing_subword_prefix="##"))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", cls_token="[CLS]",
                                   sep_token="[SEP]", pad_token="[PAD]", mask_token="[MASK]",
                                   model_max_length=512)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=256, num_labels=8)
    import torch

    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def build_tiny_japanese_bert(folder: Path) -> Path:
    """A random BERT in the tohoku-nlp/bert-base-japanese-v3 format: vocab.txt + MeCab (unidic-lite)."""
    from transformers import BertConfig, BertForSequenceClassification, BertJapaneseTokenizer

    from kasuhara_nlp.segmenter import words

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    text = _all_text()
    pieces = sorted(set(words(text)) | set(text) | {"##" + c for c in text})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(specials + pieces) + "\n", encoding="utf-8")
    tok = BertJapaneseTokenizer(str(folder / "vocab.txt"), word_tokenizer_type="mecab",
                                subword_tokenizer_type="wordpiece", mecab_kwargs={"mecab_dic": "unidic_lite"})
    tok.save_pretrained(folder)
    config = BertConfig(vocab_size=len(specials) + len(pieces), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=256, num_labels=8)
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_messages() -> list[LabelledMessage]:
    return make_messages()


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    pytest.importorskip("torch")
    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert-base"))


@pytest.fixture(scope="session")
def tiny_classifier_dir(tmp_path_factory, tiny_bert_dir, tiny_messages) -> Path:
    """A tiny BERT fine-tuned for a few epochs, calibrated and exported to int8 ONNX."""
    from kasuhara_nlp.bert_train import train_bert
    from kasuhara_nlp.train import TrainConfig

    out = tmp_path_factory.mktemp("tiny-model")
    cfg = TrainConfig(model="bert", base=str(tiny_bert_dir), out_dir=str(out), epochs=3, batch_size=16,
                      learning_rate=1e-3, max_length=32, stride=8, freeze_embeddings=False, patience=3)
    train_bert(cfg, tiny_messages)
    return out


@pytest.fixture(scope="session")
def baseline_dir(tmp_path_factory, tiny_messages) -> Path:
    from kasuhara_nlp.train import TrainConfig, train_baseline

    out = tmp_path_factory.mktemp("baseline")
    train_baseline(TrainConfig(model="baseline", out_dir=str(out)), tiny_messages)
    return out


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


__all__ = ["CATEGORIES", "make_messages", "write_jsonl", "FIXTURES"]
