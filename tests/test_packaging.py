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


def test_the_short_public_names_import_as_the_grouped_modules_themselves():
    """``import psviz.losses`` and ``from psviz.synthesis import ...`` work and give the very objects of the folders
    that hold them (one class, not a second copy), in a fresh process."""
    import subprocess
    import sys

    script = """
import importlib, psviz
from psviz.losses import ProxyAnchorLoss
from psviz.losses.proxy_anchor import ProxyAnchorLoss as again
from psviz.synthesis import proxy_synthesis
import psviz.reproduce
real = importlib.import_module("psviz.method.losses.proxy_anchor")
assert ProxyAnchorLoss is again is real.ProxyAnchorLoss
assert proxy_synthesis is psviz.proxy_synthesis
assert psviz.reproduce is importlib.import_module("psviz.apps.reproduce")
assert psviz.losses.__spec__.name == "psviz.method.losses"
for name in psviz._MODULES:
    assert importlib.import_module("psviz." + name) is getattr(psviz, name)
try:
    import psviz.nothing
except ModuleNotFoundError:
    print("ok")
"""
    done = subprocess.run([sys.executable, "-W", "error", "-c", script], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


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
