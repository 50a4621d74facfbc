"""`psviz reproduce --benchmark NAME --root DIR`: the paper's recipe, baseline vs PS, beside the paper's Table 6."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from .. import data, paper
from ..train import TrainConfig, fit, preset
from ..train.records import RecordStore, run_record
from . import markdown as md
from .stats import compare, runs_frame

RECIPES = {"bn_inception": "paper-bn-inception", "resnet50": "paper-resnet50"}


class NotReady(ValueError):
    """The full-scale run cannot start here; the message lists everything missing."""


def benchmark_config(benchmark: str, root: str | Path, loss: str, ps: bool, seed: int = 0, *,
                     model: str = "bn_inception", run_dir: str | Path | None = None, **changes) -> TrainConfig:
    """The paper's recipe on ``benchmark`` for one arm; ``changes`` override any config key (the same for both arms)."""
    if model not in RECIPES:
        raise ValueError(f"model must be one of {', '.join(RECIPES)}, got {model!r}")
    return preset(RECIPES[model], dataset=benchmark, root=str(root), loss=loss, ps=ps, seed=seed,
                  output_dir=None if run_dir is None else str(run_dir), **changes)


def check_ready(benchmark: str, root: str | Path | None, *, require_gpu: bool = True) -> None:
    """Raise `NotReady` naming every missing piece: the benchmark's name, a GPU, the dataset's files."""
    if benchmark not in paper.DATASETS:
        raise NotReady(f"--benchmark must be one of {', '.join(paper.DATASETS)}, got {benchmark!r}")
    problems = []
    if require_gpu and not torch.cuda.is_available():
        problems.append("a CUDA GPU: torch.cuda.is_available() is False here (the paper's recipe trains "
                        "BN-Inception for 130 epochs; on a CPU that takes weeks)")
    if root is None:
        problems.append(f"--root DIR, the folder holding {benchmark} ({data.info(benchmark).description})")
    else:
        for split in data.info(benchmark).splits:
            try:
                data.load(benchmark, split, root=root)
            except ValueError as error:
                problems.append(str(error))
                break
    if problems:
        raise NotReady(f"cannot run the {benchmark} reproduction; missing:\n" + "\n".join(f"  - {p}" for p in problems))


def run_benchmark(benchmark: str, root: str | Path, losses: list[str], *, seeds=(0,), model: str = "bn_inception",
                  results_dir: str | Path = "results", require_gpu: bool = True, progress: bool = True,
                  **changes) -> pd.DataFrame:
    """Train baseline and PS for each loss and seed (each run resumes from its checkpoint), then write
    ``results_dir/<benchmark>/comparison.csv`` and ``RESULTS.md`` beside Table 6. Returns the comparison."""
    check_ready(benchmark, root, require_gpu=require_gpu)
    folder = Path(results_dir) / benchmark
    store = RecordStore(folder / "runs")
    records = []
    for loss in losses:
        for seed in seeds:
            for ps in (False, True):
                run_dir = folder / "checkpoints" / f"{loss}-{'ps' if ps else 'baseline'}-seed{seed}"
                config = benchmark_config(benchmark, root, loss, ps, seed, model=model, run_dir=run_dir, **changes)
                record = store.read(config)
                if record is None:
                    print(f"[{benchmark}] {loss} {'with PS' if ps else 'baseline'} seed {seed} -> {run_dir}",
                          flush=True)
                    result = fit(config, resume=True, progress=progress)
                    if result.interrupted:
                        raise KeyboardInterrupt
                    record = run_record(config, result.history)
                    store.write(config, record)
                records.append(record)
    comparison = compare(runs_frame(records))
    comparison.to_csv(folder / "comparison.csv", index=False, float_format="%.4f")
    (folder / "RESULTS.md").write_text(benchmark_markdown(benchmark, comparison, model, records[0]["config"]))
    return comparison


def beside_paper(comparison: pd.DataFrame, benchmark: str) -> pd.DataFrame:
    """Recall@1 rows of ``comparison`` with the paper's baseline, PS and difference for the same loss."""
    rows = []
    for _, r in comparison[comparison["metric"] == "recall@1"].iterrows():
        base, ps = paper.TABLE6[r["loss"]][benchmark]
        rows.append({"loss": r["loss"], "seeds": int(r["n"]),
                     "R@1 baseline": md.mean_std(r["baseline_mean"], r["baseline_std"]),
                     "R@1 PS": md.mean_std(r["ps_mean"], r["ps_std"]),
                     "Δ [95% CI]": md.difference(r["diff"], r["ci_low"], r["ci_high"], r["significant"]),
                     "paper baseline": f"{base:.1f}", "paper PS": f"{ps:.1f}", "paper Δ": f"{ps - base:+.1f}"})
    return pd.DataFrame(rows)


def benchmark_markdown(benchmark: str, comparison: pd.DataFrame, model: str, config: dict) -> str:
    notes = [f"# {benchmark}: Proxy Synthesis at full scale", "",
             f"_Written by `psviz reproduce --benchmark {benchmark}`._ Model {model}, {config['epochs']} epochs, batch "
             f"{config['batch_size']}, {config['optimizer']} lr {config['lr']:g} (proxies {config['proxy_lr']:g}), "
             f"α = {config['alpha']:g}, μ = {config['mu']:g}. Mean ± sample std over seeds; Δ paired by seed "
             f"with a 95% t-interval (`*`: p < 0.05).", "",
             md.to_markdown(beside_paper(comparison, benchmark)), "",
             f"Paper: {paper.SOURCE}."]
    if any(loss in paper.OWN_RECIPE for loss in comparison["loss"]):
        notes.append("The paper's proxy_anchor row used Proxy-Anchor's own recipe (batch 180, AdamW, GAP + GMP, a "
                     "warm-up epoch); this run used the released recipe, so compare that row with care.")
    return "\n".join(notes) + "\n"


__all__ = ["NotReady", "RECIPES", "beside_paper", "benchmark_config", "benchmark_markdown", "check_ready",
           "run_benchmark"]
