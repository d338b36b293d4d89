"""Feature extraction: a registry of feature models, each mapping stimuli to feature sets (METHOD §2).

Feature sets:
- ``vision``: the model's image vector (CLS/pooled or the mean over patch tokens);
- ``lang``: the model's caption vector (CLS/EOS/pooled or the attention-masked mean over tokens);
- ``avg``: the mean of the model's own vision and lang vectors, each standardised first (multimodal models);
- ``fused``: a joint image+caption encoder's CLS or mean (ViLT-style models).

Every stimulus has an image and a caption, so every feature set is defined for every stimulus: a language
model reads the caption of an image trial, a vision model sees the image of a caption trial (Fig. 2C), and
the targets of a stimulus are the same whatever the trial's modality.

Backends (``backend`` of a model definition): ``sentence_transformers``, ``gabor``, ``hf_text`` (BERT, GPT-2,
...), ``hf_vision`` (ViT, DINOv2, ...), ``hf_clip`` (CLIP, SigLIP, ...), ``hf_fused`` (ViLT), ``open_clip`` and
``combine`` (vision from one model, lang from another) and ``dual_encoder`` (an image–text space trained offline
on drawn synthetic scenes, :mod:`amodal.features._dual_encoder`). Hub ids and local folders load through the same code.

Every backend is called as ``backend(spec, captions, image_paths, device, batch_size, log)``: ``spec`` is the
model definition, ``captions`` (n_stimuli,) str, ``image_paths`` (n_stimuli,) paths. It returns
``(sets, attrs)``: ``sets`` maps each feature set it makes to an array of shape (n_stimuli, n_dims), and
``attrs`` records how (pooling, layers) for the store's attributes.
"""

from __future__ import annotations

import importlib.metadata as md
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr

from ..device import resolve_device
from ..errors import ConfigError, DataError
from ._dual_encoder import extract_dual_encoder
from ._gabor import extract_gabor
from ._patches import extract_gabor_patches, extract_hf_vision_patches
from ._registry import EXTRACTOR_VERSION, default_feature_set, minilm_path, model_definition
from ._targets import average_sets, targets_for
from ._util import backend_doc, batches as _batches, progress as _progress
from ._vit import load_images as _load_images, n_prefix_tokens, patch_size as _patch_size


def _masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp_min(1)


def _to_tensor(out):
    """transformers 5 returns output objects from get_*_features: take the pooled (projected) embedding."""
    if isinstance(out, torch.Tensor):
        return out
    for attr in ("pooler_output", "image_embeds", "text_embeds"):
        val = getattr(out, attr, None)
        if val is not None:
            return val
    raise TypeError(f"cannot find an embedding in {type(out).__name__}")


# --------------------------------------------------------------------------------------------------------------
# backends: each returns {feature_set: (n_stimuli, dim) float32 array} and a dict of attrs


@backend_doc(
    spec="The model definition (``model_id``: a hub id, a folder, or ``builtin:all-MiniLM-L6-v2``).",
    sets="``lang``, each an array of shape (n_stimuli, n_dims).")
def extract_sentence_transformers(spec, captions, image_paths, device, batch_size, log):
    """sentence-transformers models: the caption embedding, with the model's own pooling and normalisation."""
    from sentence_transformers import SentenceTransformer

    path = spec["model_id"]
    if path == "builtin:all-MiniLM-L6-v2":
        path = minilm_path()
    model = SentenceTransformer(path, device=str(device))
    out = []
    for k, batch in enumerate(_batches(list(captions), batch_size)):
        out.append(model.encode(batch, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False))
        _progress(log, "sentence-transformers", min((k + 1) * batch_size, len(captions)), len(captions), batch_size)
    return {"lang": np.concatenate(out)}, {"pooling": "mean (model's own pooling and normalisation)",
                                          "model_path": path}


def _hf_text(model, tokenizer, captions, pooling, device, batch_size, log, forward: Callable | None = None):
    out = []
    for k, batch in enumerate(_batches(list(captions), batch_size)):
        enc = tokenizer(batch, padding=True, truncation=True, return_tensors="pt").to(device)
        hidden = (forward or (lambda e: model(**e).last_hidden_state))(enc)
        mask = enc["attention_mask"]
        if pooling == "mean":
            vec = _masked_mean(hidden, mask)
        elif pooling == "cls":
            vec = hidden[:, 0]
        elif pooling == "last":  # causal LMs: the last non-padding token
            last = mask.sum(1) - 1
            vec = hidden[torch.arange(hidden.shape[0], device=device), last]
        else:
            raise ConfigError(f"unknown text pooling {pooling!r}; use mean, cls or last")
        out.append(vec.float().cpu().numpy())
        _progress(log, "text", min((k + 1) * batch_size, len(captions)), len(captions), batch_size)
    return np.concatenate(out)


def _hf_images(model_fn, processor, image_paths, pooling, device, batch_size, log, patch_size):
    """Image vectors: ``mean`` over the patch tokens the model has (CLS and register tokens left out, nothing
    dropped from models without them, such as SigLIP); ``cls`` the CLS token. Returns (vectors, prefix count)."""
    out, n_prefix = [], None
    for k, batch in enumerate(_batches(list(image_paths), batch_size)):
        pix = processor(images=_load_images(batch), return_tensors="pt")["pixel_values"].to(device)
        hidden = model_fn(pix)
        n_prefix = n_prefix_tokens(hidden, pix, patch_size)
        if pooling == "mean":
            vec = hidden[:, n_prefix:].mean(1)
        elif pooling == "cls":
            if n_prefix == 0:
                raise ConfigError("pooling: cls, but this model has no CLS token (only patch tokens, as SigLIP); "
                                  "use pooling: mean")
            vec = hidden[:, 0]
        else:
            raise ConfigError(f"unknown vision pooling {pooling!r}; use mean or cls")
        out.append(vec.float().cpu().numpy())
        _progress(log, "images", min((k + 1) * batch_size, len(image_paths)), len(image_paths), batch_size)
    return np.concatenate(out), n_prefix


def _vision_pooling_note(pooling, n_prefix):
    return f"mean over patch tokens ({n_prefix} CLS/register token(s) left out)" if pooling == "mean" else pooling


def _tokenizer(model_id):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_id)
    if tok.pad_token is None:  # GPT-2 style tokenizers have no padding token
        tok.pad_token = tok.eos_token if tok.eos_token is not None else tok.unk_token
    return tok


@backend_doc(
    spec="The model definition (``model_id``, ``pooling``).",
    sets="``lang``, each an array of shape (n_stimuli, n_dims).")
@torch.no_grad()
def extract_hf_text(spec, captions, image_paths, device, batch_size, log):
    """Hugging Face text encoders (BERT, GPT-2, ...): the attention-masked mean (``pooling: mean``), the
    first token (``cls``) or the last real token (``last``) of the last hidden state."""
    from transformers import AutoModel

    model = AutoModel.from_pretrained(spec["model_id"]).to(device).eval()
    pooling = spec.get("pooling", "mean")
    tok = _tokenizer(spec["model_id"])
    return {"lang": _hf_text(model, tok, captions, pooling, device, batch_size, log)}, {"pooling": pooling}


@backend_doc(
    spec="The model definition (``model_id``, ``pooling``).",
    sets="``vision``, each an array of shape (n_stimuli, n_dims).")
@torch.no_grad()
def extract_hf_vision(spec, captions, image_paths, device, batch_size, log):
    """Hugging Face vision transformers (ViT, DINOv2, ...): the mean over the patch tokens
    (``pooling: mean``; CLS and register tokens left out, see :func:`n_prefix_tokens`) or the CLS token (``cls``)."""
    from transformers import AutoImageProcessor, AutoModel

    model = AutoModel.from_pretrained(spec["model_id"]).to(device).eval()
    proc = AutoImageProcessor.from_pretrained(spec["model_id"])
    pooling = spec.get("pooling", "mean")
    vis, n_prefix = _hf_images(lambda pix: model(pixel_values=pix).last_hidden_state, proc, image_paths, pooling,
                               device, batch_size, log, _patch_size(model.config))
    return {"vision": vis}, {"pooling": _vision_pooling_note(pooling, n_prefix)}


@backend_doc(
    spec="The model definition (``model_id``, ``pooling``).",
    sets="``vision`` and ``lang``, each an array of shape (n_stimuli, n_dims).")
@torch.no_grad()
def extract_hf_clip(spec, captions, image_paths, device, batch_size, log):
    """CLIP-style dual encoders (CLIP, SigLIP). ``pooling: cls`` takes the projected embeddings
    (``get_image_features``/``get_text_features``); ``pooling: mean`` the mean of each tower's last hidden state."""
    from transformers import AutoImageProcessor, AutoModel

    model = AutoModel.from_pretrained(spec["model_id"]).to(device).eval()
    proc = AutoImageProcessor.from_pretrained(spec["model_id"])
    tok = _tokenizer(spec["model_id"])
    pooling = spec.get("pooling", "cls")
    if pooling == "cls":
        vis, lang = [], []
        for k, batch in enumerate(_batches(list(image_paths), batch_size)):
            pix = proc(images=_load_images(batch), return_tensors="pt")["pixel_values"].to(device)
            vis.append(_to_tensor(model.get_image_features(pixel_values=pix)).float().cpu().numpy())
            _progress(log, "images", min((k + 1) * batch_size, len(image_paths)), len(image_paths), batch_size)
        for k, batch in enumerate(_batches(list(captions), batch_size)):
            enc = tok(batch, padding=spec.get("padding", True), truncation=True, return_tensors="pt").to(device)
            enc = {key: v for key, v in enc.items() if key in ("input_ids", "attention_mask")}
            lang.append(_to_tensor(model.get_text_features(**enc)).float().cpu().numpy())
            _progress(log, "captions", min((k + 1) * batch_size, len(captions)), len(captions), batch_size)
        return {"vision": np.concatenate(vis), "lang": np.concatenate(lang)}, {"pooling": "projected embeddings"}
    vis, n_prefix = _hf_images(lambda pix: model.vision_model(pixel_values=pix).last_hidden_state, proc,
                               image_paths, "mean", device, batch_size, log, _patch_size(model.config))
    lang = _hf_text(model, tok, captions, "mean", device, batch_size, log,
                    forward=lambda e: model.text_model(input_ids=e["input_ids"],
                                                       attention_mask=e["attention_mask"]).last_hidden_state)
    return {"vision": vis, "lang": lang}, {
        "pooling": f"images: {_vision_pooling_note('mean', n_prefix)}; captions: attention-masked mean of tokens"}


@backend_doc(
    spec="The model definition (``model_id``, ``pooling``).",
    sets="``fused``, each an array of shape (n_stimuli, n_dims).")
@torch.no_grad()
def extract_hf_fused(spec, captions, image_paths, device, batch_size, log):
    """Joint image+caption encoders (ViLT): the fused CLS token or the mean over all fused tokens."""
    from transformers import AutoImageProcessor, AutoModel

    model = AutoModel.from_pretrained(spec["model_id"]).to(device).eval()
    proc = AutoImageProcessor.from_pretrained(spec["model_id"])
    tok = _tokenizer(spec["model_id"])
    pooling = spec.get("pooling", "cls")
    out = []
    pairs = list(zip(captions, image_paths))
    for k, batch in enumerate(_batches(pairs, batch_size)):
        caps, paths = zip(*batch)
        enc = tok(list(caps), padding=True, truncation=True, return_tensors="pt").to(device)
        img = proc(images=_load_images(paths), return_tensors="pt")
        hidden = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                       pixel_values=img["pixel_values"].to(device),
                       pixel_mask=img.get("pixel_mask", None).to(device) if "pixel_mask" in img else None
                       ).last_hidden_state
        vec = hidden[:, 0] if pooling == "cls" else hidden.mean(1)
        out.append(vec.float().cpu().numpy())
        _progress(log, "pairs", min((k + 1) * batch_size, len(pairs)), len(pairs), batch_size)
    return {"fused": np.concatenate(out)}, {"pooling": pooling}


@backend_doc(
    spec="The model definition (``model_id`` the architecture (e.g. ViT-B-32), ``pretrained`` a tag or a checkpoint "
         "file (open_clip resolves both the same way), ``model_config`` an optional architecture JSON to register).",
    sets="``vision`` and ``lang``, each an array of shape (n_stimuli, n_dims).")
@torch.no_grad()
def extract_open_clip(spec, captions, image_paths, device, batch_size, log):
    """open_clip models: the projected image and caption embeddings."""
    import open_clip

    if spec.get("model_config"):  # a local architecture JSON (e.g. a custom or tiny model) registers its name
        open_clip.add_model_config(spec["model_config"])
    model, _, preprocess = open_clip.create_model_and_transforms(spec["model_id"],
                                                                 pretrained=spec.get("pretrained"),
                                                                 device=device)
    model.eval()
    tokenizer = open_clip.get_tokenizer(spec["model_id"])
    vis, lang = [], []
    for k, batch in enumerate(_batches(list(image_paths), batch_size)):
        pix = torch.stack([preprocess(im) for im in _load_images(batch)]).to(device)
        vis.append(model.encode_image(pix).float().cpu().numpy())
        _progress(log, "images", min((k + 1) * batch_size, len(image_paths)), len(image_paths), batch_size)
    for k, batch in enumerate(_batches(list(captions), batch_size)):
        lang.append(model.encode_text(tokenizer(batch).to(device)).float().cpu().numpy())
        _progress(log, "captions", min((k + 1) * batch_size, len(captions)), len(captions), batch_size)
    return {"vision": np.concatenate(vis), "lang": np.concatenate(lang)}, {"pooling": "projected embeddings"}


BACKENDS = {
    "sentence_transformers": extract_sentence_transformers,
    "gabor": extract_gabor,
    "hf_text": extract_hf_text,
    "hf_vision": extract_hf_vision,
    "hf_clip": extract_hf_clip,
    "hf_fused": extract_hf_fused,
    "open_clip": extract_open_clip,
    "dual_encoder": extract_dual_encoder,
    "combine": None,  # resolved in extract()
    "gabor_patches": extract_gabor_patches,
    "hf_vision_patches": extract_hf_vision_patches,
}


def extract(name: str, stimuli: pd.DataFrame, stimuli_dir, definitions: dict | None = None, device="auto",
            batch_size: int = 32, log=print, components: dict | None = None, seed: int = 0) -> xr.Dataset:
    """Extract every feature set of model ``name`` for all stimuli.

    Parameters
    ----------
    name : str
        A registered model (:func:`amodal.features.model_definition`).
    stimuli : pandas.DataFrame
        The stimuli table (``id``, ``caption``, ``image_file``).
    stimuli_dir : str or Path
        The folder ``image_file`` is relative to.
    definitions : dict, optional
        The config's ``features.definitions``.
    device : str or torch.device
        ``"auto"``, ``"cpu"``, ``"cuda"``... (:func:`amodal.device.resolve_device`).
    batch_size : int
    log : callable
    components : dict, optional
        For a ``combine`` model: already extracted Datasets of its component models, reused instead of computed
        again.
    seed : int
        The master seed, for backends that draw random numbers (``dual_encoder`` trains on drawn scenes).

    Returns
    -------
    xarray.Dataset
        One float32 array ``(stimulus, dim_<set>)`` per feature set (``avg`` added whenever ``vision`` and
        ``lang`` both exist), with the model, backend, definition and library versions in ``attrs``.

    Raises
    ------
    DataError
        For missing stimulus images or non-finite features.
    """
    spec = model_definition(name, definitions)
    dev = resolve_device(device) if isinstance(device, str) else device
    captions = stimuli["caption"].tolist()
    paths = [Path(stimuli_dir) / f for f in stimuli["image_file"]]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise DataError(f"{len(missing)} stimulus image(s) missing, e.g. {missing[:3]}; check the stimuli table "
                        f"{Path(stimuli_dir) / 'stimuli.tsv'} and its image_file column")
    log(f"extracting {name} ({spec['backend']}) for {len(captions)} stimuli on {dev}")
    if spec["backend"] == "combine":
        comps = components or {}
        sub_v = comps.get(spec["vision_model"]) or extract(spec["vision_model"], stimuli, stimuli_dir, definitions,
                                                           dev, batch_size, log)
        sub_l = comps.get(spec["lang_model"]) or extract(spec["lang_model"], stimuli, stimuli_dir, definitions, dev,
                                                         batch_size, log)
        ids = stimuli["id"].to_numpy(dtype=str)
        sets = {"vision": targets_for(sub_v, "vision", ids, spec["vision_model"]),
                "lang": targets_for(sub_l, "lang", ids, spec["lang_model"])}
        attrs = {"vision_model": spec["vision_model"], "lang_model": spec["lang_model"],
                 "vision_attrs": str(sub_v.attrs), "lang_attrs": str(sub_l.attrs)}
    else:
        sets, attrs = BACKENDS[spec["backend"]]({**spec, "seed": seed}, captions, paths, dev, batch_size, log)
    # arrays that are not per-stimulus feature sets (the zero-shot class embeddings of a text tower)
    extra = attrs.pop("_extra_vars", {})
    if "vision" in sets and "lang" in sets:
        sets["avg"], attrs["avg"] = average_sets(sets["vision"], sets["lang"])
    data_vars = {}
    for key, arr in sets.items():
        arr = np.asarray(arr, dtype=np.float32)
        if not np.isfinite(arr).all():
            raise DataError(f"feature model {name!r} produced non-finite {key} features")
        data_vars[key] = (("stimulus", f"dim_{key}"), arr)
    coords = {"stimulus": stimuli["id"].to_numpy(dtype=str)}
    for key, (dims, arr, var_coords) in extra.items():
        data_vars[key] = (dims, np.asarray(arr, dtype=np.float32))
        coords.update(var_coords)
    versions = {}
    for pkg in ("torch", "transformers", "sentence-transformers", "open_clip_torch", "scikit-image", "amodal"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return xr.Dataset(data_vars, coords=coords, attrs={
        "model": name, "backend": spec["backend"], "model_id": str(spec.get("model_id", spec.get("backend"))),
        "definition": str(spec), "extractor_version": EXTRACTOR_VERSION, "default_set": default_feature_set(
            name, definitions), "library_versions": str(versions), **{k: str(v) for k, v in attrs.items()}})
