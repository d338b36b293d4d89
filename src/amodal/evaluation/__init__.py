"""Evaluation: decoders fitted and scored per training mode (METHOD §3, §4), in one long table per study.

:func:`decode` fits one ridge decoder per feature set for a training mode (``images``, ``captions`` or
``agnostic``: :data:`amodal.data.TRAINING_MODES`) and scores it within modality, across modality and on imagery
trials; :func:`subject_scores` and :func:`summary` aggregate the per-trial scores over trials and subjects.
:func:`decode_contrastive` fits the contrastive decoders (BrainCLIP, Mind Reader) and ridge into an aligned
image–text space and scores them in the same long format, with a ``decoder`` column (:data:`CONTRASTIVE_KEYS`).
The metrics themselves are :mod:`amodal.metrics`.
"""

from ._contrastive import (CONTRASTIVE_KEYS, SUMMARY_METRICS, batch_retrieval, contrastive_summary,
                           decode_contrastive, fit_family, retrieval_metrics, zero_shot)
from ._decoding import KEYS, comparison, decode, subject_scores, summary

__all__ = ["CONTRASTIVE_KEYS", "KEYS", "SUMMARY_METRICS", "batch_retrieval", "comparison",
           "contrastive_summary", "decode", "decode_contrastive", "fit_family", "retrieval_metrics", "subject_scores",
           "summary", "zero_shot"]
