"""A plain install must not need torch: scanning runs on ONNX Runtime or scikit-learn."""

import subprocess
import sys
from importlib.metadata import requires

import pytest


def test_torch_is_only_in_the_train_extra():
    reqs = requires("kasuhara-nlp") or []
    torch = [r for r in reqs if r.startswith("torch")]
    assert torch and all('extra == "train"' in r for r in torch)
    assert any(r.startswith("torch==2.13.0") for r in torch)  # the CPU build, not a CUDA one
    assert not [r for r in reqs if r.startswith(("transformers", "datasets")) and "extra" not in r]


SCRIPT = """
import sys, json
from kasuhara_nlp import KasuharaClassifier
clf = KasuharaClassifier.from_pretrained(sys.argv[1])
p = clf.predict(["土下座して謝れ。", "ありがとうございます"])
import kasuhara_nlp.scan  # the scan path too
print(json.dumps({"torch": "torch" in sys.modules, "transformers": "transformers" in sys.modules}))
"""


@pytest.mark.parametrize("which", ["baseline", "bert"])
def test_scoring_never_imports_torch(which, baseline_dir, request):
    folder = baseline_dir if which == "baseline" else request.getfixturevalue("tiny_classifier_dir")
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(folder)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith('{"torch": false, "transformers": false}')
