"""Soft targets from the writers' and annotators' labellings (kasuhara_nlp/votes.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kasuhara_nlp.data import DATA_DIR, LabelledMessage, load_messages
from kasuhara_nlp.errors import InputFormatError
from kasuhara_nlp.votes import shares_for, vote_shares
from tests.conftest import write_jsonl



def _labelling(rows: dict[str, list[str]]) -> list[dict]:
    return [{"id": i, "labels": labels} for i, labels in rows.items()]


@pytest.fixture()
def data_dir(tmp_path) -> Path:
    agreement = tmp_path / "agreement"
    write_jsonl(agreement / "wave1_original_labels.jsonl", _labelling(
        {"w1-1": ["demand"], "w1-2": [], "w1-3": ["abuse", "demand"]}))
    write_jsonl(agreement / "wave1_relabel.jsonl", _labelling(
        {"w1-1": ["demand"], "w1-2": ["restraint"], "w1-3": ["abuse"]}))
    write_jsonl(agreement / "wave1_adjudication.jsonl", _labelling({"w1-2": [], "w1-3": ["abuse", "demand"]}))
    write_jsonl(tmp_path / "corpus" / "w1_01.jsonl", [{"id": "w1-1", "notes": "calm 迷惑料"}])
    write_jsonl(tmp_path / "corpus" / "w22_01.jsonl", [
        {"id": "w22-1", "notes": "paraphrase of w1-3 (関西弁)"},
        {"id": "w22-2", "notes": "paraphrase of w9-9 (関西弁)"},  # a source with no labellings
    ])
    return tmp_path


@pytest.mark.parametrize("mid, expected", [
    ("w1-1", [0, 1, 0, 0]),          # writer and annotator agree: no second annotator
    ("w1-2", [0, 0, 1 / 3, 0]),      # one of three gave restraint
    ("w1-3", [1, 2 / 3, 0, 0]),      # two of three gave demand
    ("w22-1", [1, 2 / 3, 0, 0]),     # a rewrite takes its source's shares
])
def test_shares_are_the_fraction_of_labellers_per_category(data_dir, mid, expected):
    assert vote_shares(data_dir)[mid] == pytest.approx(expected)


def test_messages_without_labellings_have_no_shares(data_dir, tmp_path):
    assert "w22-2" not in vote_shares(data_dir)
    assert vote_shares(tmp_path / "empty") == {}


def test_a_bad_labelling_line_names_the_file_and_line(data_dir):
    path = data_dir / "agreement" / "wave1_relabel.jsonl"
    path.write_text(path.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    with pytest.raises(InputFormatError) as err:
        vote_shares(data_dir)
    assert "wave1_relabel.jsonl:4" in str(err.value)


def _msg(mid: str, labels: list[str]) -> LabelledMessage:
    return LabelledMessage(id=mid, text="…", labels=labels, severity=2 if labels else 0, split="train", source="team")


@pytest.mark.parametrize("labels, shares, expected", [
    (["demand"], [0, 2 / 3, 0, 0], [0, 2 / 3, 0, 0]),
    ([], [0, 1 / 3, 0, 0], [0, 1 / 3, 0, 0]),
    (["demand"], None, [0, 1, 0, 0]),                         # no labellings: the labels
    (["demand", "other_harassment"], [0, 1, 0, 0], [0, 1, 0, 1]),  # a label the rules added stands
    ([], [1, 0, 0, 0], [0, 0, 0, 0]),                          # a share never outvotes the corpus label
])
def test_targets_follow_the_shares_but_never_contradict_the_labels(labels, shares, expected):
    table = {} if shares is None else {"m": shares}
    assert shares_for([_msg("m", labels)], table) == [pytest.approx(expected)]


def test_the_bundled_corpus_labels_are_the_majority_of_its_labellings():
    """The agreement files and the corpus tell the same story: a share above one half is a label."""
    shares = vote_shares(DATA_DIR)
    team = [m for m in load_messages(public=False) if m.split != "blind"]
    assert len(shares) >= len(team) - 100  # every relabelled team message bar a few is covered
    disagree = [m.id for m in team if m.id in shares
                and [s > 0.5 for s in shares[m.id]] != [bool(v) for v in m.label_vector]]
    assert disagree == []
    assert any(0 < s < 1 for m in team for s in shares.get(m.id, []))


def test_soft_targets_make_the_model_less_sure_of_disputed_labels(tmp_path, tiny_bert_dir, tiny_messages):
    """Trained on shares of 2/3 for its abuse messages, a model scores them lower than one trained on 1."""
    pytest.importorskip("torch")
    from kasuhara_nlp.bert_train import fine_tune, predict_logits
    from kasuhara_nlp.train import TrainConfig

    # The train split ten times over, so that the tiny model learns what it is taught in one epoch.
    many = [m for m in tiny_messages if m.split != "train"]
    many += [replace(m, id=f"{m.id}-{k}") for k in range(10) for m in tiny_messages if m.split == "train"]
    abuse = [m.id for m in many if m.labels == ["abuse"] and m.split == "train"]
    rows = {i: ["abuse"] for i in abuse}
    agreement = tmp_path / "data" / "agreement"
    write_jsonl(agreement / "wave1_original_labels.jsonl", _labelling(rows))
    write_jsonl(agreement / "wave1_relabel.jsonl", _labelling(rows))
    write_jsonl(agreement / "wave1_adjudication.jsonl", _labelling({i: [] for i in abuse}))
    hard = TrainConfig(model="bert", base=str(tiny_bert_dir), epochs=1, batch_size=16, learning_rate=2e-3,
                       max_length=32, stride=8, freeze_embeddings=False)
    texts = sorted({m.text for m in many if m.id in abuse})
    scores = []
    for cfg in (hard, replace(hard, vote_dir=str(tmp_path / "data"))):
        model, tokenizer, _ = fine_tune(cfg, many)
        scores.append(float(predict_logits(model, tokenizer, texts, cfg, "cpu")[:, 0].mean()))
    # Same seed, same batches: only the targets differ (ignoring the shares would give equal scores).
    assert scores[1] < scores[0] - 0.1, scores


def test_soft_labels_without_labellings_is_an_error_that_says_where_to_look(tmp_path, tiny_bert_dir, tiny_messages):
    pytest.importorskip("torch")
    from kasuhara_nlp.bert_train import fine_tune
    from kasuhara_nlp.errors import ConfigError
    from kasuhara_nlp.train import TrainConfig

    cfg = TrainConfig(model="bert", base=str(tiny_bert_dir), epochs=1, max_length=32, stride=8,
                      vote_dir=str(tmp_path))
    with pytest.raises(ConfigError, match="agreement"):
        fine_tune(cfg, tiny_messages)
