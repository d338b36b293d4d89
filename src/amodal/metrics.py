"""Evaluation metrics (METHOD §4, §10): pairwise accuracy, retrieval ranks, bootstrap confidence intervals.

Everything is batched in torch: a leading batch dimension (for example one entry per searchlight centre or per
permutation) is allowed wherever noted, and the same code runs on CPU and CUDA.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
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


def unique_candidates(rows: np.ndarray, stimulus_ids) -> tuple[np.ndarray, np.ndarray]:
    """Candidates for scoring trials that may repeat a stimulus: the first of ``rows`` of each unique stimulus
    (in order of first appearance) and, per row, the index of its stimulus among those candidates. Every trial
    is then scored against each unique stimulus once: a repeat of its own stimulus is never a wrong candidate."""
    rows = np.asarray(rows, np.int64)
    codes, uniq = pd.factorize(np.asarray(stimulus_ids)[rows], sort=False)
    first = np.full(len(uniq), -1, np.int64)
    first[codes[::-1]] = rows[::-1]  # the last write wins: the first row of each code
    return first, codes.astype(np.int64)


def _target_distance(dist: torch.Tensor, target) -> torch.Tensor:
    n = dist.shape[-2]
    idx = torch.arange(n, device=dist.device)
    t = idx if target is None else torch.as_tensor(np.asarray(target), dtype=torch.long, device=dist.device)
    if t.shape != (n,):
        raise ValueError(f"target must give one candidate index per prediction row ({n}), got shape {tuple(t.shape)}")
    return dist[..., idx, t].unsqueeze(-1)


def pairwise_accuracy_rows(pred: torch.Tensor, cand: torch.Tensor, standardize: bool = True,
                           target=None) -> torch.Tensor:
    """Per prediction row i: the fraction of wrong candidates j ≠ t_i with D[i, t_i] < D[i, j] (ties are wrong).

    ``pred`` is (..., n, d); ``cand`` is (..., m, d). ``target`` (n,) gives each row's candidate index t_i;
    by default t_i = i (then m ≥ n). Returns (..., n). The mean over rows is the pairwise accuracy of the
    reference (row-wise, n·(m−1) pairs).
    """
    if standardize:
        pred = standardize_rows(pred)
    dist = cosine_distance(pred, cand)
    m = dist.shape[-1]
    wins = (_target_distance(dist, target) < dist).to(dist.dtype)
    return wins.sum(dim=-1) / (m - 1)  # the target itself never counts (D[i,t] < D[i,t] is false)


def pairwise_accuracy(pred, cand, standardize: bool = True, target=None) -> torch.Tensor:
    return pairwise_accuracy_rows(torch.as_tensor(pred), torch.as_tensor(cand), standardize, target).mean(dim=-1)


def retrieval_ranks(pred: torch.Tensor, cand: torch.Tensor, standardize: bool = True, target=None) -> torch.Tensor:
    """1-based rank of the true candidate (candidate ``target[i]``, by default i, for prediction i) by cosine
    distance; ties count against the prediction (rank = 1 + number of other candidates at distance ≤ the true
    one)."""
    if standardize:
        pred = standardize_rows(pred)
    dist = cosine_distance(pred, cand)
    return (dist <= _target_distance(dist, target)).sum(dim=-1)  # the true candidate counts itself once


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
