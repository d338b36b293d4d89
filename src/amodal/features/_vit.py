"""Vision-transformer helpers shared by the pooled (:mod:`amodal.features._backends`) and the patch-token
(:mod:`amodal.features._patches`) backends: image loading, the patch size of a config, and the number of tokens
(CLS, registers) before the patch tokens."""

from __future__ import annotations

import torch
from PIL import Image

from ..errors import ConfigError


def load_images(paths):
    """The images at ``paths`` as RGB PIL images."""
    return [Image.open(p).convert("RGB") for p in paths]


def patch_size(config):
    """The patch size of a transformers vision config (or of a CLIP-style config's vision part)."""
    return getattr(config, "vision_config", config).patch_size


def n_prefix_tokens(hidden: torch.Tensor, pixel_values: torch.Tensor, patch_size) -> int:
    """How many tokens precede the patch tokens of a vision transformer's last hidden state.

    1 for a CLS token (CLIP, ViT, DINOv2), 1 + registers for DINOv2 with registers, 0 for SigLIP. Vision
    transformers in transformers put the patch tokens last; their number follows from the image and patch sizes.

    Parameters
    ----------
    hidden : tensor of shape (batch, n_tokens, n_channels)
    pixel_values : tensor of shape (batch, 3, height, width)
    patch_size : int or (int, int)

    Returns
    -------
    int

    Raises
    ------
    ConfigError
        When there are fewer tokens than patches (not a ViT-style model).
    """
    ph, pw = (patch_size, patch_size) if isinstance(patch_size, int) else tuple(patch_size)
    n_patches = (pixel_values.shape[-2] // ph) * (pixel_values.shape[-1] // pw)
    n_prefix = hidden.shape[1] - n_patches
    if n_prefix < 0:
        raise ConfigError(f"the model's last hidden state has {hidden.shape[1]} tokens, fewer than the {n_patches} "
                          f"patches of a {tuple(pixel_values.shape[-2:])} image at patch size {patch_size}: "
                          "not a ViT-style model; use pooling: cls or another backend")
    return n_prefix
