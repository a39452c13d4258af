import json

import pytest

from kasuhara_nlp.config import ModelConfig, load_thresholds
from kasuhara_nlp.errors import ConfigError
from kasuhara_nlp.labels import CATEGORIES, display_name, validate_labels
from kasuhara_nlp.errors import LabelError


def test_category_ids_are_the_public_contract():
    assert CATEGORIES == ("abuse", "demand", "restraint", "other_harassment")
    assert display_name("restraint") == "合理的範囲を超える時間的・場所的拘束"
    assert display_name("other_harassment", "en") == "Other harassment"


@pytest.mark.parametrize("labels,severity", [(["abuse"], 0), ([], 2), (["nope"], 1), (["abuse"], 4)])
def test_inconsistent_labels_are_rejected(labels, severity):
    with pytest.raises(LabelError):
        validate_labels(labels, severity)


def test_config_round_trip(tmp_path):
    cfg = ModelConfig(backend="bert-onnx", name="m", version="1", max_length=64, stride=16,
                      thresholds={"abuse": 0.6, "demand": 0.5, "restraint": 0.4, "other_harassment": 0.7})
    cfg.save(tmp_path)
    assert ModelConfig.load(tmp_path) == cfg


@pytest.mark.parametrize("kwargs,message", [
    ({"backend": "svm"}, "backend"),
    ({"thresholds": {"abuse": 1.5, "demand": 0.5, "restraint": 0.5, "other_harassment": 0.5}}, "abuse"),
    ({"thresholds": {"abuse": 0.5}}, "every category"),
    ({"thresholds": {"abuse": 0.5, "demand": 0.5, "restraint": 0.5, "other_harassment": 0.5, "x": 0.5}}, "unknown"),
    ({"max_length": 4}, "max_length"),
    ({"stride": 100}, "stride"),
])
def test_invalid_config_names_the_key(kwargs, message):
    base = {"backend": "baseline", "name": "m", "version": "1"}
    with pytest.raises(ConfigError, match=message):
        ModelConfig(**{**base, **kwargs})


def test_unknown_key_in_saved_config(tmp_path):
    (tmp_path / "kasuhara_config.json").write_text(json.dumps({"backend": "baseline", "name": "m",
                                                               "version": "1", "colour": "red"}))
    with pytest.raises(ConfigError, match="colour"):
        ModelConfig.load(tmp_path)


def test_thresholds_file_formats(tmp_path):
    p = tmp_path / "t.json"
    p.write_text('{"thresholds": {"demand": 0.8}}')
    assert load_thresholds(p) == {"demand": 0.8}
    p.write_text('{"abuse": 0}')
    with pytest.raises(ConfigError, match="abuse"):
        load_thresholds(p)
    p.write_text("not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_thresholds(p)
    with pytest.raises(ConfigError, match="not found"):
        load_thresholds(tmp_path / "missing.json")
