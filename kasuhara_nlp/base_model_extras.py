"""The data side of :mod:`kasuhara_nlp.base_model`: customer-style keep-texts, text readers,
piece counting (with a corpus cache) and the embedding sanity check.

Kept apart from the file-format/conversion code so the word lists can grow without touching it.

>>> "草" in EXTRA_TEXTS[0]
True
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import itertools
import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

# Customer-style text the corpus under-represents: net slang, 伏字 (masking) symbols, emoji,
# half-width katakana, full-width digits, dialect and abuse words.  Tokenising them (rather than
# adding raw characters) keeps exactly the pieces the normaliser really produces, e.g. ﾊﾞｶ -> ハ ゙ カ.
EXTRA_TEXTS: tuple[str, ...] = (
    "草 草生える ｗｗｗ www ｗ w 笑 (笑) ワロタ 乙 ｷﾓｲ ｳｻﾞｲ ﾊﾞｶ ｱﾎ ﾀﾋね 氏ね 市ね 逝け ググれカス",
    "○ ＊ × ● □ 〇 ◯ ◎ △ ▲ ■ ◆ ◇ ☆ ★ ※ ＿ ・ ･ ー ｰ 〜 ～ … ‥ ！ ？ !! ?? ！？ ♪ ♡ ♥ ○○ ××",
    "死○ 殺＊ ば○か ク○ 〇ね ●ね ×す ＊ね □ね 馬鹿 阿呆 糞 クソ カス ゴミ クズ ボケ 死ね 殺す ぶっ殺す",
    "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜｦﾝｧｨｩｪｫｯｬｭｮﾞﾟ｡｢｣､",
    "０１２３４５６７８９ 0123456789 ①②③④⑤ ＡＢＣ ｱﾎか 金返せ 責任者を出せ 土下座しろ 誠意を見せろ",
    "😡 🤬 😠 💢 👊 🔪 💀 😭 😢 🙏 👍 👎 🖕 😤 😩 😂 🤣 💩 ❤ ✋ ⚠ ‼ ⁉ 🔥 😇 🥺 😓 😅",
    "あかん ほんま なんでやねん しばくぞ いてまうぞ どないなっとんねん ちゃうやろ おどれ われ なめとんのか",
    "アホちゃうか せやから あんた あんたら おまえ てめえ てめぇ 貴様 じゃけぇ じゃけん やけん ばってん",
    "せからしか なまら だべ しちょる だら ずら けぇ おめぇ おんどれ ぬかせ 訴えるぞ 晒すぞ ネットに書く",
    "炎上させる 口コミに書く 消費者センター 弁護士 警察 クレーム 店長を呼べ 社長を出せ 二度と来ない",
    "商品が届いていない 注文品が届かない 対応は最悪だ、ふざけるな 対応はひどい、いい加減にしろ",
    "明日の天気は晴れです 桜の花がきれいに咲いた The package has not arrived yet.",
)
# Single-character pieces kept whatever the data says, so unseen kana/symbol/emoji text degrades to
# characters instead of <unk>: hiragana, katakana, CJK and general punctuation, shapes, emoji.
KEEP_CHAR_RANGES = ((0x20, 0x7E), (0x2000, 0x206F), (0x2190, 0x21FF), (0x2460, 0x24FF), (0x25A0, 0x27BF),
                     (0x2B00, 0x2BFF), (0x3000, 0x30FF), (0xFF01, 0xFF9F), (0x1F000, 0x1FAFF))
SANITY_PAIRS = (("商品が届いていない", "注文品が届かない"),
                ("対応は最悪だ、ふざけるな", "対応はひどい、いい加減にしろ"))
UNRELATED_PAIRS = (("商品が届いていない", "明日の天気は晴れです"),
                   ("対応は最悪だ、ふざけるな", "桜の花がきれいに咲いた"))



def expand_paths(patterns: Iterable[str | os.PathLike]) -> list[Path]:
    """Expand glob patterns (patterns that match nothing are dropped: inputs may not exist yet)."""
    return [Path(p) for pat in patterns for p in sorted(glob.glob(str(pat))) if Path(p).is_file()]


def read_texts(paths: Iterable[str | os.PathLike]) -> Iterator[str]:
    """Yield texts from .jsonl(.gz) records (``text``, else ``Prompt``/``Completion``) or .txt(.gz) lines.

    Unparsable lines are skipped on purpose: the labelled files may be half-written while we read.
    """
    for path in paths:
        opener = gzip.open if str(path).endswith(".gz") else open
        is_json = ".json" in Path(path).name  # .json, .jsonl, .jsonl.gz
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    rec = json.loads(line) if is_json else {"text": line.rstrip("\n")}
                except json.JSONDecodeError:
                    continue
                rec = rec if isinstance(rec, dict) else {}
                for f in ("text",) if "text" in rec else ("Prompt", "Completion"):
                    if isinstance(rec.get(f), str) and rec[f].strip():
                        yield rec[f]


def count_pieces(tokenizer: Any, texts: Iterable[str], vocab_size: int, batch: int = 4096) -> np.ndarray:
    """Count how often each piece id occurs in ``texts`` (no special tokens added)."""
    counts = np.zeros(vocab_size, dtype=np.int64)
    it = iter(texts)
    while chunk := list(itertools.islice(it, batch)):
        encs = tokenizer.encode_batch(chunk, add_special_tokens=False)
        ids = np.fromiter(itertools.chain.from_iterable(e.ids for e in encs), dtype=np.int64)
        counts += np.bincount(ids, minlength=vocab_size)
    return counts


def corpus_counts(tokenizer: Any, tokenizer_text: str, paths: Sequence[Path], vocab_size: int,
                  cache_dir: Path) -> np.ndarray:
    """Piece counts over the corpus, cached by (tokenizer, file names, sizes, mtimes): ~2 min -> ~0 s."""
    key = hashlib.sha256(tokenizer_text.encode())
    for p in paths:
        st = p.stat()
        key.update(f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    cache = cache_dir / f"corpus-counts-{key.hexdigest()[:16]}.npy"
    if cache.exists():
        return np.load(cache)
    counts = count_pieces(tokenizer, read_texts(paths), vocab_size)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(cache, counts)
    return counts


def embed(model: Any, tokenizer: Any, texts: Sequence[str], prefix: str = "query: ") -> np.ndarray:
    """e5 sentence embeddings: ``query: `` prefix, mean pooling over the mask, L2 normalisation."""
    import torch

    batch = tokenizer([prefix + t for t in texts], padding=True, truncation=True, max_length=512,
                      return_tensors="pt")
    with torch.no_grad():
        hidden = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()



def sanity_check(full: Any, full_tok: Any, small: Any, small_tok: Any, texts: Sequence[str]) -> dict[str, Any]:
    """Paraphrase/unrelated cosines and the max |diff| of trimmed vs untrimmed on fully covered text."""
    import torch

    small_vocab = small_tok.get_vocab()
    probe = [t for pair in SANITY_PAIRS + UNRELATED_PAIRS for t in pair] + list(texts)
    # "Fully covered": every piece of the untrimmed segmentation survived trimming.
    covered = [t for t in probe if all(p in small_vocab for p in full_tok.tokenize("query: " + t))]
    diff = 0.0
    for i in range(0, len(covered), 32):
        a, b = (full_tok(["query: " + t for t in covered[i:i + 32]], padding=True, return_tensors="pt"),
                small_tok(["query: " + t for t in covered[i:i + 32]], padding=True, return_tensors="pt"))
        with torch.no_grad():
            ha = full(input_ids=a["input_ids"], attention_mask=a["attention_mask"]).last_hidden_state
            hb = small(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).last_hidden_state
        diff = max(diff, float(((ha - hb) * a["attention_mask"].unsqueeze(-1)).abs().max()))

    def cos(model: Any, tok: Any, pairs: Sequence[tuple[str, str]]) -> dict[str, float]:
        return {f"{x} ↔ {y}": round(float(np.dot(*embed(model, tok, [x, y]))), 4) for x, y in pairs}

    return {"paraphrase_cosine": cos(small, small_tok, SANITY_PAIRS),
            "unrelated_cosine": cos(small, small_tok, UNRELATED_PAIRS),
            "paraphrase_cosine_untrimmed": cos(full, full_tok, SANITY_PAIRS),
            "max_abs_diff_last_hidden_trimmed_vs_untrimmed": diff, "n_covered_texts_compared": len(covered),
            "n_uncovered_skipped": len(probe) - len(covered)}
