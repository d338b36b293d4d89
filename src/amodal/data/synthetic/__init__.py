"""The embedded synthetic dataset: procedurally drawn scenes with captions written from the same scene, and
surface betas on fsaverage with planted visual, language and modality-invariant regions (METHOD §9).

:func:`generate` writes the dataset in the layout of :mod:`amodal.data`, so every later stage reads it as it
reads real data. :func:`generate_nsd` writes a synthetic Natural Scenes Dataset in NSD's own download format, read
through :mod:`amodal.data.adapters.nsd` like the real one.
"""

from ._generator import (RF_GRID, TEMPLATES, generate, local_appearance, make_stimuli, make_trials, receptive_fields,
                         region_profile, simulate_subject, stimulus_sources, subjects_of)
from ._nsd import (NSD_ATLAS, NSD_DEFAULTS, VERTEX_TYPES, generate_nsd, nsd_design, nsdgeneral_masks,
                   simulate_nsd_subject, vertex_types)
from ._scenes import CATEGORIES, COLOURS, HPOS, VPOS, Scene, caption, render, sample_scene

__all__ = ["caption", "CATEGORIES", "COLOURS", "generate", "generate_nsd", "HPOS", "local_appearance", "make_stimuli",
           "make_trials", "NSD_ATLAS", "NSD_DEFAULTS", "nsd_design", "nsdgeneral_masks", "receptive_fields",
           "region_profile", "render", "RF_GRID", "sample_scene", "Scene", "simulate_nsd_subject", "simulate_subject",
           "stimulus_sources", "subjects_of", "TEMPLATES", "VERTEX_TYPES", "vertex_types", "VPOS"]
