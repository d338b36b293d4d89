"""Feature extraction: the registry, the offline defaults, and every backend on tiny random models."""
import numpy as np
import pytest
import torch

from amodal import data, features
from amodal.errors import ConfigError, DataError

from ..tiny_models import tiny, tiny_open_clip


@pytest.fixture(scope="module")
def few(small_dataset):
    stim = data.read_stimuli(small_dataset).iloc[:6].reset_index(drop=True)
    return stim, small_dataset / "stimuli"


def _extract(name, few, definitions=None, **kw):
    stim, folder = few
    return features.extract(name, stim, folder, definitions, device="cpu", batch_size=4, log=lambda *a: None, **kw)


def test_unknown_model_lists_known():
    with pytest.raises(ConfigError, match=r"unknown feature model 'clip-xl'.*'gabor'.*'minilm'"):
        features.model_definition("clip-xl")
    with pytest.raises(ConfigError, match="unknown backend 'magic'"):
        features.model_definition("x", {"x": {"backend": "magic"}})


def test_minilm_matches_sentence_transformers_and_mean_pooling(few):
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel, AutoTokenizer

    ds = _extract("minilm", few)
    caps = few[0]["caption"].tolist()
    ref = SentenceTransformer(features.minilm_path(), device="cpu").encode(caps)
    np.testing.assert_allclose(ds["lang"].values, ref, atol=1e-5)
    tok = AutoTokenizer.from_pretrained(features.minilm_path())
    model = AutoModel.from_pretrained(features.minilm_path())
    enc = tok(caps, padding=True, return_tensors="pt")
    with torch.no_grad():
        h = model(**enc).last_hidden_state
    m = enc["attention_mask"].unsqueeze(-1).float()
    mean = (h * m).sum(1) / m.sum(1)
    mean = torch.nn.functional.normalize(mean, dim=-1).numpy()
    np.testing.assert_allclose(ds["lang"].values, mean, atol=1e-5)
    assert ds["lang"].shape == (6, 384)
    assert ds.attrs["default_set"] == "lang" and "torch" in ds.attrs["library_versions"]


def test_gabor_extractor_equals_direct_filtering(few):
    """amodal's Gabor extractor, end to end on real stimulus images, equals direct correlation of each complex
    scikit-image kernel with the reflect-padded colour channels (scipy), pooled on the grid and log-compressed."""
    from PIL import Image
    from scipy.signal import correlate2d

    stim, root = few
    spec = {"image_size": 24, "frequencies": (0.1, 0.3), "n_orientations": 3, "grid": 2}
    paths = [root / f for f in stim["image_file"][:2]]
    ours, _ = features.extract_gabor(spec, None, paths, torch.device("cpu"), 8, lambda *a: None)
    bank = features.gabor_bank((0.1, 0.3), 3)
    pad = bank.shape[-1] // 2
    for row, path in zip(ours["vision"], paths):
        img = np.asarray(Image.open(path).convert("RGB").resize((24, 24), Image.Resampling.BILINEAR),
                         np.float64) / 255.0
        r, g, b = img[..., 0], img[..., 1], img[..., 2]
        ref = []
        for chan in ((r + g + b) / 3, r - g, (r + g) / 2 - b):
            padded = np.pad(chan, pad, mode="reflect")
            for k in bank:
                energy = np.abs(correlate2d(padded, k.real, "valid") + 1j * correlate2d(padded, k.imag, "valid"))
                ref.append(energy.reshape(2, 12, 2, 12).mean(axis=(1, 3)))  # 2 x 2 grid of 12 x 12 cells
        np.testing.assert_allclose(row, np.log1p(np.stack(ref).ravel() * 10), rtol=1e-4, atol=1e-5)


def test_combination_reuses_components(few):
    g, m = _extract("gabor", few), _extract("minilm", few)
    c = _extract("minilm_gabor", few, components={"gabor": g, "minilm": m})
    np.testing.assert_array_equal(c["vision"].values, g["vision"].values)
    np.testing.assert_array_equal(c["lang"].values, m["lang"].values)
    assert c["avg"].shape[1] == 6  # reduced to a common width (capped by the 6 stimuli)
    assert c.attrs["default_set"] == "avg"


@pytest.mark.parametrize("kind, backend, pooling, sets", [
    ("clip", "hf_clip", "cls", {"vision", "lang", "avg"}),
    ("clip", "hf_clip", "mean", {"vision", "lang", "avg"}),
    ("siglip", "hf_clip", "cls", {"vision", "lang", "avg"}),
    ("vit", "hf_vision", "cls", {"vision"}),
    ("dinov2", "hf_vision", "mean", {"vision"}),
    ("bert", "hf_text", "mean", {"lang"}),
    ("bert", "hf_text", "cls", {"lang"}),
    ("gpt2", "hf_text", "last", {"lang"}),
    ("vilt", "hf_fused", "cls", {"fused"}),
])
def test_hf_backends_on_tiny_models(kind, backend, pooling, sets, few, tmp_path):
    folder = tiny(kind, tmp_path / kind, few[0]["caption"].tolist())
    defs = {"m": {"backend": backend, "model_id": str(folder), "pooling": pooling}}
    ds = _extract("m", few, defs)
    assert set(ds.data_vars) == sets
    for v in sets:
        arr = ds[v].values
        assert arr.shape[0] == 6 and np.isfinite(arr).all()
        assert np.linalg.matrix_rank(arr - arr.mean(0)) >= 2, "features must differ between stimuli"
    assert ds.attrs["model_id"] == str(folder)
    # deterministic: extracting twice gives the same numbers
    np.testing.assert_allclose(_extract("m", few, defs)[sorted(sets)[0]].values, ds[sorted(sets)[0]].values,
                               atol=1e-6)


@pytest.mark.parametrize("kind, backend, n_prefix", [("vit", "hf_vision", 1), ("dinov2_reg", "hf_vision", 3),
                                                     ("siglip", "hf_clip", 0), ("clip", "hf_clip", 1)])
def test_mean_pooling_takes_the_patch_tokens_each_model_has(kind, backend, n_prefix, few, tmp_path):
    """Mean pooling leaves out exactly the CLS and register tokens a model has: one for ViT and CLIP, CLS plus
    registers for DINOv2 with registers, none for SigLIP (which has no CLS token)."""
    from PIL import Image
    from transformers import AutoImageProcessor, AutoModel

    folder = tiny(kind, tmp_path / kind, few[0]["caption"].tolist())
    ds = _extract("m", few, {"m": {"backend": backend, "model_id": str(folder), "pooling": "mean"}})
    model = AutoModel.from_pretrained(folder).eval()
    tower = model.vision_model if backend == "hf_clip" else model
    stim, root = few
    pix = AutoImageProcessor.from_pretrained(folder)(
        images=[Image.open(root / f).convert("RGB") for f in stim["image_file"]], return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        hidden = tower(pixel_values=pix).last_hidden_state
    assert hidden.shape[1] == n_prefix + (32 // 8) ** 2
    np.testing.assert_allclose(ds["vision"].values, hidden[:, n_prefix:].mean(1).numpy(), atol=1e-5)
    assert f"{n_prefix} CLS/register" in ds.attrs.get("pooling", str(dict(ds.attrs)))


def test_hf_clip_cls_equals_get_features(few, tmp_path):
    from transformers import AutoImageProcessor, AutoTokenizer, CLIPModel
    from PIL import Image

    folder = tiny("clip", tmp_path / "clip", few[0]["caption"].tolist())
    ds = _extract("m", few, {"m": {"backend": "hf_clip", "model_id": str(folder), "pooling": "cls"}})
    model = CLIPModel.from_pretrained(folder).eval()
    proc = AutoImageProcessor.from_pretrained(folder)
    tok = AutoTokenizer.from_pretrained(folder)
    stim, root = few
    imgs = [Image.open(root / f).convert("RGB") for f in stim["image_file"]]
    with torch.no_grad():
        out = model(pixel_values=proc(images=imgs, return_tensors="pt")["pixel_values"],
                    **tok(stim["caption"].tolist(), padding=True, return_tensors="pt"))
    # the model's image_embeds/text_embeds are the L2-normalised get_*_features outputs
    v = ds["vision"].values / np.linalg.norm(ds["vision"].values, axis=1, keepdims=True)
    t = ds["lang"].values / np.linalg.norm(ds["lang"].values, axis=1, keepdims=True)
    np.testing.assert_allclose(v, out.image_embeds.numpy(), atol=1e-5)
    np.testing.assert_allclose(t, out.text_embeds.numpy(), atol=1e-5)


def test_open_clip_backend_on_tiny_model(few, tmp_path):
    cfg_path, ckpt = tiny_open_clip(tmp_path / "oc")
    defs = {"oc": {"backend": "open_clip", "model_id": "amodal-tiny-clip", "pretrained": str(ckpt),
                   "model_config": str(cfg_path)}}
    ds = _extract("oc", few, defs)
    assert set(ds.data_vars) == {"vision", "lang", "avg"}
    assert ds["vision"].shape == (6, 16) and np.isfinite(ds["lang"].values).all()


def test_targets_for_names_missing_ids(few):
    ds = _extract("minilm", few)
    with pytest.raises(DataError, match=r"2 stimulus id\(s\) have no features: \['nope1', 'nope2'\]"):
        features.targets_for(ds, "lang", ["nope2", ds["stimulus"].values[0], "nope1"], "feat.zarr")
    with pytest.raises(DataError, match="feature set 'vision' not in this store"):
        features.targets_for(ds, "vision", [ds["stimulus"].values[0]], "feat.zarr")


def test_missing_image_is_named(few):
    stim, folder = few
    bad = stim.copy()
    bad.loc[0, "image_file"] = "images/missing.png"
    with pytest.raises(DataError, match="missing.png"):
        features.extract("gabor", bad, folder, log=lambda *a: None)
