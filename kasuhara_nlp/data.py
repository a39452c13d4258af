"""The labelled corpus: reading, splitting and loading (data/).

Team-written messages live in ``data/corpus/*.jsonl`` (training pool) and ``data/blind/*.jsonl``
(the blind test set); their schema is ``data/SCHEMA.md``.  Public data stays in ``../shared``:
``data/public_refs.jsonl`` stores only (dataset, row id, labels, split), joined at load time.
Splits are assigned per scenario family, so near-paraphrases never straddle train/dev/test.

Every text passes through the same :func:`~kasuhara_nlp.segments.text_to_score` that scanning uses.

>>> assign_split("w1-f001") in ("train", "dev", "test")
True
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .errors import InputFormatError, KasuharaError, LabelError
from .labels import CATEGORIES, validate_labels
from .segments import text_to_score

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
PUBLIC_REFS_NAME = "public_refs.jsonl"
SHARED_ENV = "KASUHARA_SHARED"
SPLITS = ("train", "dev", "test", "blind", "benign_test")
# Which writers wrote which corpus wave (data/plans/, data/README.md); a message id is "w<writer>-<number>".
# The one table that the relabelling tool, the data tests and the research scripts slice by.
WAVES: dict[str, range] = {"wave1": range(1, 6), "wave2": range(6, 14), "wave3": range(14, 22),
                           "rewrites": range(22, 30), "wave4": range(30, 38), "wave5": range(38, 42),
                           "wave6": range(42, 46), "wave7": range(46, 48)}


@dataclass
class LabelledMessage:
    """One labelled message; ``text`` is what the model sees, ``original`` what arrived."""

    id: str
    text: str
    labels: list[str]
    severity: int
    split: str
    source: str
    original: str = ""
    channel: str = "other"
    family: str = ""
    hard_negative: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def label_vector(self) -> list[int]:
        return [int(c in self.labels) for c in CATEGORIES]


def shared_dir() -> Path:
    """Where ../shared is: ``$KASUHARA_SHARED``, else the folder beside the repository."""
    return Path(os.environ.get(SHARED_ENV, REPO_ROOT.parent / "shared"))


def wave_of(message_id: str) -> str | None:
    """The corpus wave a message's writer belongs to; None for public text and the blind set.

    >>> wave_of("w39-0154"), wave_of("w1-f001-02"), wave_of("b-0001"), wave_of("asdc:asdc.v1:7")
    ('wave5', 'wave1', None, None)
    """
    head = message_id.split("-", 1)[0]
    if not (head.startswith("w") and head[1:].isdigit()):
        return None
    writer = int(head[1:])
    return next((name for name, writers in WAVES.items() if writer in writers), None)


def assign_split(family: str) -> str:
    """Deterministic 80/10/10 train/dev/test split by scenario family."""
    bucket = zlib.crc32(family.encode("utf-8")) % 100
    return "train" if bucket < 80 else "dev" if bucket < 90 else "test"


def read_labelled(path: str | Path, *, split: str | None = None) -> Iterator[LabelledMessage]:
    """Read a labelled JSONL file (data/SCHEMA.md); bad lines raise with file and line.

    UTF-8, with or without a BOM.  Each line must be an object with a non-empty ``text``, known ``labels``, an
    integer ``severity`` that agrees with them and, if given, a ``split`` of :data:`SPLITS`: a typo in any of
    them must stop training, not quietly drop or change the record.
    """
    path = Path(path)
    with path.open("rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8-sig" if n == 1 else "utf-8")
                if not line.strip():
                    continue
                r = json.loads(line)
                if not isinstance(r, dict):
                    raise TypeError(f"a JSON object is expected, got {type(r).__name__}")
                labels = list(r.get("labels") or [])
                severity = r.get("severity", 1 if labels else 0)
                if isinstance(severity, bool) or not isinstance(severity, int):
                    raise TypeError(f"severity must be an integer 0-3, got {severity!r}")
                validate_labels(labels, severity)
                if r.get("split") is not None and r["split"] not in SPLITS:
                    raise ValueError(f"split {r['split']!r} is not one of {list(SPLITS)}")
                original = r["text"]
                if not isinstance(original, str) or not original.strip():
                    raise ValueError("empty or non-string text")
            except UnicodeDecodeError:
                raise InputFormatError("not UTF-8; save the file as UTF-8", path=str(path), line=n) from None
            except (json.JSONDecodeError, KeyError, TypeError, ValueError, LabelError) as exc:
                raise InputFormatError(f"bad labelled record ({exc}); see data/SCHEMA.md",
                                       path=str(path), line=n) from None
            family = r.get("family") or r.get("id", f"{path.name}:{n}")
            scored = text_to_score(original).text
            yield LabelledMessage(
                id=str(r.get("id", f"{path.stem}-{n}")), text=scored, labels=labels, severity=severity,
                split=split or r.get("split") or assign_split(family), source=r.get("source", "team"),
                original=original, channel=r.get("channel", "other"), family=family,
                hard_negative=bool(r.get("hard_negative", False)),
                extra={k: r[k] for k in ("industry", "register", "subtypes") if k in r},
            )


def _public_rows(shared: Path) -> dict[tuple[str, str], str]:
    """Texts of the public datasets, keyed by (dataset, row id)."""
    rows: dict[tuple[str, str], str] = {}
    asdc = shared / "datasets" / "asdc-customer-turns" / "customer_turns.jsonl"
    if asdc.exists():
        for line in asdc.open(encoding="utf-8"):
            r = json.loads(line)
            rows[("asdc", f"{r['dialogue_id']}#{r['turn']}")] = r["text"]
    woz = shared / "datasets" / "jmultiwoz-user-utterances" / "user_utterances.jsonl.gz"
    if woz.exists():
        with gzip.open(woz, "rt", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                rows[("jmultiwoz", r["data_id"])] = r["text"]
    rtp = shared / "datasets" / "rtp-lx-ja" / "RTP_LX_JA.jsonl"
    if rtp.exists():
        for line in rtp.open(encoding="utf-8"):
            r = json.loads(line)
            rows[("rtp-lx-ja", str(r["Index"]))] = r["Prompt"]
    return rows


def read_public(refs: str | Path, shared: Path | None = None) -> Iterator[LabelledMessage]:
    """Join public-data references with the texts in ../shared (never copied into the repo)."""
    shared = shared or shared_dir()
    rows = _public_rows(shared)
    if not rows:
        raise KasuharaError(f"no public datasets found under {shared}/datasets; set {SHARED_ENV}=/path/to/shared")
    for n, line in enumerate(Path(refs).open(encoding="utf-8"), 1):
        r = json.loads(line)
        text = rows.get((r["dataset"], r["row_id"]))
        if text is None:
            raise InputFormatError(f"{r['dataset']} row {r['row_id']} not found in {shared}", path=str(refs), line=n)
        yield LabelledMessage(
            id=f"{r['dataset']}:{r['row_id']}", text=text_to_score(text).text, labels=r["labels"],
            severity=r["severity"], split=r["split"], source=r["dataset"], original=text,
            channel="chat", family=r.get("group", r["row_id"]),
        )


def load_messages(data_dir: str | Path = DATA_DIR, *, public: bool = True) -> list[LabelledMessage]:
    """Every labelled message: team corpus, blind set and (optionally) public references.

    Raises InputFormatError when the folder holds no ``corpus/*.jsonl`` or ``blind/*.jsonl`` (a mistyped path
    must not read as an empty corpus).
    """
    data_dir = Path(data_dir)
    if not any(next((data_dir / sub).glob("*.jsonl"), None) for sub in ("corpus", "blind")):
        raise InputFormatError("no labelled data here: expected corpus/*.jsonl or blind/*.jsonl in this folder "
                               "(see data/SCHEMA.md), or pass one labelled .jsonl file", path=str(data_dir))
    out: list[LabelledMessage] = []
    seen: dict[str, Path] = {}

    def add(path: Path, messages: Iterable[LabelledMessage]) -> None:
        # One id in two files (two feedback files holding the same message, a file copied twice) would be
        # trained on twice or leak between splits.
        for m in messages:
            if m.id in seen:
                raise InputFormatError(f"message id {m.id!r} is also in {seen[m.id]}; ids must be unique, so "
                                       "remove one of the two records", path=str(path))
            seen[m.id] = path
            out.append(m)

    for path in sorted((data_dir / "corpus").glob("*.jsonl")):
        add(path, read_labelled(path))
    for path in sorted((data_dir / "blind").glob("*.jsonl")):
        add(path, read_labelled(path, split="blind"))
    refs = data_dir / PUBLIC_REFS_NAME
    if public and refs.exists():
        add(refs, read_public(refs))
    return out


def load_labelled_path(data: str | Path | None = None) -> list[LabelledMessage]:
    """The messages of ``--data``: one labelled JSONL file, or a data folder (default: the bundled data/).

    A file is read as it is (:func:`read_labelled`: its own splits, or by family); a folder as the
    corpus is (:func:`load_messages`: corpus, blind set and public references).  Not to be confused with
    :func:`kasuhara_nlp.tuning.load_labelled`, the notebooks' loader, which takes a split name instead of a folder.

    >>> import tempfile; path = Path(tempfile.mkdtemp()) / "mine.jsonl"
    >>> line = '{"id": "m1", "text": "土下座しろ", "labels": ["demand"], "severity": 2, "split": "test"}'
    >>> _ = path.write_text(line + "\\n", encoding="utf-8")
    >>> [(m.id, m.labels, m.split) for m in load_labelled_path(path)]
    [('m1', ['demand'], 'test')]
    """
    path = Path(data) if data else DATA_DIR
    return list(read_labelled(path)) if path.is_file() else load_messages(path)


def vote_dir_for(data: str | Path | None = None) -> Path:
    """The folder whose ``agreement/`` labellings give soft targets for ``--data`` (default: the bundled data/).

    That is the folder itself, or the folder a labelled file is in.

    >>> import tempfile; folder = Path(tempfile.mkdtemp()); (folder / "mine.jsonl").touch()
    >>> vote_dir_for(folder / "mine.jsonl") == folder, vote_dir_for(folder) == folder, vote_dir_for() == DATA_DIR
    (True, True, True)
    """
    path = Path(data) if data else DATA_DIR
    return path if path.is_dir() else path.parent


def load_corpus(data_dir: str | Path = DATA_DIR, *, public: bool = True):
    """The corpus as a ``datasets.DatasetDict`` with one split per :data:`SPLITS` entry present.

    Columns: id, text (text to score), original, labels, label_vector, severity, source, channel,
    family, hard_negative.  Needs the ``train`` extra (``pip install -e .[train]``).
    """
    try:
        from datasets import Dataset, DatasetDict
    except ImportError:
        raise KasuharaError("load_corpus needs the datasets package: pip install -e '.[train]'") from None
    by_split: dict[str, list[dict]] = {}
    for m in load_messages(data_dir, public=public):
        by_split.setdefault(m.split, []).append({
            "id": m.id, "text": m.text, "original": m.original, "labels": m.labels,
            "label_vector": m.label_vector, "severity": m.severity, "source": m.source,
            "channel": m.channel, "family": m.family, "hard_negative": m.hard_negative,
        })
    return DatasetDict({s: Dataset.from_list(rows) for s, rows in by_split.items()})
