"""Metrics: pairwise accuracy, retrieval ranks, recall at k, mean recall, Pearson r and the hierarchical bootstrap
(METHOD §4, §10).

A leaf of the library: it imports no other part of amodal, so every stage (models, evaluation, encoding,
searchlight, figures) scores with the same code. Everything that takes tensors is batched in torch and runs on CPU
and CUDA alike.
"""

from ._bootstrap import hierarchical_bootstrap
from ._correlation import pearson_columns, pearson_r
from ._retrieval import (cosine_distance, mean_recall, pairwise_accuracy, pairwise_accuracy_rows, recall_at,
                         retrieval_ranks, standardize_rows, top_k, unique_candidates)

__all__ = ["cosine_distance", "hierarchical_bootstrap", "mean_recall", "pairwise_accuracy", "pairwise_accuracy_rows",
           "pearson_columns", "pearson_r", "recall_at", "retrieval_ranks", "standardize_rows", "top_k",
           "unique_candidates"]
