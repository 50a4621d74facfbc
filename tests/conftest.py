"""Small real training runs, trained once per test session and shared by the plot and widget tests.

Each fixture returns {"baseline": FitResult, "with PS": FitResult}: the same preset and seed, without and with
Proxy Synthesis. Treat the runs as read-only (they are shared between test files).

The slowest work runs once per session as well: `psviz demo` at a test size (`demo_output`), and each notebook. A
notebook is executed by tests/test_browser.py (Run All Cells in JupyterLab, which it needs for its sliders and
widgets); that test saves the executed notebook into `notebook_runs`, and tests/test_notebooks.py checks the saved
outputs instead of running it again. Where the browser tests skip or are deselected, test_notebooks.py executes the
notebook itself with nbclient. tests/test_suite_layout.py holds the suite to this.
"""

from contextlib import contextmanager

import pytest
import torch

from psviz.base.names import ARMS
from psviz.train import fit, preset


@contextmanager
def _one_thread():
    """Train these tiny models on one thread: on a busy 2-core machine two spinning OpenMP threads made a 0.3 s
    run take 30 s. The previous setting is restored, so the rest of the session is unaffected."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _pair(name: str, **changes) -> dict:
    with _one_thread():
        return {run: fit(preset(name, ps=ps, seed=0, **changes), progress=False) for run, ps in ARMS}


@pytest.fixture(scope="session")
def toy_runs():
    """The toy as it was, on the circle: 2-D inputs, 4 seen / 4 unseen classes, a 2-D embedding, 30 epochs."""
    return _pair("toy", dataset_options={"n_classes": 8}, embedding_dim=2, epochs=30, eval_every=5)


@pytest.fixture(scope="session")
def toy3_runs():
    """The toy preset as it is (inputs and a 3-D embedding on the sphere), 30 epochs."""
    return _pair("toy", epochs=30, eval_every=5)


@pytest.fixture(scope="session")
def digits_runs():
    """Digits preset, 3 epochs, evaluated every epoch on unseen and seen classes: 64-D inputs, 32-D embedding."""
    return _pair("digits", epochs=3, eval_every=1, eval_seen=True)


# notebook stem -> that notebook's JSON as JupyterLab saved it right after Run All Cells (tests/test_browser.py)
NOTEBOOK_RUNS: dict = {}


@pytest.fixture(scope="session")
def notebook_runs() -> dict:
    """The notebooks this session has already executed top to bottom in fast mode: stem -> the saved .ipynb text."""
    return NOTEBOOK_RUNS


def pytest_collection_modifyitems(config, items):
    """The nbclient notebook tests after the browser tests, whatever the order asked for: they check the browser's
    run of a notebook when there is one, rather than execute it a second time."""
    later = [item for item in items if item.get_closest_marker("notebook")]
    if later and any(item.get_closest_marker("browser") for item in items):
        items[:] = [item for item in items if item not in later] + later


@pytest.fixture(scope="session")
def demo_output(tmp_path_factory):
    """`psviz demo` at a test size (2 toy seeds, a 1-epoch glyphs pair, a 12-class explorer): (folder, stdout).
    The one run of the demo's default path per session: every test that reads what the demo writes shares it."""
    import io
    from contextlib import redirect_stdout

    from psviz.apps.cli import main

    folder = tmp_path_factory.mktemp("demo")
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["demo", "--output-dir", str(folder), "--seeds", "2", "--epochs", "1", "--no-progress",
                     "--umap-points", "300", "--explorer-classes", "12"])
    assert code == 0
    return folder, out.getvalue()
