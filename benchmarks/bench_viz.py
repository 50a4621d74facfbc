"""How fast the interactive parts answer: moving the λ slider, and retraining digits + evaluation + UMAP redraw.

Run: .venv/bin/python benchmarks/bench_viz.py [--moves 30] [--repeats 3]

1. λ: a `ProxySynthesisPanel` on digits is trained once, then its λ slider is moved ``--moves`` times; each move
   re-mixes the batch and updates the plotly FigureWidget in place (what the kernel does; the browser's own
   repaint is not timed). Prints the median and the worst move. Target: under 0.2 s.
2. Retrain: the α slider is moved to values not trained yet and Train pressed: the PS run is retrained (the
   baseline comes from the cache), evaluated on the unseen classes, and every figure is redrawn, UMAP included.
   Then both runs retrained (a new seed). UMAP's one-off numba compilation (about 15 s per process) is paid in
   a warm-up first and printed separately. Target: under 15 s.
3. Live landscape: a toy run (the preset: 60 epochs, 3-D embedding; and the same with a 2-D one) trained with and
   without a `LiveLandscape` callback, alternating, ``--repeats`` times each; prints the median wall time of both,
   the slowdown and the redraws made. Target: at most 20% slower.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only-live", action="store_true", help="only part 3, the live landscape")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if not args.only_live:
        panel_timings(args)
    live_timings(args.repeats)


def live_timings(repeats: int) -> None:
    from psviz.train import fit, preset
    from psviz.widgets import LiveLandscape

    for dim in (3, 2):
        config = preset("toy", ps=True, seed=0, embedding_dim=dim)
        fit(config, progress=False)  # warm-up
        plain, live_times, redraws, setup = [], [], [], []
        for _ in range(repeats):
            started = time.perf_counter()
            fit(config, progress=False)
            plain.append(time.perf_counter() - started)
            live = LiveLandscape(config)
            setup.append(live.setup_seconds)
            started = time.perf_counter()
            fit(config, progress=False, callbacks=[live])
            live_times.append(time.perf_counter() - started)
            redraws.append(live.redraws)
        base, slow = statistics.median(plain), statistics.median(live_times)
        print(f"live landscape, toy {dim}-D embedding, {config.epochs} epochs: {base:.2f} s without, {slow:.2f} s "
              f"with ({100 * (slow / base - 1):+.0f}%), {statistics.median(redraws):.0f} redraws a run; making the widget "
              f"and its epoch-0 figure before training: {statistics.median(setup):.2f} s")


def panel_timings(args) -> None:
    import torch

    from psviz.widgets import ProxySynthesisPanel

    torch.set_num_threads(max(1, torch.get_num_threads()))
    panel = ProxySynthesisPanel("digits")
    started = time.perf_counter()
    panel.train()
    print(f"first Train (two digits runs, figures, UMAP incl. its numba compilation): "
          f"{time.perf_counter() - started:.1f} s")

    moves = []
    for i in range(args.moves):
        lam = (i % 20) / 19
        started = time.perf_counter()
        panel.lam.value = lam
        moves.append(time.perf_counter() - started)
    print(f"λ slider: median {1000 * statistics.median(moves):.1f} ms, worst {1000 * max(moves):.1f} ms "
          f"over {len(moves)} moves ({panel.batch.n_synthetic} synthetic points)")

    retrain, both = [], []
    for r in range(args.repeats):
        panel.alpha.value = round(0.5 + 0.25 * r, 2)
        started = time.perf_counter()
        panel.train()
        retrain.append(time.perf_counter() - started)
        panel.seed.value = 100 + r
        started = time.perf_counter()
        panel.train()
        both.append(time.perf_counter() - started)
    print(f"digits PS retrain + evaluation + all figures (UMAP warm): median {statistics.median(retrain):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in retrain)})")
    print(f"digits baseline + PS retrain + figures (new seed): median {statistics.median(both):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in both)})")
    if panel.errors.last is not None:
        raise SystemExit(f"the panel reported an error: {panel.errors.last}")


if __name__ == "__main__":
    main()
