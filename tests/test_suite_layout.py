"""The suite does its slowest work once: each notebook is executed by one test per session, and `psviz demo`'s
default path runs once (the `demo_output` fixture) for every test that reads what it writes. `make test-fast` is
the quick loop (no slow, notebook or browser test); `make test` stays the whole suite."""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

import conftest
import test_notebooks

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SOURCES = {path.name: path.read_text() for path in sorted(TESTS.glob("*.py")) if path.name != Path(__file__).name}

# What executes a notebook: nbclient, nbconvert's preprocessor or command line, papermill, or JupyterLab's menu.
EXECUTES_A_NOTEBOOK = re.compile(r"NotebookClient\(|ExecutePreprocessor\(|[\"']--execute[\"']|papermill\.|"
                                 r"execute_notebook\(|has_text=[\"']Run All Cells")
# What runs `psviz demo`: the command line in this process or in a child.
RUNS_THE_DEMO = re.compile(r"""\[\s*["']demo["'],|["']psviz["'],\s*["']demo["']""")


def _places(pattern: re.Pattern) -> set[str]:
    return {name for name, text in SOURCES.items() if pattern.search(text)}


def test_notebooks_are_executed_in_two_places_that_share_one_run():
    """JupyterLab's Run All Cells (test_browser.py) and nbclient (test_notebooks.py, only for a notebook the browser
    did not run this session): a third place would execute the notebooks again."""
    assert _places(EXECUTES_A_NOTEBOOK) == {"test_browser.py", "test_notebooks.py"}, \
        "a new test executes a notebook: check the run in conftest.notebook_runs instead of running it again"
    browser = SOURCES["test_browser.py"]
    runs, recorded = browser.count("_run_all(page)\n"), browser.count("_record_run(page, lab, name, notebook_runs)")
    assert runs > 0 and runs == recorded, "every Run All Cells in test_browser.py hands its run to notebook_runs"


def test_the_nbclient_test_checks_the_browser_run_rather_than_run_the_notebook_again(tmp_path, monkeypatch):
    path = test_notebooks.NOTEBOOKS[0]
    saved = path.read_text()

    def run_again(*_):
        raise AssertionError("executed a notebook the browser test had already run")

    monkeypatch.setattr(test_notebooks, "_run", run_again)
    notebook = test_notebooks._executed(path, tmp_path, {path.stem: saved})
    assert len(notebook.cells) == len(test_notebooks.nbformat.reads(saved, as_version=4).cells)
    with pytest.raises(AssertionError, match="already run"):  # a notebook the browser did not run: nbclient runs it
        test_notebooks._executed(path, tmp_path, {})


def test_the_nbclient_notebook_tests_are_ordered_after_the_browser_tests():
    def item(*markers):
        return SimpleNamespace(markers=markers, get_closest_marker=lambda name: name if name in markers else None)

    notebook, browser, plain = item("notebook", "slow"), item("browser"), item()
    items = [notebook, plain, browser]
    conftest.pytest_collection_modifyitems(None, items)
    assert items == [plain, browser, notebook]
    alone = [notebook, plain]  # no browser test in the session: the order is left as it was
    conftest.pytest_collection_modifyitems(None, alone)
    assert alone == [notebook, plain]


def test_the_demo_runs_once_at_test_size_and_elsewhere_only_for_other_scenarios():
    """Every test that reads the demo's output takes `demo_output`; the other runs each test something that run
    cannot show."""
    others = {
        "conftest.py": "the shared `demo_output` fixture: the one run of the demo's default path",
        "test_cli.py": "--workers 1 --no-figures, compared with demo_output's table: the same bits on one worker",
        "test_reliability_round2.py": "Ctrl-C in a session of its own, at three points of the run",
        "test_cli_bad_input.py": "--workers 0: rejected before anything trains",
    }
    assert _places(RUNS_THE_DEMO) == set(others), \
        "a new test runs `psviz demo`: take the session's run from the demo_output fixture instead"
    assert SOURCES["conftest.py"].count('main(["demo"') == 1 and SOURCES["test_cli.py"].count('main(["demo"') == 1


def test_make_test_fast_is_the_quick_loop_and_make_test_the_whole_suite():
    makefile = (ROOT / "Makefile").read_text()
    fast = re.search(r"^test-fast:.*\n\t(.*)$", makefile, re.M).group(1)
    assert '-m "not slow and not browser"' in fast and "test-fast" in makefile.split("\n.PHONY:")[1].split("\n")[0]
    assert re.search(r"^test:.*\n\t\$\(BIN\)/python -m pytest$", makefile, re.M), "make test runs every test"
    # the notebooks' own tests are slow: the quick loop never starts a kernel
    assert "@pytest.mark.slow\n@pytest.mark.notebook" in SOURCES["test_notebooks.py"]
