"""Evaluation metrics (METHOD §4, §10): pairwise accuracy, retrieval ranks, bootstrap confidence intervals.

Everything is batched in torch: a leading batch dimension (for example one entry per searchlight centre or per
permutation) is allowed wherever noted, and the same code runs on CPU and CUDA.
"""

from __future__ import annotations

import numpy as np
import torch


def standardize_rows(pred: torch.Tensor, eps: float = 0.0) -> torch.Tensor:
    """Z-score each feature across the evaluation trials (dim -2), as scikit-learn's StandardScaler.

    A feature with zero variance is left centred (scale 1), as StandardScaler does.
    """
    centred = pred - pred.mean(dim=-2, keepdim=True)
    # (x*x).mean is several times faster than Tensor.std over a non-last dimension on CPU
    sd = (centred * centred).mean(dim=-2, keepdim=True).sqrt()
    sd = torch.where(sd > eps, sd, torch.ones_like(sd))
    return centred / sd


def cosine_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """1 − cosine similarity between rows of ``a`` (..., n, d) and rows of ``b`` (..., m, d)."""
    an = a / a.norm(dim=-1, keepdim=True).clamp_min(torch.finfo(a.dtype).tiny)
    bn = b / b.norm(dim=-1, keepdim=True).clamp_min(torch.finfo(b.dtype).tiny)
    return 1.0 - an @ bn.transpose(-1, -2)


def pairwise_accuracy_rows(pred: torch.Tensor, cand: torch.Tensor, standardize: bool = True) -> torch.Tensor:
    """Per prediction row i: the fraction of wrong candidates j ≠ i with D[i, i] < D[i, j] (ties are wrong).

    ``pred`` is (..., n, d); ``cand`` is (..., m, d) with m ≥ n and candidate i the target of prediction i.
    Returns (..., n). The mean over rows is the pairwise accuracy of the reference (row-wise, n·(m−1) pairs).
    """
    if standardize:
        pred = standardize_rows(pred)
    dist = cosine_distance(pred, cand)
    n, m = dist.shape[-2], dist.shape[-1]
    idx = torch.arange(n, device=dist.device)
    diag = dist[..., idx, idx].unsqueeze(-1)
    wins = (diag < dist).to(dist.dtype)
    return wins.sum(dim=-1) / (m - 1)  # the diagonal itself never counts (D[i,i] < D[i,i] is false)


def pairwise_accuracy(pred, cand, standardize: bool = True) -> torch.Tensor:
    return pairwise_accuracy_rows(torch.as_tensor(pred), torch.as_tensor(cand), standardize).mean(dim=-1)


def retrieval_ranks(pred: torch.Tensor, cand: torch.Tensor, standardize: bool = True) -> torch.Tensor:
    """1-based rank of the true candidate (candidate i for prediction i) by cosine distance; ties count
    against the prediction (rank = 1 + number of candidates at distance ≤ the true one, excluding itself)."""
    if standardize:
        pred = standardize_rows(pred)
    dist = cosine_distance(pred, cand)
    n = dist.shape[-2]
    idx = torch.arange(n, device=dist.device)
    diag = dist[..., idx, idx].unsqueeze(-1)
    return (dist <= diag).sum(dim=-1)  # the true candidate counts itself once


def top_k(pred: torch.Tensor, cand: torch.Tensor, k: int = 5, standardize: bool = True) -> torch.Tensor:
    """Indices of the k nearest candidates per prediction, nearest first."""
    if standardize:
        pred = standardize_rows(pred)
    dist = cosine_distance(pred, cand)
    return torch.topk(dist, k=min(k, dist.shape[-1]), dim=-1, largest=False).indices


def recall_at(ranks: torch.Tensor, k: int) -> torch.Tensor:
    return (ranks <= k).to(torch.float64).mean(dim=-1)


def hierarchical_bootstrap(values: list[np.ndarray], n_boot: int = 10_000, seed: int = 0,
                           ci: float = 0.95) -> tuple[float, float, float]:
    """Mean over subjects of per-subject means, with a bootstrap CI (trials within subject, then subjects).

    ``values[s]`` holds subject s's per-trial scores. Each resample draws subjects with replacement, then
    each drawn subject's trials with replacement (METHOD §4).
    """
    gen = np.random.default_rng(seed)
    n_sub = len(values)
    means = np.empty((n_boot, n_sub))
    for s, v in enumerate(values):
        v = np.asarray(v, dtype=np.float64)
        idx = gen.integers(0, v.size, size=(n_boot, v.size))
        means[:, s] = v[idx].mean(axis=1)
    pick = gen.integers(0, n_sub, size=(n_boot, n_sub))
    boot = np.take_along_axis(means, pick, axis=1).mean(axis=1)
    point = float(np.mean([np.mean(v) for v in values]))
    lo, hi = np.quantile(boot, [(1 - ci) / 2, 1 - (1 - ci) / 2])
    return point, float(lo), float(hi)
