"""scripts/gpu_train.py end to end on a CPU: pack, train teachers and a student, finish the model folder."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("gpu_train", ROOT / "scripts" / "gpu_train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gpu_train():
    return _script()


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory, tiny_bert_dir):
    """A 1-layer model sharing the tiny base's word embeddings, as the shipped student shares 1.0.0's."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from kasuhara_nlp.bert_train import _keep_layers

    folder = tmp_path_factory.mktemp("student")
    model = AutoModelForSequenceClassification.from_pretrained(tiny_bert_dir)
    _keep_layers(model, 1)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_bert_dir).save_pretrained(folder)
    return folder


def test_pack_keeps_embeddings_exact_and_layers_within_int8_rounding(gpu_train, tmp_path, tiny_bert_dir, student_dir,
                                                                      tiny_messages):
    from safetensors.torch import load_file

    carry = tmp_path / "carry"
    gpu_train.pack(tiny_bert_dir, carry, student_dir, tiny_messages)
    for which, folder in (("teacher", tiny_bert_dir), ("student", student_dir)):
        original = load_file(folder / "model.safetensors")
        rebuilt = load_file(gpu_train.unpack(carry, which, tmp_path / which) / "model.safetensors")
        assert original.keys() == rebuilt.keys()
        for name, t in original.items():
            error = (t.float() - rebuilt[name]).abs().max().item()
            if name.endswith(gpu_train.EMBED):
                assert error <= t.float().abs().max().item() * 2**-10  # fp16, exactly as it ships
            else:
                assert error <= t.float().abs().max().item() / 127 + 1e-3, name
    # Only train and dev travel.
    assert not (carry / "student" / "tokenizer.json").exists()  # the teacher's identical copy serves both
    sent = {json.loads(line)["split"] for line in __import__("gzip").open(carry / gpu_train.MESSAGES_FILE, "rt")}
    assert sent == {"train", "dev"}
    assert {m.split for m in tiny_messages} > sent


def test_a_student_must_share_the_teachers_word_embeddings(gpu_train, tmp_path, tiny_bert_dir, tiny_messages):
    import torch
    from transformers import AutoModelForSequenceClassification

    other = AutoModelForSequenceClassification.from_pretrained(tiny_bert_dir)
    with torch.no_grad():
        other.base_model.embeddings.word_embeddings.weight.add_(0.5)
    other.save_pretrained(tmp_path / "other")
    with pytest.raises(SystemExit, match="different word embeddings"):
        gpu_train.pack(tiny_bert_dir, tmp_path / "carry", tmp_path / "other", tiny_messages)


def test_remote_then_finish_builds_a_model_folder_from_the_trained_student(gpu_train, tmp_path, tiny_bert_dir,
                                                                           student_dir, tiny_messages):
    from safetensors.torch import load_file

    from kasuhara_nlp import KasuharaClassifier

    carry, trained, out = tmp_path / "carry", tmp_path / "trained", tmp_path / "model"
    gpu_train.pack(tiny_bert_dir, carry, student_dir, tiny_messages)
    gpu_train.remote(carry, trained, [(1e-3, 1), (1e-3, 2)], epochs=2, student_lr=1e-3, student_epochs=2,
                     distill_weight=0.5, max_length=32, budget_minutes=5, student_minutes=1, device="cpu")
    run = json.loads((trained / gpu_train.RUN_FILE).read_text())
    assert len(run["teachers"]) == 2 and run["student"]["teachers"] == 2
    assert 0 <= run["ensemble_dev_pr_auc"] <= 1
    assert sorted(p.name for p in trained.glob("*.safetensors")) == ["student_0.safetensors", "teacher_0.safetensors"]

    gpu_train.finish(carry, trained, "student", out, "9.9.9", messages=tiny_messages)
    shipped = load_file(out / "model.safetensors")
    returned = load_file(trained / "student_0.safetensors")
    assert gpu_train.EMBED not in {gpu_train._bert_key(k) for k in returned}
    for name, t in returned.items():  # the folder carries the trained weights, not the packed start
        assert (shipped[name].float() - t.float()).abs().max().item() == 0.0, name
    clf = KasuharaClassifier.from_pretrained(out)
    assert clf.config.version == "9.9.9"
    assert clf.config.extra["gpu_run"]["teachers"][1]["seed"] == 2
    assert clf.predict("お世話になっております。注文の件です。").scores.keys() >= {"abuse"}
