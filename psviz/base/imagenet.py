"""ImageNet's per-channel pixel statistics: what pretrained backbones expect and what the image transforms apply."""

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD"]
