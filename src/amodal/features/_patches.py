"""Multi-layer patch features for image-to-brain encoders (the Universal Brain Encoder attends over them).

One array per model, ``patches`` of shape (stimulus, layer, token, channel): token 0 is the image-wide token (a
ViT's CLS; the Gabor pyramid's mean over the image), tokens 1.. are the patches of a ``grid`` × ``grid`` raster,
row by row. Coordinates ``patch_y`` and ``patch_x`` give each patch's centre as a fraction of the image (NaN for
token 0), so that a receptive field can be read back from attention.

Backends:
- ``gabor_patches`` (offline): each spatial frequency of the Gabor pyramid (:mod:`amodal.features._gabor`) is a
  layer; its channels are the orientations × the three colour channels, averaged over each patch and
  log-compressed as the pooled Gabor features are.
- ``hf_vision_patches``: chosen hidden layers of a Hugging Face vision transformer (DINOv2 in the paper), the CLS
  token and the patch tokens, register tokens left out (:func:`amodal.features.n_prefix_tokens`).
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ConfigError
from ._gabor import colour_channels, gabor_bank, gabor_energy
from ._util import backend_doc, batches as _batches, progress as _progress
from ._vit import load_images as _load_images, n_prefix_tokens, patch_size as _patch_size


def _grid_coords(grid: int) -> tuple[np.ndarray, np.ndarray]:
    centres = (np.arange(grid) + 0.5) / grid
    y, x = np.meshgrid(centres, centres, indexing="ij")
    return np.concatenate([[np.nan], y.ravel()]), np.concatenate([[np.nan], x.ravel()])


@backend_doc(
    spec="``image_size`` (default 96), ``grid`` (8), ``frequencies``, ``n_orientations`` (6).",
    sets="Empty (no per-stimulus vector sets).",
    attrs="With ``_extra_vars``: ``patches`` of shape (n_stimuli, n_frequencies, 1 + grid², 3 * n_orientations).",
    captions=False)
@torch.no_grad()
def extract_gabor_patches(spec, captions, image_paths, device, batch_size, log):
    """The Gabor pyramid as layers of patch tokens: one layer per spatial frequency."""
    size = int(spec.get("image_size", 96))
    grid = int(spec.get("grid", 8))
    freqs = tuple(spec.get("frequencies", (0.05, 0.1, 0.2, 0.4)))
    n_or = int(spec.get("n_orientations", 6))
    bank = gabor_bank(freqs, n_or)
    kfft, out = None, []
    for j, batch in enumerate(_batches(list(image_paths), batch_size)):
        chans = colour_channels(batch, size, device)
        energy, kfft = gabor_energy(chans, bank, kfft, group=n_or)  # (B, 3, F*O, H, W), frequency-major
        bsz = energy.shape[0]
        energy = energy.reshape(bsz, 3, len(freqs), n_or, size, size).permute(0, 2, 1, 3, 4, 5)
        energy = energy.reshape(bsz, len(freqs), 3 * n_or, size, size)  # (B, layer, channel, H, W)
        pooled = torch.nn.functional.adaptive_avg_pool2d(energy.reshape(bsz, -1, size, size), grid)
        pooled = pooled.reshape(bsz, len(freqs), 3 * n_or, grid * grid)
        tokens = torch.cat([pooled.mean(-1, keepdim=True), pooled], dim=-1)  # image-wide token first
        out.append(torch.log1p(tokens * 10).permute(0, 1, 3, 2).cpu().numpy())  # (B, layer, token, channel)
        _progress(log, "gabor patches", min((j + 1) * batch_size, len(image_paths)), len(image_paths), batch_size)
    py, px = _grid_coords(grid)
    layers = np.array([f"gabor_f{f:g}" for f in freqs])
    return {}, {"_extra_vars": {"patches": (("stimulus", "layer", "token", "channel"), np.concatenate(out), {
        "layer": layers, "patch_y": ("token", py), "patch_x": ("token", px)})},
        "patches": f"Gabor energy per spatial frequency (layer), {3 * n_or} channels (orientation x colour), mean "
                   f"over each patch of a {grid}x{grid} grid, token 0 the image mean; log1p(10 x)",
        "image_size": size, "frequencies": list(freqs), "n_orientations": n_or}


@backend_doc(
    spec="``model_id`` and ``layers`` (indices into ``hidden_states``, where 0 is the embedding output; the paper's "
         "DINOv2 layers are [1, 6, 12, 18, 24]).",
    sets="Empty.",
    attrs="With ``_extra_vars``: ``patches`` of shape (n_stimuli, n_layers, 1 + n_patches, hidden size).",
    captions=False,
    extra="""
    Raises
    ------
    ConfigError
        Without ``layers``, with a layer the model does not have, or for a model without a CLS token.
""")
@torch.no_grad()
def extract_hf_vision_patches(spec, captions, image_paths, device, batch_size, log):
    """Hidden layers of a Hugging Face vision transformer: the CLS token and the patch tokens of each chosen layer."""
    from transformers import AutoImageProcessor, AutoModel

    layers = [int(v) for v in spec.get("layers", [])]
    if not layers:
        raise ConfigError(f"model {spec.get('model_id')!r}: backend hf_vision_patches needs `layers`, e.g. "
                          f"[1, 6, 12, 18, 24]")
    model = AutoModel.from_pretrained(spec["model_id"]).to(device).eval()
    proc = AutoImageProcessor.from_pretrained(spec["model_id"])
    out, grid = [], None
    for k, batch in enumerate(_batches(list(image_paths), batch_size)):
        pix = proc(images=_load_images(batch), return_tensors="pt")["pixel_values"].to(device)
        hidden = model(pixel_values=pix, output_hidden_states=True).hidden_states
        bad = [v for v in layers if not -len(hidden) <= v < len(hidden)]
        if bad:
            raise ConfigError(f"model {spec['model_id']!r} has hidden states 0..{len(hidden) - 1}; layers {bad} "
                              f"do not exist")
        n_prefix = n_prefix_tokens(hidden[-1], pix, _patch_size(model.config))
        if n_prefix == 0:
            raise ConfigError(f"model {spec['model_id']!r} has no CLS token; hf_vision_patches needs one")
        # token 0 is CLS; the register tokens (DINOv2 with registers) sit between CLS and the patches
        tokens = torch.stack([torch.cat([hidden[v][:, :1], hidden[v][:, n_prefix:]], dim=1) for v in layers], 1)
        out.append(tokens.float().cpu().numpy())
        ps = _patch_size(model.config)
        ps = ps if isinstance(ps, int) else ps[0]
        grid = pix.shape[-1] // ps
        _progress(log, "patch tokens", min((k + 1) * batch_size, len(image_paths)), len(image_paths), batch_size)
    py, px = _grid_coords(grid)
    return {}, {"_extra_vars": {"patches": (("stimulus", "layer", "token", "channel"), np.concatenate(out), {
        "layer": np.array([f"hidden_{v}" for v in layers]), "patch_y": ("token", py), "patch_x": ("token", px)})},
        "patches": f"hidden states {layers}: CLS then {grid}x{grid} patch tokens ({n_prefix - 1} register token(s) "
                   f"left out)"}
