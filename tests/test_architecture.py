"""The package's structure, as docs/ARCHITECTURE.md draws it: layers that import only downwards, viz that only draws,
no private names across subpackages, short functions, no repeated blocks, and a light `import psviz`."""

import ast
import itertools
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "psviz"
MODULES = sorted(PACKAGE.rglob("*.py"))

BASE = {"checks", "files", "imagenet", "names", "paper", "percent", "registry"}
# What each part of psviz may import from psviz (besides itself); docs/ARCHITECTURE.md draws the same.
MAY_IMPORT = {
    **{unit: BASE for unit in BASE},
    "synthesis": BASE,
    "losses": BASE | {"synthesis"},
    "data": BASE,
    "models": BASE,
    "evaluate": BASE,
    "integrations": BASE | {"synthesis", "losses"},
    "train": BASE | {"synthesis", "losses", "data", "models", "evaluate"},
    "analysis": BASE | {"synthesis", "losses", "data", "models", "evaluate", "train"},
    "viz": BASE | {"synthesis", "losses", "data", "models", "evaluate", "train", "analysis"},
    "widgets": BASE | {"synthesis", "losses", "data", "models", "evaluate", "train", "analysis", "viz"},
    "reproduce": BASE | {"synthesis", "losses", "data", "models", "evaluate", "train", "analysis", "viz"},
    "demo": BASE | {"synthesis", "losses", "data", "models", "evaluate", "train", "analysis", "viz", "reproduce"},
    "playground": BASE | {"synthesis", "losses", "data", "models", "evaluate", "train", "analysis", "viz"},
    "cli": BASE | {"synthesis", "losses", "data", "models", "evaluate", "train", "analysis", "viz", "reproduce", "demo",
                   "playground"},
    "__main__": {"cli"},
}


def test_the_folder_tree_is_the_documented_one():
    """psviz/ holds folders only (besides its `__init__` and `__main__`), one per line of ARCHITECTURE.md's tree, each
    with the layer the table gives its parts; the grouped layers' modules sit in their group's folder."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    drawn = {line.split("── ")[1].split("/")[0]: int(line.split("/")[1].split()[0])
             for line in text.splitlines() if line.startswith(("├── ", "└── "))}
    found = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert set(drawn) == found
    assert {p.name for p in PACKAGE.glob("*.py")} == {"__init__.py", "__main__.py"}
    table = {row.split("|")[2].strip(" `").split(".")[0]: int(row.split("|")[1]) for row in text.splitlines()
             if row.startswith("| ") and row.split("|")[1].strip().isdigit()}
    assert all(table[folder] == layer for folder, layer in drawn.items() if folder in table)
    parts_found = {_unit(_parts(p)) for p in MODULES} - {"__init__", "__main__"}
    assert {unit for unit in MAY_IMPORT if unit != "__main__"} == parts_found


def _parts(path: Path) -> tuple[str, ...]:
    return path.relative_to(PACKAGE).with_suffix("").parts


GROUPS = {"base", "method", "apps"}  # the folders that group a layer's parts (docs/ARCHITECTURE.md)


def _unit(parts: tuple[str, ...]) -> str:
    """The part a module belongs to: its subpackage or top-level module, inside a layer's group folder if any."""
    return parts[1] if parts[0] in GROUPS and len(parts) > 1 else parts[0]


def _imports(path: Path):
    """(target module parts, imported name, line) for every import of a psviz module in ``path``, those inside
    functions included."""
    yield from _source_imports(path.read_text(), _parts(path)[:-1])


def _source_imports(source: str, package: tuple[str, ...] = ()):
    """(target module parts, imported name, line) for every import of a psviz module in ``source``, relative ones
    read from ``package`` (the parts of the package the source is in)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] == "psviz"):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = node.module.split(".") if node.module else []
            target = (*base, *(module if node.level else module[1:]))
            for alias in node.names:
                yield target, alias.name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "psviz":
                    yield tuple(alias.name.split(".")[1:]), "", node.lineno


def _resolved(target: tuple[str, ...], name: str) -> tuple[str, ...]:
    """``from psviz.x import y`` imports module x.y when y is a module, else the name y of module x."""
    if name and ((PACKAGE.joinpath(*target, name)).is_dir() or PACKAGE.joinpath(*target, f"{name}.py").is_file()):
        return (*target, name)
    return target


def test_each_part_imports_only_the_layers_below_it():
    wrong = []
    for path in MODULES:
        unit = _unit(_parts(path))
        if unit == "__init__":
            continue
        for target, name, line in _imports(path):
            other = _unit(_resolved(target, name)) if target or name else None
            if other and other != unit and other not in MAY_IMPORT[unit]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} ({unit}) imports {other}")
    assert not wrong, "\n".join(wrong)


# reproduce's modules that draw figures and compute nothing: the only ones of reproduce that may import viz
DRAWING = {("apps", "reproduce", "figures")}


def test_the_reproduction_takes_no_numbers_from_the_pictures():
    """Statistics live in `analysis`: a reproduce module that computes (plans, stats, reports) imports nothing from
    viz; only the modules in `DRAWING` hand numbers to figures."""
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {'.'.join(module)}"
             for path in MODULES if _unit(_parts(path)) == "reproduce" and _parts(path) not in DRAWING
             for target, name, line in _imports(path)
             if (module := _resolved(target, name)) and _unit(module) == "viz"]
    wrong = sorted(set(wrong))
    assert not wrong, "\n".join(wrong)


DRAWING_LIBRARIES = {"plotly", "matplotlib", "mpl_toolkits", "anywidget"}
# The modules of viz that render without importing a drawing library, and why; every other one imports one.
RENDERS_WITHOUT = {
    ("viz", "__init__"): "the figure functions, gathered",
    ("viz", "_space"): "display geometry: region meshes cut along their boundaries, mixing paths, cameras",
    ("viz", "page"): "writes the demo's figures and tables into one HTML page",
    ("viz", "pair_figures"): "a report's figures, drawn by the modules that draw them, written to files",
    ("viz", "explore", "__init__"): "explorer(): the widget over analysis' explorer data",
    ("viz", "explore", "page"): "the explorer's page: its model (colours, packed arrays) and its offline HTML file",
}


def _libraries(path: Path) -> set[str]:
    """The top-level names of the libraries ``path`` imports, those inside functions included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_viz_only_draws():
    """`viz` draws and `analysis` computes: each module of viz imports plotly, matplotlib or anywidget, or is one of
    the few in `RENDERS_WITHOUT` (with the reason it renders without them), so maps, tables and scores that creep
    into viz fail here and belong in `analysis`."""
    viz = [path for path in MODULES if _unit(_parts(path)) == "viz"]
    wrong = [str(path.relative_to(ROOT)) for path in viz
             if _parts(path) not in RENDERS_WITHOUT and not _libraries(path) & DRAWING_LIBRARIES]
    assert not wrong, f"modules of viz that draw nothing (move their numbers to analysis): {wrong}"
    stale = sorted(".".join(parts) for parts in set(RENDERS_WITHOUT) - {_parts(path) for path in viz})
    assert not stale, f"RENDERS_WITHOUT names modules that are gone: {stale}"


DEMO_USERS = {"psviz/apps/cli.py"}  # the command that runs the demo; nothing else uses the app as a library


def _notebook_code(path: Path) -> str:
    """The code cells of a notebook as one source, IPython's magics and shell lines left out."""
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    lines = [line for cell in cells for line in "".join(cell["source"]).splitlines()
             if not line.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def test_nothing_uses_the_demo_as_a_library():
    """`psviz.apps.demo` is the app: its numbers and text come from `analysis` (and its stored settings from
    `reproduce.stored`), so psviz, the notebooks and the tests import those, never the demo."""
    sources = {**{path: path.read_text() for path in MODULES}, **{path: path.read_text() for path in
               sorted((ROOT / "tests").glob("*.py"))}, **{path: _notebook_code(path) for path in
               sorted((ROOT / "notebooks").glob("*.ipynb"))}}
    wrong = []
    for path, source in sources.items():
        package = _parts(path)[:-1] if path.is_relative_to(PACKAGE) else ()
        if str(path.relative_to(ROOT)) not in DEMO_USERS and any(
                _resolved(target, name) == ("apps", "demo") for target, name, _ in _source_imports(source, package)):
            wrong.append(str(path.relative_to(ROOT)))
    assert not wrong, f"import psviz.demo: {wrong}"


def _node(parts: tuple[str, ...]) -> str:
    """A module's name in the import graph: psviz.a.b for a/b.py, and a package by its own name (a/__init__.py is
    psviz.a)."""
    return ".".join(("psviz", *(parts[:-1] if parts[-1] == "__init__" else parts)))


def import_graph() -> dict[str, dict[str, int]]:
    """Module -> {module it imports: line}, from every import in psviz (those inside functions included).

    ``from pkg import x`` is an edge to pkg.x where x is a submodule, else to pkg itself (its ``__init__``). So a
    package's ``__init__`` re-exporting its submodules is no cycle by itself: it becomes one only where a submodule
    imports a name back from its package's ``__init__`` (``from . import name``), which works only by import order.
    The parent packages Python runs before a submodule are not edges.
    """
    graph = {}
    for path in MODULES:
        edges = graph.setdefault(_node(_parts(path)), {})
        for target, name, line in _imports(path):
            edges.setdefault(_node((*_resolved(target, name), "__init__")), line)
    return graph


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected parts of ``graph`` with more than one module, or one that imports itself (Tarjan)."""
    index, low, stack, found, counter = {}, {}, [], [], itertools.count()

    def visit(node: str) -> None:
        index[node] = low[node] = next(counter)
        stack.append(node)
        for other in graph.get(node, {}):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            part = stack[stack.index(node):]
            del stack[stack.index(node):]
            if len(part) > 1 or node in graph.get(node, {}):
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_through_others():
    """No cycle in psviz's module-level import graph (`import_graph`), inside one part (two modules of reproduce) or
    across parts: a lazy import inside a function that dodges a cycle counts as the cycle it dodges."""
    graph = import_graph()
    assert "psviz.apps.reproduce.plan" in graph["psviz.apps.reproduce"]
    assert "psviz.analysis.grid" in graph["psviz.analysis"]
    cycles = [" <-> ".join(part) + ": " + ", ".join(f"{a} imports {b} (line {graph[a][b]})" for a in part
                                                    for b in part if b in graph[a])
              for part in _cycles(graph)]
    assert not cycles, "\n".join(cycles)


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"a": 1}, "b": {}}) == [["a"]] and _cycles({"a": {"b": 1}, "b": {}}) == []


def test_no_private_name_crosses_a_subpackage():
    wrong = []
    for path in MODULES:
        unit = _unit(_parts(path))
        for target, name, line in _imports(path):
            module = _resolved(target, name)
            if module and _unit(module) != unit and any(p.startswith("_") and p != "__init__" for p in module):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports the private module {'.'.join(module)}")
            elif module == target and name.startswith("_") and target and _unit(target) != unit:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports the private name {name}")
    assert not wrong, "\n".join(wrong)


def test_every_function_is_under_60_lines():
    long = [f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for path in MODULES for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 >= 60]
    assert not long, "\n".join(long)


def _meaningful_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, stripped text) of the lines that carry code: no blanks, comments, lone brackets or imports."""
    keep = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        text = line.strip()
        if text and not text.startswith(("#", "import ", "from ")) and text not in {")", "]", "}", "),", "],", "},"}:
            keep.append((number, text))
    return keep


def test_no_block_of_six_lines_is_written_twice():
    seen, repeats = defaultdict(list), []
    for path in MODULES:
        lines = _meaningful_lines(path)
        for i in range(len(lines) - 5):
            window = tuple(text for _, text in lines[i:i + 6])
            if sum(len(t) for t in window) < 120:  # thin runs (brackets, short returns) are not logic
                continue
            seen[window].append(f"{path.relative_to(ROOT)}:{lines[i][0]}")
    for places in seen.values():
        if len(places) > 1:
            repeats.append(" ~ ".join(places))
    assert not repeats, "\n".join(repeats)


HEAVY = ("faiss", "sklearn", "pandas", "scipy", "torchvision", "plotly", "matplotlib", "umap")


def _hundred_times(tree: ast.AST) -> list[int]:
    """Lines where a number is multiplied by a literal 100: a fraction turned into percent by hand."""
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)
            and any(isinstance(side, ast.Constant) and side.value == 100 for side in (node.left, node.right))]


def test_fractions_become_percent_in_one_place():
    """Metrics are fractions in code; `psviz.base.percent.percent` is the one step to percent where they are shown."""
    wrong = [f"{path.relative_to(ROOT)}:{line}" for path in MODULES if path.name != "percent.py"
             for line in _hundred_times(ast.parse(path.read_text()))]
    assert not wrong, "write percent(x), not 100 * x:\n" + "\n".join(wrong)
    assert _hundred_times(ast.parse("x = 100.0 * share")) == [1]


def test_the_operator_imports_nothing_heavy():
    """`import psviz; psviz.proxy_synthesis` loads torch and psviz's own small modules only (timings:
    benchmarks/bench_import.py)."""
    code = (f"import sys, psviz; psviz.proxy_synthesis; psviz.ProxySynthesis; "
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"imported: {done.stdout.strip()}"


def test_lazy_names_resolve_and_unknown_ones_raise():
    import psviz

    assert psviz.proxy_synthesis is __import__("psviz.method.synthesis").synthesis.proxy_synthesis
    assert psviz.train.fit and psviz.losses.create and "viz" in dir(psviz)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        psviz.nope  # noqa: B018
