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


# -- thresholds files as Notepad and the tuning notebook write them; labels as analysts type them ----------

@pytest.mark.parametrize("encoding, bom", [("utf-8", True), ("utf-8", False)])
def test_thresholds_file_may_start_with_a_bom(tmp_path, encoding, bom):
    p = tmp_path / "t.json"
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + '{"thresholds": {"abuse": 0.7}, "note": "調整①"}'.encode(encoding))
    assert load_thresholds(p) == {"abuse": 0.7}


def test_thresholds_file_in_cp932_names_the_encoding(tmp_path):
    p = tmp_path / "t.json"
    p.write_bytes('{"thresholds": {"abuse": 0.7}, "note": "調整"}'.encode("cp932"))
    with pytest.raises(ConfigError, match="CP932.*UTF-8"):
        load_thresholds(p)


@pytest.mark.parametrize("content, message", [
    ("{}", "names no category"),
    ('{"thresholds": {}}', "names no category"),
    ('{"thresholds": {}, "note": "x"}', "names no category"),
    ('{"thresholds": {"abuse": 0.9}, "abuse": 0.1}', r"'abuse' beside 'thresholds'"),
    ('{"thresholds": {"abuse": 0.9}, "colour": "red"}', r"unknown key\(s\) \['colour'\]"),
    ('{"thresholds": 0.5}', "must hold a JSON object"),
])
def test_thresholds_files_that_are_probably_mistakes_are_refused(tmp_path, content, message):
    p = tmp_path / "t.json"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_thresholds(p)


def test_thresholds_file_for_another_model_warns(tmp_path):
    from kasuhara_nlp.tuning import write_thresholds

    p = write_thresholds(tmp_path / "t.json", {"abuse": 0.7}, model="kasuhara-bert-ja 1.5.0")
    with pytest.warns(UserWarning, match="kasuhara-bert-ja 1.5.0.*kasuhara-baseline 0.1.0"):
        assert load_thresholds(p, model="kasuhara-baseline 0.1.0") == {"abuse": 0.7}
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_thresholds(p, model="kasuhara-bert-ja 1.5.0") == {"abuse": 0.7}
        assert load_thresholds(p) == {"abuse": 0.7}


@pytest.mark.parametrize("labels, message", [
    ("restraint", r'labels must be a list of category ids, e.g. \["abuse"\], not the string \'restraint\''),
    (["暴力・暴言"], "use 'abuse' for '暴力・暴言'"),
    (["過剰または不合理な要求"], "use 'demand' for '過剰または不合理な要求'"),
    (["Demand", "Restraint"], "use 'demand' for 'Demand', 'restraint' for 'Restraint'"),
    (["Other harassment"], "use 'other_harassment' for 'Other harassment'"),
    (["nope"], r"unknown label\(s\) \['nope'\]; expected ids from abuse"),
])
def test_label_mistakes_get_a_hint(labels, message):
    with pytest.raises(LabelError, match=message):
        validate_labels(labels, 2)
