"""The documentation site builds strictly (`make docs`), holds what it should, and fails on a broken link.

Each build runs `mkdocs build --strict` in a subprocess into a temporary folder: a few seconds each. The tests skip
where the `docs` extra (mkdocs-material, mkdocstrings[python], mkdocs-jupyter) is not installed.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NEEDED = ("mkdocs", "material", "mkdocstrings_handlers.python", "mkdocs_jupyter")


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a missing parent package
        return False


pytestmark = [pytest.mark.skipif(not all(map(_installed, NEEDED)),
                                 reason="the docs extra is not installed (pip install -e '.[docs]')"),
              pytest.mark.slow]  # every test here needs a build of the whole site


def build(root: Path, site: Path) -> subprocess.CompletedProcess:
    """`mkdocs build --strict` of the site whose mkdocs.yml is in ``root``, into ``site``."""
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                          cwd=root, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    done = build(ROOT, folder)
    assert done.returncode == 0, done.stderr[-4000:]
    return folder


def page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text(encoding="utf-8")


def test_the_api_pages_are_generated_from_the_docstrings(site):
    losses = page(site, "api/losses")
    for name in ("NormSoftmaxLoss", "ProxyAnchorLoss", "SoftTripleLoss", "create"):
        assert f'id="psviz.method.losses.{name}"' in losses, name
    assert 'id="psviz.method.synthesis.ProxySynthesis"' in page(site, "api/psviz")
    assert 'id="psviz.integrations.pml.with_proxy_synthesis"' in page(site, "api/pml")
    # members follow __all__: a helper the module does not export stays out
    assert 'id="psviz.integrations.pml.class_rows"' not in page(site, "api/pml")
    for module in ("data", "models", "train", "evaluate", "analysis", "viz", "widgets", "apps.playground",
                   "apps.reproduce"):
        assert f'id="psviz.{module}.' in page(site, f"api/{module.split('.')[-1]}"), module


def test_the_guide_the_reports_and_the_notebooks_are_pages(site):
    for guide in ("proxy-synthesis", "losses", "data", "models", "training", "evaluation", "figures", "explorer",
                  "pml", "reproduction", "gpu", "notebooks", "development"):
        assert (site / "guide" / guide / "index.html").is_file(), guide
    assert "Proxy Synthesis in your own training loop" in page(site, "guide/proxy-synthesis")
    assert "bench_evaluate.py" in page(site, "guide/benchmarks")  # benchmarks/README.md, included
    for report in ("RESULTS", "PREREGISTRATION", "ARCHITECTURE"):
        assert (site / report / "index.html").is_file(), report
    assert (site / "images" / "reproduce_ablation.png").is_file()  # RESULTS.md's figures come along
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert (site / "notebooks" / notebook.stem / "index.html").is_file(), notebook.name
    assert not list(site.rglob("*.py")), "scripts in docs/ are not part of the site"


def test_a_broken_link_or_anchor_fails_the_strict_build(tmp_path):
    """In a copy of the site's sources: a link to a missing page and one to a missing heading each fail the build;
    a link out of docs/ to a file of the repository does not (the hook writes it as a path)."""
    copy = tmp_path / "repo"
    copy.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", copy)
    for folder in ("docs", "notebooks", "psviz"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (copy / "benchmarks").mkdir()
    shutil.copy(ROOT / "benchmarks" / "README.md", copy / "benchmarks")
    shutil.copy(ROOT / "pyproject.toml", copy)
    guide = copy / "docs" / "guide" / "losses.md"
    guide.write_text(guide.read_text(encoding="utf-8") + "\n[gone](no-such-page.md), [a heading](data.md#no-such-"
                     "heading) and [the project file](../../pyproject.toml)\n", encoding="utf-8")

    done = build(copy, tmp_path / "site")

    assert done.returncode != 0
    assert "no-such-page.md" in done.stderr
    assert "no-such-heading" in done.stderr
    assert "pyproject.toml" not in done.stderr
