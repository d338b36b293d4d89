"""Encoding: image-to-brain models that predict each vertex's response from an image's features.

:func:`encode_subject` fits a voxelwise banded ridge (himalaya) per subject and scores it per vertex against a
noise ceiling (:func:`noise_ceiling`) and by image retrieval (:func:`retrieval_ranks`).
"""

from ._voxelwise import (encode_subject, fit_banded_ridge, full_mesh_maps, noise_ceiling, pearson_columns,
                         repeated_presentations, retrieval_ranks, summarize_subject, vertex_region_types)

__all__ = ["encode_subject", "fit_banded_ridge", "full_mesh_maps", "noise_ceiling", "pearson_columns",
           "repeated_presentations", "retrieval_ranks", "summarize_subject", "vertex_region_types"]
