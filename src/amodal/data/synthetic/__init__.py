"""The embedded synthetic dataset: procedurally drawn scenes with captions written from the same scene, and
surface betas on fsaverage with planted visual, language and modality-invariant regions (METHOD §9).

:func:`generate` writes the dataset in the layout of :mod:`amodal.data`, so every later stage reads it as it
reads real data.
"""

from ._generator import (REGION_TYPES, RF_CHANNELS, RF_GRID, TEMPLATES, local_appearance, make_stimuli, make_trials,
                         receptive_fields, region_profile, rf_responses, simulate_subject, stimulus_sources,
                         subjects_of, template_atlas, generate)
from ._scenes import (BACKGROUNDS, CATEGORIES, COLOURS, HPOS, SIZES, VPOS, Scene, SceneObject, appearance_vector,
                      caption, render, sample_scene, semantic_vector, text_vector)

__all__ = ["BACKGROUNDS", "CATEGORIES", "COLOURS", "HPOS", "REGION_TYPES", "RF_CHANNELS", "RF_GRID", "SIZES",
           "TEMPLATES", "VPOS", "Scene", "SceneObject", "appearance_vector", "caption", "generate", "local_appearance",
           "make_stimuli", "make_trials", "receptive_fields", "region_profile", "render", "rf_responses",
           "sample_scene", "semantic_vector", "simulate_subject", "stimulus_sources", "subjects_of",
           "template_atlas", "text_vector"]
