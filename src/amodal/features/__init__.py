"""Features: a registry of feature models that map each stimulus to feature sets, their extractors, and the
targets of a decoder (METHOD §2).

Patch models (backends ``gabor_patches``, ``hf_vision_patches``) make one array, ``patches`` (stimulus × layer ×
token × channel), for image-to-brain encoders (:mod:`amodal.features._patches`); they are not decoded.

Feature sets: ``vision`` (the image vector), ``lang`` (the caption vector), ``avg`` (the mean of the model's own
standardised vision and lang vectors) and ``fused`` (a joint image+caption encoder). Every stimulus has an image
and a caption, so every set is defined for every stimulus and the targets of a stimulus do not depend on the
modality of the trial.

Importing this package does not import torch: the registry (:func:`model_definition`,
:func:`default_feature_set`) and the stores (:func:`open_features`, :func:`targets_for`) are light, and the
extractors (:func:`extract`, :data:`BACKENDS` and the ``extract_*`` backends) load on first use.
"""

from importlib import import_module

from ._registry import BACKEND_NAMES, FEATURE_SETS, PATCH_BACKENDS, default_feature_set, minilm_path, model_definition
from ._targets import open_features, targets_for

_LAZY = {
    "extract": "._backends", "BACKENDS": "._backends", "n_prefix_tokens": "._vit",
    "extract_sentence_transformers": "._backends", "extract_hf_text": "._backends",
    "extract_hf_vision": "._backends", "extract_hf_clip": "._backends", "extract_hf_fused": "._backends",
    "extract_open_clip": "._backends",
    "extract_dual_encoder": "._dual_encoder", "train_dual_encoder": "._dual_encoder",
    "class_embeddings": "._dual_encoder", "PROMPT_TEMPLATES": "._dual_encoder",
    "extract_gabor": "._gabor", "gabor_bank": "._gabor", "gabor_energy": "._gabor",
    "extract_gabor_patches": "._patches", "extract_hf_vision_patches": "._patches",
}

__all__ = ["BACKEND_NAMES", "FEATURE_SETS", "PATCH_BACKENDS", "default_feature_set", "minilm_path", "model_definition",
           "open_features", "targets_for", *_LAZY]


def __getattr__(name):
    # The extractors import torch, transformers and PIL: load them only when asked for (PEP 562).
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
