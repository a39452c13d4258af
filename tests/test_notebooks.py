"""The analyst notebooks: committed without outputs, library calls only, and they run top to bottom on
the bundled sample (in a temporary copy, no network)."""

from __future__ import annotations

import ast
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
NAMES = [p.name for p in NOTEBOOKS]


def test_both_notebooks_are_there() -> None:
    assert NAMES == ["01_review_flagged.ipynb", "02_evaluate_and_tune.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_committed_notebooks_carry_no_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, \
                f"{path.name} has outputs: jupyter nbconvert --clear-output --inplace {path.name}"
    assert "widgets" not in nb.metadata


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebooks_are_parameterised_and_define_no_logic(path: Path) -> None:
    code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "the first code cell must be the parameters cell"
    logic = (ast.FunctionDef, ast.ClassDef, ast.Lambda, ast.For, ast.While, ast.If, ast.comprehension, ast.With)
    for cell in code:
        source = "\n".join(line for line in cell.source.splitlines() if not line.startswith("%"))
        found = [type(node).__name__ for node in ast.walk(ast.parse(source)) if isinstance(node, logic)]
        assert not found, f"{path.name}: move the logic ({', '.join(found)}) into kasuhara_nlp"


@pytest.fixture(scope="module")
def notebook_copy(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("nb") / "notebooks"
    shutil.copytree(REPO / "notebooks", folder, ignore=shutil.ignore_patterns("out", ".ipynb_checkpoints"))
    return folder


def _run_cells(notebook_copy: Path, monkeypatch, cells: list) -> list:
    """Run ``cells`` as a notebook in the temporary copy's folder; their outputs."""
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    # The kernel must be this Python (a user-level "python3" kernelspec could name another one: JUPYTER_PATH
    # comes first), and it must import this checkout even when it runs from the temporary copy.
    spec = notebook_copy.parent / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (tests)", "language": "python"}), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(notebook_copy.parent / "jupyter"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.v4.new_notebook(cells=cells)
    nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(notebook_copy)}}).execute()
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_runs_on_the_sample(path: Path, notebook_copy: Path, monkeypatch) -> None:
    outputs = _run_cells(notebook_copy, monkeypatch, nbformat.read(notebook_copy / path.name, as_version=4).cells)
    assert not [o for o in outputs if o.output_type == "error"]
    stderr = "".join(o.get("text", "") for o in outputs if o.output_type == "stream" and o.name == "stderr")
    assert "missing from font" not in stderr and "JapaneseFontWarning" not in stderr
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3
    out = notebook_copy / "out"
    if path.name.startswith("01"):
        assert any("kh-card" in o.get("data", {}).get("text/html", "") for o in outputs)
        records = [json.loads(line) for line in (out / "feedback-training.jsonl").read_text(encoding="utf-8")
                   .splitlines()]
        assert len(records) == 3 and {r["source"] for r in records} == {"analyst_feedback"}
        assert {r["provenance"]["decision"] for r in records} == {"agree", "wrong_category", "not_harassment"}
    else:
        from kasuhara_nlp.config import load_thresholds

        assert set(load_thresholds(out / "thresholds.json")) == {"abuse", "demand", "restraint", "other_harassment"}


@pytest.mark.parametrize("override, expected, absent", [
    # The sample has 15 flagged messages: pages 1-3 of 5, counted from 1 as people count them.
    ("FILTER_CHANNELS = None\nPAGE = 1", "ページ 1 / 3", "ページ 0"),
    ("FILTER_CHANNELS = None\nPAGE = 3", "ページ 3 / 3", "ページ 2 /"),
    # Nothing matches: say so (it showed "ページ 0 / -1").
    ('FILTER_CHANNELS = ["fax"]', "該当するメッセージはありません", "-1"),
], ids=["first-page", "last-page", "nothing-matches"])
def test_review_page_title(notebook_copy: Path, monkeypatch, override: str, expected: str, absent: str) -> None:
    cells = nbformat.read(notebook_copy / "01_review_flagged.ipynb", as_version=4).cells
    code = [c for c in cells if c.cell_type == "code"]
    # Parameters, the user's override (as papermill injects it), then every cell up to the page shown.
    shown = next(i for i, c in enumerate(code) if "render_samples(" in c.source)
    run = [code[0], nbformat.v4.new_code_cell(override), *code[1:shown + 1]]
    outputs = _run_cells(notebook_copy, monkeypatch, run)
    assert not [o for o in outputs if o.output_type == "error"], [o.get("evalue") for o in outputs]
    page_html = outputs[-1]["data"]["text/html"]
    assert expected in page_html and absent not in page_html.split("凡例")[0]


def test_the_example_decisions_are_not_recorded_on_your_own_results(notebook_copy: Path, monkeypatch) -> None:
    # Run All on another results file used to write the sample's example decisions into the analyst's audit log
    # (a death threat recorded as not_harassment, a polite message as severity 3).
    shutil.copy(notebook_copy / "sample" / "scan-results.jsonl", notebook_copy / "sample" / "mine.jsonl")
    cells = [c for c in nbformat.read(notebook_copy / "01_review_flagged.ipynb", as_version=4).cells
             if c.cell_type == "code"]
    override = nbformat.v4.new_code_cell('RESULTS = "sample/mine.jsonl"\nFILTER_CHANNELS = None\n'
                                         'CORRECTIONS = "out/mine-corrections.jsonl"\nTRAINING_OUT = "out/mine.jsonl"')
    outputs = _run_cells(notebook_copy, monkeypatch, [cells[0], override, *cells[1:]])
    assert not [o for o in outputs if o.output_type == "error"], [o.get("evalue") for o in outputs]
    log = notebook_copy / "out" / "mine-corrections.jsonl"
    assert not log.exists() or not log.read_text(encoding="utf-8").strip()
