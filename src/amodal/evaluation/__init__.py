"""Evaluation: pairwise accuracy and retrieval, decoders fitted and scored per training mode, and the
hierarchical bootstrap (METHOD §4).

:func:`decode` fits one ridge decoder per feature set for a training mode (``images``, ``captions`` or
``agnostic``) and scores it within modality, across modality and on imagery trials; :func:`subject_scores`
and :func:`summary` aggregate the per-trial scores over trials and subjects. :func:`decode_contrastive` fits the
contrastive decoders (BrainCLIP, Mind Reader) and ridge into an aligned image–text space and scores them in the
same long format, with a ``decoder`` column (:data:`CONTRASTIVE_KEYS`).
"""

from ._bootstrap import hierarchical_bootstrap
from ._contrastive import (CONTRASTIVE_KEYS, FAMILIES, SUMMARY_METRICS, batch_retrieval, contrastive_summary, decode_contrastive, fit_family,
                           retrieval_metrics, zero_shot)
from ._decoding import KEYS, MODE_MODALITIES, TRAINING_MODES, comparison, decode, subject_scores, summary
from ._metrics import (cosine_distance, pairwise_accuracy, pairwise_accuracy_rows, recall_at, retrieval_ranks,
                       standardize_rows, top_k, unique_candidates)

__all__ = ["CONTRASTIVE_KEYS", "FAMILIES", "SUMMARY_METRICS", "batch_retrieval", "contrastive_summary", "decode_contrastive", "fit_family",
           "retrieval_metrics", "zero_shot", "KEYS", "MODE_MODALITIES", "TRAINING_MODES", "comparison", "cosine_distance", "decode",
           "hierarchical_bootstrap", "pairwise_accuracy", "pairwise_accuracy_rows", "recall_at", "retrieval_ranks",
           "standardize_rows", "subject_scores", "summary", "top_k", "unique_candidates"]
