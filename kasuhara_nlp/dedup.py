"""Near-duplicate detection by character 5-gram Jaccard similarity (MinHash + banding, then exact).

Used to keep the corpus honest: near-paraphrases must not straddle train/dev/test, and the share of
near-duplicate pairs is reported in the data card.

>>> pairs = near_duplicates(["今すぐ返金しろ、ふざけるな", "今すぐ返金しろ、ふざけるなよ", "ありがとうございました"])
>>> [(i, j) for i, j, _ in pairs]
[(0, 1)]
"""

from __future__ import annotations

import zlib

import numpy as np

_PRIME = (1 << 61) - 1


def shingles(text: str, n: int = 5) -> set[str]:
    """Character n-grams of the whitespace-collapsed text (the text itself when shorter)."""
    t = "".join(text.split())
    if len(t) <= n:
        return {t} if t else set()
    return {t[i:i + n] for i in range(len(t) - n + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def near_duplicates(texts: list[str], threshold: float = 0.6, n: int = 5, bands: int = 24, rows: int = 4,
                    seed: int = 0) -> list[tuple[int, int, float]]:
    """Pairs ``(i, j, similarity)`` with i < j whose n-gram Jaccard is above ``threshold``.

    MinHash banding finds candidates in near-linear time; every candidate is then checked exactly,
    so no reported pair is a false positive (a pair just above the threshold may rarely be missed).
    """
    sets = [shingles(t, n) for t in texts]
    rng = np.random.default_rng(seed)
    k = bands * rows
    a = rng.integers(1, _PRIME, size=k, dtype=np.uint64)
    b = rng.integers(0, _PRIME, size=k, dtype=np.uint64)
    buckets: dict[tuple, list[int]] = {}
    for i, s in enumerate(sets):
        if not s:
            continue
        h = np.fromiter((zlib.crc32(g.encode("utf-8")) for g in s), dtype=np.uint64, count=len(s))
        # (a*h + b) mod 2^64 is a fine universal hash for this purpose; overflow wraps on purpose.
        with np.errstate(over="ignore"):
            sig = (np.outer(a, h) + b[:, None]).min(axis=1)
        for band in range(bands):
            key = (band, sig[band * rows:(band + 1) * rows].tobytes())
            buckets.setdefault(key, []).append(i)
    candidates: set[tuple[int, int]] = set()
    for members in buckets.values():
        if 1 < len(members) <= 200:  # huge buckets are boilerplate; exact check would be quadratic
            for x in range(len(members)):
                for y in range(x + 1, len(members)):
                    candidates.add((members[x], members[y]))
    out = []
    for i, j in sorted(candidates):
        sim = jaccard(sets[i], sets[j])
        if sim > threshold:
            out.append((i, j, round(sim, 4)))
    return out
