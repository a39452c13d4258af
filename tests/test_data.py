"""The labelled corpus in data/: schema, label ids, clean splits and near-duplicates."""

import json
from collections import defaultdict
from pathlib import Path

import pytest

from kasuhara_nlp.data import (DATA_DIR, PUBLIC_REFS_NAME, WAVES, assign_split, load_messages, read_public, shared_dir,
                               wave_of)
from kasuhara_nlp.dedup import near_duplicates
from kasuhara_nlp.errors import InputFormatError
from kasuhara_nlp.labels import CATEGORIES, subtype_categories

REQUIRED = {"id", "family", "text", "label_quote", "channel", "industry", "register", "labels", "severity",
            "subtypes", "hard_negative", "source", "notes"}
FILES = sorted((DATA_DIR / "corpus").glob("*.jsonl")) + sorted((DATA_DIR / "blind").glob("*.jsonl"))


@pytest.fixture(scope="module")
def team():
    return load_messages(public=False)


def test_there_is_a_corpus_and_a_blind_set():
    assert any("corpus" in str(p) for p in FILES) and any("blind" in str(p) for p in FILES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_schema(path: Path):
    for n, line in enumerate(path.open(encoding="utf-8"), 1):
        r = json.loads(line)
        assert REQUIRED <= set(r), f"{path.name}:{n} misses {REQUIRED - set(r)}"
        assert set(r["labels"]) <= set(CATEGORIES), f"{path.name}:{n}"
        assert (r["severity"] >= 1) == bool(r["labels"]), f"{path.name}:{n}"
        assert r["label_quote"] is None or r["label_quote"] in r["text"], f"{path.name}:{n}"
        assert not (r["labels"] and r["hard_negative"]), f"{path.name}:{n}"


@pytest.mark.parametrize("message_id, wave", [
    ("w1-0001", "wave1"), ("w5-0300", "wave1"), ("w6-0001", "wave2"), ("w13-0001", "wave2"), ("w14-0001", "wave3"),
    ("w21-0001", "wave3"), ("w22-0001", "rewrites"), ("w30-0001", "wave4"), ("w37-0001", "wave4"),
    ("w38-0001", "wave5"), ("w41-0001", "wave5"), ("w42-0001", "wave6"), ("w44-0001", "wave6"), ("w45-0001", "wave6"),
    ("w46-0001", "wave7"), ("w47-0001", "wave7"), ("w48-0001", None),
    ("b-0001", None),
    ("asdc:asdc.v1:3", None), ("jmultiwoz:jm:1", None), ("rtp-lx-ja:12", None), ("wx-1", None),
])
def test_wave_of_reads_the_writer(message_id, wave):
    assert wave_of(message_id) == wave


def test_every_corpus_writer_is_in_the_wave_table(team):
    # A new writer must be added to WAVES, or the wave slices and the relabelling tool would silently miss them.
    unknown = sorted({m.id.split("-")[0] for m in team if m.split != "blind" and wave_of(m.id) is None})
    assert not unknown, f"writers {unknown} are in no wave of kasuhara_nlp.data.WAVES"
    ranges = sorted(WAVES.values(), key=lambda r: r.start)
    assert all(a.stop <= b.start for a, b in zip(ranges, ranges[1:])), "waves overlap"


def test_training_labels_cover_their_subtypes():
    # The guide puts each subtype in one category (B7 also in other_harassment); a record listing a subtype
    # without its category teaches the model two answers.  The blind set is kept exactly as its writer wrote it.
    for path in sorted((DATA_DIR / "corpus").glob("*.jsonl")):
        for n, line in enumerate(path.open(encoding="utf-8"), 1):
            r = json.loads(line)
            need = subtype_categories(r["subtypes"])
            assert need <= set(r["labels"]), f"{path.name}:{n} subtypes {r['subtypes']} need {need - set(r['labels'])}"


def test_ids_and_texts_are_unique(team):
    assert len({m.id for m in team}) == len(team)
    assert len({m.original for m in team}) == len(team)


def test_splits_are_by_family_and_blind_is_apart(team):
    splits_of = defaultdict(set)
    for m in team:
        splits_of[m.family].add(m.split)
    assert all(len(s) == 1 for s in splits_of.values())
    blind_families = {m.family for m in team if m.split == "blind"}
    corpus_families = {m.family for m in team if m.split != "blind"}
    assert not blind_families & corpus_families
    assert {m.split for m in team} == {"train", "dev", "test", "blind"}
    assert all(m.split == assign_split(m.family) for m in team if m.split != "blind")


def test_near_duplicates_are_rare_and_never_cross_splits(team):
    pairs = near_duplicates([m.original for m in team], threshold=0.6)
    cross = [(i, j) for i, j, _ in pairs if team[i].split != team[j].split]
    assert cross == []
    assert len(pairs) / len(team) < 0.01


def _probe(name: str) -> list[str]:
    return [json.loads(line)["text"] for line in (DATA_DIR / "probe" / name).open(encoding="utf-8") if line.strip()]


def test_no_probe_text_is_in_the_corpus(team):
    """The probes of docs/training.md §17-§19 measure text no model trained on; a corpus line equal to one (after
    stripping and folding spaces) would turn the probe into a training example.  (Short texts share phrases by
    chance, so near-duplicates are not tested here: one attack, 「原田さん、夜中でも俺からの電話には出ろよ」, is
    close to wave 6's 「担任、夜中でも俺からの電話には出ろよ」, written independently.)"""
    def fold(text: str) -> str:
        return "".join(text.split())

    texts = {fold(t) for t in _probe("short_heldout.jsonl")}
    assert len(texts) == 190
    leaked = sorted({m.id for m in team if fold(m.original) in texts or fold(m.text) in texts})
    assert leaked == []


def test_no_long_probe_text_is_near_a_corpus_message(team):
    """The held-out probe of §23 (long messages): no corpus message near-equal to one of its texts (character 5-gram
    Jaccard 0.6, the corpus's own near-duplicate test), so a model cannot have trained on a paraphrase of it."""
    probe = _probe("embedded_heldout.jsonl")
    assert len(set(probe)) == 120
    pairs = near_duplicates(probe + [m.original for m in team], threshold=0.6)
    leaked = sorted({team[j - len(probe)].id for i, j, _ in pairs if i < len(probe) <= j})
    assert leaked == []


def test_text_to_score_is_applied(team):
    quoted = [m for m in team if "\n>" in m.original or "\n＞" in m.original]
    assert quoted, "the corpus should hold e-mails with quoted replies"
    assert any(len(m.text) < len(m.original) for m in quoted)


def test_bad_labelled_record_names_file_and_line(tmp_path):
    from kasuhara_nlp.data import read_labelled

    p = tmp_path / "x.jsonl"
    p.write_text('{"id": "a", "text": "ok", "labels": [], "severity": 0}\n'
                 '{"id": "b", "text": "x", "labels": ["rude"], "severity": 1}\n', encoding="utf-8")
    with pytest.raises(InputFormatError, match="x.jsonl:2"):
        list(read_labelled(p))


def test_one_id_in_two_files_is_refused(tmp_path):
    """Two feedback files holding the same message would train on it twice, or leak it across splits."""
    from kasuhara_nlp.data import load_messages

    (tmp_path / "corpus").mkdir()
    line = '{"id": "fb-1", "text": "ありがとう", "labels": [], "severity": 0, "split": "train"}\n'
    (tmp_path / "corpus" / "feedback_a.jsonl").write_text(line, encoding="utf-8")
    (tmp_path / "corpus" / "feedback_b.jsonl").write_text(line, encoding="utf-8")
    with pytest.raises(InputFormatError, match="feedback_b.jsonl.*'fb-1' is also in .*feedback_a.jsonl"):
        load_messages(tmp_path)


GOOD_LINE = '{"id": "a", "text": "ok", "labels": [], "severity": 0}\n'.encode()


# (case id, second line as bytes, words the error must contain)
BAD_LABELLED_LINES = [
    ("unknown_category", '{"text": "x", "labels": ["rude"], "severity": 1}'.encode(), "rude"),
    ("json_array", '["死ね", ["abuse"], 2]'.encode(), "JSON object"),
    ("json_null", b"null", "JSON object"),
    ("cp932_line", '{"text": "ふざけるな", "labels": ["abuse"], "severity": 2}'.encode("cp932"), "not UTF-8"),
    ("split_typo", '{"text": "x", "labels": [], "severity": 0, "split": "Train"}'.encode(), "split 'Train'"),
    ("fractional_severity", '{"text": "x", "labels": ["abuse"], "severity": 2.9}'.encode(), "severity must be"),
    ("boolean_severity", '{"text": "x", "labels": ["abuse"], "severity": true}'.encode(), "severity must be"),
    ("empty_text", '{"text": " ", "labels": [], "severity": 0}'.encode(), "empty"),
]


@pytest.mark.parametrize("line, words", [c[1:] for c in BAD_LABELLED_LINES], ids=[c[0] for c in BAD_LABELLED_LINES])
def test_bad_labelled_lines_name_file_and_line(tmp_path, line, words):
    from kasuhara_nlp.data import read_labelled

    p = tmp_path / "x.jsonl"
    p.write_bytes(GOOD_LINE + line + b"\n")
    with pytest.raises(InputFormatError, match=f"x.jsonl:2: .*{words}"):
        list(read_labelled(p))


def test_labelled_file_may_start_with_a_bom(tmp_path):
    from kasuhara_nlp.data import read_labelled

    p = tmp_path / "bom.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + GOOD_LINE)
    assert [m.id for m in read_labelled(p)] == ["a"]


@pytest.mark.skipif(not (shared_dir() / "datasets").exists(), reason="../shared/datasets is not present")
def test_public_references_resolve_and_stay_out_of_training_tests():
    rows = list(read_public(DATA_DIR / PUBLIC_REFS_NAME))
    assert len(rows) == sum(1 for _ in (DATA_DIR / PUBLIC_REFS_NAME).open())
    by = defaultdict(set)
    for m in rows:
        by[m.source].add(m.split)
    assert by["rtp-lx-ja"] == {"train"}  # weak positives never enter evaluation
    assert "benign_test" in by["asdc"] and "benign_test" in by["jmultiwoz"]
    # A dialogue never straddles splits.
    groups = defaultdict(set)
    for m in rows:
        groups[(m.source, m.family)].add(m.split)
    assert all(len(s) == 1 for s in groups.values())


def test_load_corpus_gives_a_datasetdict():
    pytest.importorskip("datasets")
    from kasuhara_nlp.data import load_corpus

    dd = load_corpus(public=False)
    assert {"train", "dev", "test", "blind"} <= set(dd)
    assert {"text", "labels", "label_vector", "severity", "source"} <= set(dd["train"].column_names)


def _tool(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, DATA_DIR / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _lab(labels, severity, subtypes):
    return {"labels": labels, "severity": severity, "subtypes": subtypes}


@pytest.mark.parametrize("writer, first, second, expected", [
    # Annotator 2 sides with annotator 1: annotator 1's labelling is taken whole.
    (_lab(["demand"], 1, ["B1"]), _lab(["demand", "abuse"], 2, ["B1", "A3"]), _lab(["abuse", "demand"], 3, ["A1", "B1"]),
     _lab(["abuse", "demand"], 2, ["B1", "A3"])),
    # Annotator 2 sides with the writer: the writer's labels stand.
    (_lab(["abuse"], 2, ["A3"]), _lab([], 0, []), _lab(["abuse"], 1, ["A3"]), _lab(["abuse"], 1, ["A3"])),
    # Two of three say not harassment.
    (_lab(["restraint"], 1, ["C3"]), _lab([], 0, []), _lab([], 0, []), _lab([], 0, [])),
    # Per-category majority that nobody gave whole: subtypes of the kept categories, median severity.
    (_lab(["abuse", "restraint"], 2, ["A3", "C1"]), _lab(["abuse", "demand"], 3, ["A1", "B1"]),
     _lab(["demand", "restraint"], 1, ["B5", "C2"]),
     _lab(["abuse", "demand", "restraint"], 2, ["A1", "A3", "B1", "B5", "C1", "C2"])),
])
def test_relabel_vote_is_a_per_category_majority(writer, first, second, expected):
    assert _tool("relabel").vote(writer, first, second) == expected


@pytest.mark.parametrize("wave", [w for w in WAVES if w != "rewrites"])
def test_corpus_is_what_the_relabel_tool_makes(wave):
    tool = _tool("relabel")
    original, first, second = (tool.read_labels(wave, k) for k in (tool.ORIGINAL, tool.FIRST, tool.SECOND))
    records = [json.loads(line) for path in tool.corpus_files(wave) for line in path.open(encoding="utf-8")]
    assert len(records) == len(original) == len(first) > 500
    assert set(second) == set(tool.disputed(original, first))
    stale = [r["id"] for r in records if tool.revise(r, original, first, second) != r]
    assert not stale, f"{wave} labels differ from `data/tools/relabel.py {wave} apply`: {stale[:5]}"


def test_paraphrases_take_their_sources_labels_and_family(tmp_path, monkeypatch, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    source = {"id": "w2-0002", "family": "w2-f001", "text": "土下座しろ", "label_quote": "土下座しろ",
              "channel": "chat", "industry": "retail_ec", "register": "casual", "labels": ["demand"],
              "severity": 2, "subtypes": ["B1"], "hard_negative": False, "source": "team", "notes": ""}
    (corpus / "w2_01.jsonl").write_text(json.dumps(source, ensure_ascii=False) + "\n", encoding="utf-8")
    inputs = tmp_path / "in_03.jsonl"
    inputs.write_text(json.dumps({"id": "w2-0002", "style": "dialect"}) + "\n" * 2, encoding="utf-8")
    outputs = tmp_path / "out_03.jsonl"
    outputs.write_text(json.dumps({"src": "w2-0002", "text": "土下座してや", "label_quote": "土下座しろ"},
                                  ensure_ascii=False) + "\n", encoding="utf-8")
    monkeypatch.setattr("sys.argv", ["add_paraphrases", str(corpus), str(outputs), "--inputs", str(inputs)])
    assert _tool("add_paraphrases").main() == 0
    (record,) = [json.loads(x) for x in (corpus / "w24_01.jsonl").open(encoding="utf-8")]
    assert record["id"] == "w24-0001" and record["text"] == "土下座してや"
    assert {k: record[k] for k in ("family", "labels", "severity", "subtypes")} == \
        {"family": "w2-f001", "labels": ["demand"], "severity": 2, "subtypes": ["B1"]}
    assert record["label_quote"] is None  # the quote was not in the new text, so it is not kept
    assert "out_03.jsonl:1: label_quote is not in the text" in capsys.readouterr().out


def _labelled_line(message_id: str, split: str) -> str:
    return json.dumps({"id": message_id, "text": "土下座しろ", "labels": ["demand"], "severity": 2,
                       "split": split}, ensure_ascii=False) + "\n"


def test_load_labelled_reads_a_file_or_a_data_folder(tmp_path):
    """`--data` of train and evaluate: one labelled file as it is, or a folder as the corpus (blind split forced)."""
    from kasuhara_nlp.data import load_labelled_path

    (tmp_path / "corpus").mkdir()
    (tmp_path / "blind").mkdir()
    (tmp_path / "corpus" / "a.jsonl").write_text(_labelled_line("c1", "train"), encoding="utf-8")
    (tmp_path / "blind" / "b.jsonl").write_text(_labelled_line("b1", "test"), encoding="utf-8")
    single = tmp_path / "one.jsonl"
    single.write_text(_labelled_line("f1", "test"), encoding="utf-8")
    assert [(m.id, m.split) for m in load_labelled_path(single)] == [("f1", "test")]
    assert [(m.id, m.split) for m in load_labelled_path(str(tmp_path))] == [("c1", "train"), ("b1", "blind")]
    with pytest.raises(InputFormatError, match="no labelled data here"):
        load_labelled_path(tmp_path / "corpus" / "missing")


def test_load_labelled_defaults_to_the_bundled_data(tmp_path, monkeypatch):
    from kasuhara_nlp import data

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.jsonl").write_text(_labelled_line("c1", "train"), encoding="utf-8")
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)  # the bundled data/, without reading the whole corpus
    assert [m.id for m in data.load_labelled_path()] == [m.id for m in data.load_labelled_path(None)] == ["c1"]
    assert data.vote_dir_for() == tmp_path


@pytest.mark.parametrize("data, expected", [
    ("{tmp}/one.jsonl", "{tmp}"),  # a labelled file: its folder holds agreement/
    ("{tmp}", "{tmp}"),
    ("{tmp}/", "{tmp}"),
    (None, "{data}"),
    ("", "{data}"),
])
def test_vote_dir_for(tmp_path, data, expected):
    from kasuhara_nlp.data import vote_dir_for

    (tmp_path / "one.jsonl").write_text(_labelled_line("f1", "test"), encoding="utf-8")
    fill = {"tmp": tmp_path, "data": DATA_DIR}
    got = vote_dir_for(data.format(**fill) if data is not None else None)
    assert got == Path(expected.format(**fill))
