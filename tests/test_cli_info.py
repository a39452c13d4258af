"""`kasuhara info`'s content: versions of the package, dictionary, model and runtime, even when the model is broken."""

import shutil

from kasuhara_nlp import __version__
from kasuhara_nlp.about import CARD_SUMMARY_CHARS, about
from kasuhara_nlp.config import CARD_NAME


def test_about_names_package_dictionary_and_model(baseline_dir):
    info = about(baseline_dir)
    assert info["kasuhara_nlp"] == __version__ and info["dictionary"] == "unidic-lite"
    assert info["model"] == "kasuhara-baseline" and info["path"] == str(baseline_dir)
    assert "model_error" not in info and "onnxruntime" not in info  # the baseline needs no ONNX Runtime


def test_about_reports_the_runtime_of_an_onnx_bert(tiny_classifier_dir):
    info = about(tiny_classifier_dir)
    assert info["backend"] == "bert-onnx" and info["onnxruntime"] and info["tokenizers"]


def test_about_quotes_the_first_paragraph_of_the_model_card(tmp_path, baseline_dir):
    folder = tmp_path / "model"
    shutil.copytree(baseline_dir, folder)
    (folder / CARD_NAME).write_text("# Model card\n\nkasuhara-baseline, trained on waves 1-2.\n\n## Metrics\n\nx",
                                    encoding="utf-8")
    assert about(folder)["card"] == "kasuhara-baseline, trained on waves 1-2."
    (folder / CARD_NAME).write_text("# Model card\n\n" + "長" * 1000, encoding="utf-8")
    assert about(folder)["card"] == "長" * CARD_SUMMARY_CHARS


def test_a_model_that_cannot_load_is_reported_with_the_other_versions(tmp_path):
    info = about(tmp_path)
    assert "not a kasuhara model folder" in info["model_error"]
    assert info["kasuhara_nlp"] == __version__ and info["dictionary"] == "unidic-lite" and "model" not in info
