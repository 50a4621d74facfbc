"""The notebooks are committed clean (no outputs), and each runs top to bottom in fast mode without an error cell.

Each notebook is executed once per session: where tests/test_browser.py ran it in JupyterLab (Run All Cells), the
fast-mode test checks the notebook as JupyterLab saved it then; otherwise (no browser, or browser tests deselected)
it executes the notebook here with nbclient. See `notebook_runs` in conftest.py.
"""

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = ["01_what_proxy_synthesis_does", "02_decision_boundaries", "03_seen_vs_unseen", "04_ablation_alpha_mu",
            "05_full_models_on_gpu", "06_proxy_synthesis_with_pml"]


def _ids(path: Path) -> str:
    return path.stem


def test_every_notebook_is_there():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_is_committed_without_outputs(path):
    notebook = json.loads(path.read_text())
    dirty = [i for i, cell in enumerate(notebook["cells"]) if cell["cell_type"] == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, (f"{path.name}: cells {dirty} carry outputs or execution counts; clear them with "
                       f"`jupyter nbconvert --clear-output --inplace {path.relative_to(NOTEBOOK_DIR.parent)}`")
    assert "widgets" not in notebook["metadata"], f"{path.name} carries saved widget state: clear it before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_is_shaped_for_readers(path):
    """A kernel named (JupyterLab would ask otherwise), a fast-mode switch, an opening and an ending for the reader."""
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    cells = notebook.cells
    assert cells[0].cell_type == "markdown" and "What you will learn" in cells[0].source
    assert cells[-1].cell_type == "markdown" and "Things to try" in cells[-1].source
    settings = next(c for c in cells if c.cell_type == "code")
    assert 'os.environ.get("PSVIZ_FAST") == "1"' in settings.source


def _run(path: Path, workdir: Path) -> nbformat.NotebookNode:
    """Execute a copy of ``path`` in ``workdir`` (so files it writes land there); a failing cell raises."""
    copy = Path(shutil.copy(path, workdir / path.name))
    notebook = nbformat.read(copy, as_version=4)
    NotebookClient(notebook, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return notebook


def _executed(path: Path, workdir: Path, notebook_runs: dict) -> nbformat.NotebookNode:
    """The notebook run top to bottom in fast mode: this session's JupyterLab run of it if there was one, else a run
    here with nbclient."""
    if path.stem in notebook_runs:
        print(f"{path.name}: checking the run tests/test_browser.py made in JupyterLab")
        return nbformat.reads(notebook_runs[path.stem], as_version=4)
    return _run(path, workdir)


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_runs_in_fast_mode(path, tmp_path, monkeypatch, notebook_runs):
    monkeypatch.setenv("PSVIZ_FAST", "1")  # the kernel inherits this environment
    notebook = _executed(path, tmp_path, notebook_runs)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "not every code cell ran"
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    streams = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "Traceback (most recent call last)" not in streams
    shown = [o for o in outputs if o.output_type in ("display_data", "execute_result")]
    assert shown, f"{path.name} showed nothing (no figure, table or widget)"
