"""Regenerate the PNGs under docs/images that the README shows.

Run: .venv/bin/python docs/make_images.py [--demo-dir psviz-output/demo]

Toy figures are made here (a minute or two on 2 cores); with ``--demo-dir`` the glyphs figures are
drawn from the glyphs pair a finished `psviz demo` left there (glyphs/baseline and glyphs/with_ps: Norm-SoftMax, an
MLP, 5 epochs by default), with their mechanism measures in the captions.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from psviz.analysis import pair_figure_data
from psviz.base.names import ARMS, WITH_PS, folder_name
from psviz.train import build_datasets, fit, load_run, mechanism_measures, preset, synthetic_batch
from psviz.viz import confidence_landscape, decision_boundaries, draw_pair_figures, save_figure, synthetic_embeddings

IMAGES = Path(__file__).resolve().parent / "images"
DEMO_FIGURES = ("synthetic_embeddings", "umap_seen_unseen", "synthetic_vs_unseen", "recall_at_k", "training_curves",
                "retrieval_gallery")


def pair(name: str, **changes) -> dict:
    return {run: fit(preset(name, ps=ps, seed=0, **changes), progress=False)
            for run, ps in ARMS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-dir", type=Path, default=None)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    IMAGES.mkdir(parents=True, exist_ok=True)
    # the toy as it was (2-D inputs, 4 seen classes, a 2-D embedding), and the toy preset (inputs and embedding on the
    # sphere, rule T's seen classes)
    toy, toy3 = pair("toy", dataset_options={"n_classes": 8}, embedding_dim=2), pair("toy")
    written = [
        save_figure(decision_boundaries(toy, backend="matplotlib"), IMAGES / "toy_decision_boundaries_circle.png"),
        save_figure(decision_boundaries(toy, space="input", backend="matplotlib"),
                    IMAGES / "toy_decision_boundaries_input.png"),
        save_figure(decision_boundaries(toy3, backend="matplotlib"), IMAGES / "toy_decision_boundaries_sphere.png"),
        save_figure(confidence_landscape(toy3, backend="matplotlib"), IMAGES / "toy_confidence_landscape_sphere.png"),
        save_figure(confidence_landscape(toy, backend="matplotlib"), IMAGES / "toy_confidence_landscape_circle.png"),
        save_figure(confidence_landscape(toy, space="input", backend="matplotlib"),
                    IMAGES / "toy_confidence_landscape_input.png"),
    ]
    run = toy3[WITH_PS]
    names = build_datasets(run.config)[0].class_names
    written.append(save_figure(synthetic_embeddings(synthetic_batch(run, batch_size=24), class_names=names,
                                                    title="One toy batch on the sphere", backend="matplotlib"),
                               IMAGES / "toy_synthetic_sphere.png"))
    if args.demo_dir is not None:
        runs = {arm: load_run(args.demo_dir / "glyphs" / folder_name(arm), "last") for arm, _ in ARMS}
        measures = {name: mechanism_measures(run) for name, run in runs.items()}
        figures = draw_pair_figures(pair_figure_data(runs, measures=measures), backend="matplotlib")
        for name in DEMO_FIGURES:
            written.append(save_figure(figures[name], IMAGES / f"glyphs_{name}.png", dpi=80))
    for path in written:
        print(path.relative_to(IMAGES.parent.parent))


if __name__ == "__main__":
    main()
