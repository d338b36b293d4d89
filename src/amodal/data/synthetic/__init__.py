"""The embedded synthetic dataset: procedurally drawn scenes with captions written from the same scene, and
surface betas on fsaverage with planted visual, language and modality-invariant regions (METHOD §9).

:func:`generate` writes the dataset in the layout of :mod:`amodal.data`, so every later stage reads it as it
reads real data.
"""

from ._generator import (RF_GRID, TEMPLATES, generate, local_appearance, make_stimuli, make_trials, receptive_fields,
                         region_profile, simulate_subject, stimulus_sources, subjects_of)
from ._scenes import CATEGORIES, COLOURS, HPOS, VPOS, Scene, caption, render, sample_scene

__all__ = ["CATEGORIES", "COLOURS", "HPOS", "RF_GRID", "TEMPLATES", "VPOS", "caption", "generate", "local_appearance",
           "make_stimuli", "make_trials", "receptive_fields", "region_profile", "render", "sample_scene", "Scene",
           "simulate_subject", "stimulus_sources", "subjects_of"]
