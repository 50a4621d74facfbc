"""How long `import psviz` takes after torch, and which heavy libraries each entry point pulls in.

    python benchmarks/bench_import.py            # 5 fresh processes per line, median printed

Each line is measured in fresh interpreters: torch is imported first (its time is printed apart), then the statement,
timed with perf_counter. The heavy libraries listed are the ones found in sys.modules afterwards.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

HEAVY = ("faiss", "sklearn", "pandas", "scipy", "torchvision", "plotly", "matplotlib", "umap", "ipywidgets")
STATEMENTS = [
    "import psviz; psviz.proxy_synthesis",
    "import psviz; psviz.losses.create",
    "import psviz.train",
    "import psviz.evaluate",
    "import psviz.viz",
]
PROBE = """
import json, sys, time
t = time.perf_counter(); import torch; torch_s = time.perf_counter() - t
t = time.perf_counter(); exec({statement!r}); seconds = time.perf_counter() - t
print(json.dumps({{"torch": torch_s, "seconds": seconds, "heavy": [m for m in {heavy!r} if m in sys.modules]}}))
"""


def measure(statement: str, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", PROBE.format(statement=statement, heavy=HEAVY)],
                             capture_output=True, text=True, check=True).stdout
        runs.append(json.loads(out))
    return {"torch": statistics.median(r["torch"] for r in runs),
            "seconds": statistics.median(r["seconds"] for r in runs), "heavy": runs[-1]["heavy"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print("| statement (after `import torch`) | seconds (median) | torch itself (s) | heavy libraries loaded |")
    print("|---|---|---|---|")
    for statement in STATEMENTS:
        r = measure(statement, args.repeats)
        print(f"| `{statement}` | {r['seconds']:.3f} | {r['torch']:.2f} | {', '.join(r['heavy']) or 'none'} |")


if __name__ == "__main__":
    main()
