"""Encoding: image-to-brain models that predict each vertex's response from an image's features.

:func:`encode_subject` fits a voxelwise banded ridge (himalaya) per subject and scores it per vertex against a
noise ceiling (:func:`noise_ceiling`) and by image retrieval (:func:`retrieval_ranks`).
:class:`UniversalBrainEncoder` is one network for every subject with a learned embedding per vertex, trained by
:func:`train_ube` (Beliy et al. 2024); :mod:`ube_study` runs its study (joint,
single-subject and transfer training, scores, clusters of the vertex embeddings) on preprocessed stores.
"""

from . import _ube_study as ube_study
from ._ube import UniversalBrainEncoder, predict as ube_predict, train_ube, ube_loss
from ._voxelwise import (encode_subject, fit_banded_ridge, full_mesh_maps, noise_ceiling, repeated_presentations,
                         retrieval_ranks, summarize_subject, vertex_region_types, write_encoder_maps)

__all__ = ["encode_subject", "fit_banded_ridge", "full_mesh_maps", "noise_ceiling", "repeated_presentations",
           "retrieval_ranks", "summarize_subject", "train_ube", "ube_loss", "ube_predict", "ube_study",
           "UniversalBrainEncoder",
           "vertex_region_types", "write_encoder_maps"]
