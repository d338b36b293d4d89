"""amodal: modality-agnostic decoding of vision and language from fMRI.

The library behind the Snakemake workflow: synthetic data, preprocessing, features, decoders,
evaluation, searchlight and group statistics. Every module is importable without Snakemake.
"""

__version__ = "0.1.0"

HEMIS = ("left", "right")
HEMI_BIDS = {"left": "L", "right": "R"}
