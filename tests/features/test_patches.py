"""Multi-layer patch features: the Gabor pyramid's patches equal the pooled Gabor features on the same grid, patch
coordinates point where the image has contrast, and DINOv2-style models give CLS plus patch tokens of each chosen
layer, register tokens left out."""
import numpy as np
import pytest
import torch
from PIL import Image

from amodal import config as amodal_config, features
from amodal.errors import ConfigError

from ..tiny_models import tiny
from .test_features import _extract, few  # noqa: F401 - the fixture


def test_gabor_patches_equal_the_pooled_gabor_features(few):  # noqa: F811
    spec = {"image_size": 32, "grid": 4, "frequencies": (0.1, 0.3), "n_orientations": 3}
    defs = {"p": {"backend": "gabor_patches", **spec}, "g": {"backend": "gabor", **spec}}
    p, g = _extract("p", few, defs), _extract("g", few, defs)
    assert p["patches"].dims == ("stimulus", "layer", "token", "channel")
    assert p["patches"].shape == (6, 2, 1 + 16, 9)
    assert list(p["layer"].values) == ["gabor_f0.1", "gabor_f0.3"]
    # the pooled Gabor vector is ordered (colour, frequency, orientation, grid y, grid x)
    ref = g["vision"].values.reshape(6, 3, 2, 3, 16).transpose(0, 2, 4, 1, 3).reshape(6, 2, 16, 9)
    np.testing.assert_allclose(p["patches"].values[:, :, 1:], ref, rtol=1e-5, atol=1e-6)
    # token 0 is the image-wide mean of the patches' energy
    energy = np.expm1(p["patches"].values[:, :, 1:]) / 10
    np.testing.assert_allclose(p["patches"].values[:, :, 0], np.log1p(10 * energy.mean(2)), rtol=1e-5, atol=1e-6)
    assert np.isnan(p["patch_y"].values[0]) and p["patch_y"].values[1] == p["patch_x"].values[1] == 0.125


def test_patch_coordinates_point_at_the_contrast(tmp_path):
    img = np.full((64, 64, 3), 128, np.uint8)
    img[40:, 8:24] = np.where((np.arange(16) // 2) % 2, 255, 0)[None, :, None]  # stripes, bottom left
    Image.fromarray(img).save(tmp_path / "a.png")
    import pandas as pd

    table = pd.DataFrame({"id": ["a"], "caption": ["stripes"], "image_file": ["a.png"]})
    ds = features.extract("gabor_patches", table, tmp_path, device="cpu", log=lambda *a: None)
    energy = ds["patches"].values[0, :, 1:].sum(axis=(0, 2))  # per patch, over layers and channels
    best = 1 + int(np.argmax(energy))
    assert ds["patch_y"].values[best] > 0.5 and ds["patch_x"].values[best] < 0.5


@pytest.mark.parametrize("kind, n_prefix", [("dinov2", 1), ("dinov2_reg", 3)])
def test_hf_patches_are_cls_and_patch_tokens_of_each_layer(kind, n_prefix, few, tmp_path):  # noqa: F811
    from transformers import AutoImageProcessor, AutoModel

    folder = tiny(kind, tmp_path / kind, few[0]["caption"].tolist())
    ds = _extract("m", few, {"m": {"backend": "hf_vision_patches", "model_id": str(folder), "layers": [1, 2]}})
    assert ds["patches"].shape == (6, 2, 1 + 16, 32)
    stim, root = few
    model = AutoModel.from_pretrained(folder).eval()
    pix = AutoImageProcessor.from_pretrained(folder)(
        images=[Image.open(root / f).convert("RGB") for f in stim["image_file"]], return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        hidden = model(pixel_values=pix, output_hidden_states=True).hidden_states
    for k, layer in enumerate((1, 2)):
        np.testing.assert_allclose(ds["patches"].values[:, k, 0], hidden[layer][:, 0].numpy(), atol=1e-5)
        np.testing.assert_allclose(ds["patches"].values[:, k, 1:], hidden[layer][:, n_prefix:].numpy(), atol=1e-5)
    with pytest.raises(ConfigError, match="layers"):
        _extract("m", few, {"m": {"backend": "hf_vision_patches", "model_id": str(folder), "layers": [7]}})


def test_patch_models_are_not_decoded():
    import yaml

    from ..conftest import REPO

    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    cfg["features"]["models"] = ["gabor_patches"]
    with pytest.raises(ConfigError, match="patch tokens"):
        amodal_config.validate(cfg)
