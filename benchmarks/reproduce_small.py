"""The small-data reproduction (the same as `psviz reproduce`), timed: prints the wall time at the end.

    python benchmarks/reproduce_small.py                 # the full plan, one worker per core (58 min on 2 cores)
    python benchmarks/reproduce_small.py --tiny          # digits, one seed, one epoch: seconds
    python benchmarks/reproduce_small.py --report-only   # rewrite docs/RESULTS.md from the stored runs

Any `psviz reproduce` option works. Finished runs live in results/small/runs/ (one JSON each) and are never redone.
"""

import sys
import time

from psviz.apps.cli import main

if __name__ == "__main__":
    started = time.perf_counter()
    code = main(["reproduce", *sys.argv[1:]])
    print(f"reproduce_small: {time.perf_counter() - started:.0f} s wall time, exit code {code}")
    sys.exit(code)
