"""The `psviz` command line: train, evaluate, demo, reproduce."""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import signal
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path


class _ChoicesFrom(Sequence):
    """An option's choices as a psviz module holds them, read when first needed (that subcommand's parsing or
    help), so that building the parser imports neither pandas nor torch and `psviz --help` stays quick."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def _names(self) -> list[str]:
        return list(getattr(importlib.import_module(self.module, __package__), self.name))

    def __getitem__(self, index):
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())


def build_parser() -> argparse.ArgumentParser:
    """The `psviz` parser: one subcommand per job, each added by its own function below."""
    parser = argparse.ArgumentParser(prog="psviz", description="Proxy Synthesis: train, evaluate and visualise.")
    commands = parser.add_subparsers(dest="command", required=True)
    for add in (_add_train, _add_evaluate, _add_demo, _add_reproduce, _add_playground):
        add(commands)
    return parser


def _add_train(commands) -> None:
    """`psviz train`: one run from a config file or a preset."""
    train = commands.add_parser("train", help="train one run from a config file or a preset")
    train.add_argument("--config", required=True, help="a YAML/JSON file or a preset name (e.g. digits, glyphs)")
    train.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override one config key (repeatable), e.g. --set epochs=5 --set ps=false")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in the output folder from its last checkpoint (same config)")
    train.add_argument("--overwrite", action="store_true",
                       help="delete the run already in the output folder and start afresh")
    train.add_argument("--no-progress", action="store_true", help="no progress bars")


def _add_evaluate(commands) -> None:
    """`psviz evaluate`: a trained run folder's metrics."""
    evaluate = commands.add_parser("evaluate", help="evaluate a trained run folder on its unseen (and seen) classes")
    evaluate.add_argument("run_dir", type=Path)
    evaluate.add_argument("--checkpoint", choices=["best", "last"], default="best")
    evaluate.add_argument("--seen", action="store_true", help="also evaluate the seen classes")
    evaluate.add_argument("--nmi", action="store_true", help="also compute NMI (k-means) on the unseen classes")
    evaluate.add_argument("--no-progress", action="store_true", help="no progress bars")


def _add_demo(commands) -> None:
    """`psviz demo`: Norm-SoftMax with and without PS, a toy over seeds and one glyphs pair."""
    demo = commands.add_parser(
        "demo", help="train Norm-SoftMax with and without PS on embedded data and compare",
        description="Train Norm-SoftMax without and with Proxy Synthesis: on the teaching toy over 10 seeds (the "
                    "verdict, with a 95% interval), and one glyphs pair for the pictures. Print the unseen-class "
                    "metrics, and write the tables, the runs, the figures (HTML and PNG), explorer.html and "
                    "index.html, one offline page with all of them. About 2 minutes on 2 CPU cores.")
    demo.add_argument("--output-dir", type=Path, default=Path("psviz-output/demo"),
                      help="where the tables, the runs' folders and the figures go (default: %(default)s)")
    demo.add_argument("--seeds", type=int, default=10,
                      help="toy seeds for the verdict, 1 to 10 (default: %(default)s, the effect map's)")
    demo.add_argument("--epochs", type=int, default=5, help="epochs of the glyphs pair (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the glyphs pair (default: %(default)s)")
    demo.add_argument("--no-progress", action="store_true", help="no progress bars")
    demo.add_argument("--no-figures", action="store_true", help="only the tables and the page, no figures")
    demo.add_argument("--umap-points", type=int, default=2000,
                      help="items per split in the UMAP figures, for data with few classes (default: %(default)s)")
    demo.add_argument("--explorer-classes", type=int, default=None,
                      help="classes a split in explorer.html, with all their images; 0 writes no explorer (default: "
                           "the demo's 150)")
    demo.add_argument("--workers", type=int, default=2,
                      help="processes that train side by side; 1 trains one run after the other (the same results; "
                           "default: %(default)s)")


def _add_playground(commands) -> None:
    """`psviz playground`: the click-only Proxy Synthesis Playground in the browser."""
    playground = commands.add_parser(
        "playground", help="serve the Proxy Synthesis Playground on 127.0.0.1 and print its URL",
        description="Serve the Proxy Synthesis Playground (Panel) on 127.0.0.1: train a baseline and a PS run side by "
                    "side on the toy by clicking, and watch the landscapes, a PS batch and the curves change. The URL "
                    "holds the settings, so a link is a lesson (docs/guide/playground.md). Ctrl-C stops it.")
    playground.add_argument("--port", type=int, default=5006, help="the port to serve on (default: %(default)s)")
    playground.add_argument("--no-browser", action="store_true", help="print the URL without opening a browser")
    playground.add_argument("--lesson", type=int, default=None, metavar="N",
                            help="open lesson N (its settings and what to look for; the lessons are listed in "
                                 "docs/guide/playground.md)")


def _add_reproduce(commands) -> None:
    """`psviz reproduce`: the small-data reproduction, or the paper's recipe on one benchmark; the benchmark and
    model choices are `psviz.base.paper.BENCHMARKS` and `psviz.apps.reproduce.full.RECIPES`."""
    rep = commands.add_parser(
        "reproduce", help="baseline vs PS for the eight losses: small datasets (default) or --benchmark",
        description="Without --benchmark: the small-data reproduction (glyphs, Fashion-MNIST, digits; the long "
                    "Norm-SoftMax runs; the alpha x mu ablation; on request the effect map and the pretrained "
                    "protocol of docs/PREREGISTRATION.md). Finished runs are stored and never redone, so an "
                    "interrupted run continues where it stopped. With --benchmark: the paper's recipe on a GPU.")
    rep.add_argument("--parts", default="curves,small,ablation,sweep,regime",
                     help="comma-separated parts to train: curves, small, ablation, sweep (baseline-only search for "
                          "an overfitting regime), regime (both arms where the sweep found one), effect-pilot and "
                          "effect-map (the pre-registered effect map: hours on 2 cores), pretrained-pilot and "
                          "pretrained (EfficientNet-Lite0 fine-tuned on glyphs: hours); the report covers all "
                          "(default: %(default)s)")
    rep.add_argument("--workers", type=int, default=None, help="training processes (default: one per CPU core)")
    rep.add_argument("--threads", type=int, default=1, help="torch threads per process (default 1)")
    rep.add_argument("--results-dir", type=Path, default=None,
                     help="CSV and run-record folder (default results/small, or results with --benchmark)")
    rep.add_argument("--doc", type=Path, default=Path("docs/RESULTS.md"), help="the Markdown report to write")
    rep.add_argument("--images", type=Path, default=Path("docs/images"), help="folder for the report's figures")
    rep.add_argument("--report-only", action="store_true", help="train nothing; write the report from stored runs")
    rep.add_argument("--tiny", action="store_true",
                     help="a test-sized plan: digits only, one seed, one epoch (checks the pipeline in seconds)")
    benchmark = rep.add_argument("--benchmark", default=None,
                                 help="run the paper's recipe on this benchmark instead (needs a GPU and --root)")
    rep.add_argument("--root", type=Path, default=None, help="the benchmark's dataset folder")
    rep.add_argument("--losses", default="norm_softmax,proxy_nca",
                     help="with --benchmark: comma-separated losses (default norm_softmax,proxy_nca; 'all' for 8)")
    rep.add_argument("--seeds", default="0", help="with --benchmark: comma-separated seeds (default 0)")
    model = rep.add_argument("--model", default="bn_inception",
                             help="with --benchmark: the paper's backbone (default bn_inception)")
    rep.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="with --benchmark: override a config key for both arms, e.g. --set epochs=60")
    rep.add_argument("--allow-cpu", action="store_true", help="with --benchmark: run without a GPU (smoke tests)")
    rep.add_argument("--no-progress", action="store_true", help="no progress bars")
    # Set after add_argument, which formats an option's choices at once: this way they are read on first use.
    benchmark.choices = _ChoicesFrom("..base.paper", "BENCHMARKS")
    model.choices = _ChoicesFrom(".reproduce.full", "RECIPES")


def _config_from(source: str, overrides: list[str]):
    from ..train import TrainConfig
    from ..train.presets import PRESETS, preset

    if source in PRESETS:  # any spelling of a preset's name; its folder takes the registered one
        config = preset(source)
        default_dir = Path("runs") / PRESETS.canonical(source)
    elif Path(source).is_file():
        config = TrainConfig.load(source)
        default_dir = Path("runs") / Path(source).stem
    else:
        raise ValueError(f"--config {source!r} is neither a file nor a preset ({', '.join(PRESETS)})")
    config = config.with_overrides(overrides)
    if config.output_dir is None:
        config = config.replace(output_dir=str(default_dir))
    return config


def _print_metrics(title: str, metrics: dict) -> None:
    print(title)
    for key, value in metrics.items():
        print(f"  {key:<24}{value:.4f}" if isinstance(value, float) else f"  {key:<24}{value}")


def _train(args) -> int:
    from ..train import fit

    config = _config_from(args.config, args.overrides)
    say = print if os.environ.get("RANK", "0") == "0" else (lambda *a, **k: None)  # torchrun: rank 0 speaks
    say(f"training {config.loss} {'with' if config.ps else 'without'} Proxy Synthesis on {config.dataset} "
        f"-> {config.output_dir}")
    try:
        result = fit(config, resume=args.resume, overwrite=args.overwrite, progress=not args.no_progress)
    except KeyboardInterrupt as stop:
        say(f"stopped; continue with: psviz train --config {args.config} --resume "
            + " ".join(f"--set {o}" for o in args.overrides), file=sys.stderr)
        return 128 + getattr(stop, "signum", signal.SIGINT)  # the shell's convention: 130 for Ctrl-C, 143 for TERM
    if say is print:
        _print_metrics(f"unseen classes of {config.dataset} after {config.epochs} epochs:", result.last_metrics())
    return 0


def _evaluate(args) -> int:
    from ..evaluate import nmi
    from ..train import build_datasets, embed, evaluate, load_run, resolve_device

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = load_run(args.run_dir, args.checkpoint)
    for warning in caught:
        print(f"psviz evaluate: warning: {warning.message}", file=sys.stderr)
    config = run.config.replace(eval_seen=args.seen)
    device = resolve_device(config.device)
    _, eval_sets = build_datasets(config)
    metrics = evaluate(run.model, eval_sets, config.ks, device, num_workers=config.num_workers,
                       progress=not args.no_progress)
    if args.nmi:
        embeddings, labels = embed(run.model, eval_sets["unseen"][0], device)
        metrics["unseen/nmi"] = nmi(embeddings, labels)
    epoch = run.history[-1]["epoch"] if run.history else 0
    what = f"{config.loss} {'with' if config.ps else 'without'} PS on {config.dataset}"
    _print_metrics(f"{args.run_dir} ({what}; {args.checkpoint} checkpoint, epoch {epoch}):", metrics)
    return 0


def _demo(args) -> int:
    from . import demo

    demo.run(output_dir=args.output_dir, seeds=args.seeds, epochs=args.epochs, seed=args.seed,
             progress=not args.no_progress, figures=not args.no_figures, umap_points=args.umap_points,
             explorer_classes=args.explorer_classes, workers=args.workers)
    return 0


def _playground(args) -> int:
    from .playground.lessons import lesson
    from .playground.server import serve

    if args.lesson is not None:
        lesson(args.lesson)  # a number out of range is one line, before the server starts
    return serve(args.port, open_browser=not args.no_browser,
                 query="" if args.lesson is None else f"lesson={args.lesson}")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _reproduce(args) -> int:
    from ..base import paper
    from ..method import losses
    from ..train import TrainConfig
    from .reproduce import Plan, reproduce_small, run_benchmark

    if args.benchmark is not None:
        names = list(paper.TABLE6_LOSSES) if args.losses == "all" else _split(args.losses)
        unknown = [n for n in names if n not in losses.LOSSES]
        if unknown:
            raise ValueError(f"--losses: unknown {unknown}; choose from {', '.join(losses.available())} or all")
        names = [losses.LOSSES.canonical(n) for n in names]  # one name per loss in run folders and results
        try:
            seeds = [int(s) for s in _split(args.seeds)]
        except ValueError:
            raise ValueError(f"--seeds takes comma-separated integers, got {args.seeds!r}") from None
        parsed = TrainConfig().with_overrides(args.overrides).to_dict()  # parses and validates each key=value
        changes = {key: parsed[key] for key in (o.partition("=")[0].strip() for o in args.overrides)}
        table = run_benchmark(args.benchmark, args.root, names, seeds=seeds, model=args.model,
                              results_dir=args.results_dir or Path("results"), require_gpu=not args.allow_cpu,
                              progress=not args.no_progress, **changes)
        folder = (args.results_dir or Path("results")) / args.benchmark
        print(f"wrote {folder / 'RESULTS.md'} and {folder / 'comparison.csv'} ({len(table)} rows)")
        return 0
    plan = Plan.tiny() if args.tiny else Plan()
    command = "psviz " + " ".join(shlex.quote(a) for a in args.argv)
    try:
        reproduce_small(plan, parts=_split(args.parts), results_dir=args.results_dir or Path("results/small"),
                        doc=args.doc, images=args.images, workers=args.workers, threads=args.threads,
                        train=not args.report_only, progress=not args.no_progress, command=command.strip())
    except KeyboardInterrupt:
        print("stopped; the same command continues where this stopped", file=sys.stderr)
        return 130
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return {"train": _train, "evaluate": _evaluate, "demo": _demo, "reproduce": _reproduce,
                "playground": _playground}[args.command](args)
    except ValueError as error:  # ConfigError and RunFolderError included: one clear line, no traceback
        print(f"psviz {args.command}: {_one_line(error)}", file=sys.stderr)
        return 2
    except OSError as error:  # a file the command needs cannot be read or written (a full disk included)
        print(f"psviz {args.command}: {_os_error(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:  # Ctrl-C (or SIGTERM) where the command prints nothing of its own
        note = getattr(stop, "note", "")
        print(f"psviz {args.command}: interrupted{'; ' + note if note else ''}", file=sys.stderr)
        return 128 + getattr(stop, "signum", signal.SIGINT)  # the shell's convention: 130 for Ctrl-C, 143 for TERM


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _os_error(error: OSError) -> str:
    """The reason and the path at fault, in a line. A call on two paths (a rename) names the second when it exists:
    the thing in the way (the first is often a temporary file, deleted since)."""
    where = error.filename
    if error.filename2 is not None and os.path.lexists(error.filename2):
        where = error.filename2
    text = error.strerror or _one_line(error)
    return f"{text} ({where})" if where is not None else text


if __name__ == "__main__":
    sys.exit(main())
