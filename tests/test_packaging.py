"""pyproject.toml and environment.yml agree; the public API is importable from `psviz`."""

import re
import tomllib
from pathlib import Path

import yaml

import psviz

ROOT = Path(__file__).resolve().parents[1]


def requirement_map(requirements):
    """{normalised name: version specifier} from PEP 508 strings."""
    out = {}
    for requirement in requirements:
        match = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(\[[^\]]*\])?\s*(.*)", requirement)
        out[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(3).replace(" ", "")
    return out


def test_environment_yml_and_pyproject_list_the_same_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    pip_requirements = [r for r in pip_section if not r.startswith("-")]
    assert requirement_map(project["dependencies"]) == requirement_map(pip_requirements)
    assert any(r.startswith("-e .") for r in pip_section), "environment.yml must install psviz itself"
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python.replace("python", "") == project["requires-python"]


def test_the_brief_dependencies_are_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = set(requirement_map(project["dependencies"]))
    assert {"torch", "torchvision", "jupyterlab", "ipywidgets", "matplotlib", "umap-learn", "plotly",
            "faiss-cpu"} <= names


def test_public_api():
    for name in ["proxy_synthesis", "ProxySynthesis", "SynthesisResult", "losses"]:
        assert hasattr(psviz, name)
    for name in psviz.__all__:
        assert getattr(psviz, name) is not None
    assert psviz.losses.create("norm_softmax", 3, 4).proxies.shape == (3, 4)


def test_files_read_at_run_time_are_package_data():
    """The explorer's script parts and style are read from the installed package: a wheel must carry them."""
    import fnmatch
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    folder = ROOT / "psviz" / "viz" / "explore"
    assets = [p.name for p in folder.iterdir() if p.is_file() and p.suffix not in (".py", ".pyc")]
    from psviz.viz.explore.page import SCRIPT_PARTS

    assert {*SCRIPT_PARTS, "explorer.css"} <= set(assets)
    patterns = config["psviz.viz.explore"]
    assert all(any(fnmatch.fnmatch(name, pattern) for pattern in patterns) for name in assets)
