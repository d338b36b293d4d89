"""Retrieval metrics (METHOD §4, §10): pairwise accuracy, retrieval ranks, recall at k and mean recall.

Everything is batched in torch: a leading batch dimension (for example one entry per searchlight centre or per
permutation) is allowed wherever noted, and the same code runs on CPU and CUDA.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch


def standardize_rows(pred: torch.Tensor, eps: float = 0.0) -> torch.Tensor:
    """Z-score each feature across the evaluation trials, as scikit-learn's StandardScaler does.

    Parameters
    ----------
    pred : tensor of shape (..., n_trials, n_dims)
    eps : float
        A feature whose SD is at most ``eps`` is only centred (scale 1), as StandardScaler leaves constant features.

    Returns
    -------
    tensor of shape (..., n_trials, n_dims)
    """
    centred = pred - pred.mean(dim=-2, keepdim=True)
    # (x*x).mean is several times faster than Tensor.std over a non-last dimension on CPU
    sd = (centred * centred).mean(dim=-2, keepdim=True).sqrt()
    sd = torch.where(sd > eps, sd, torch.ones_like(sd))
    return centred / sd


def cosine_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """1 − cosine similarity between the rows of ``a`` and of ``b``.

    Parameters
    ----------
    a : tensor of shape (..., n, d)
    b : tensor of shape (..., m, d)

    Returns
    -------
    tensor of shape (..., n, m)
    """
    an = a / a.norm(dim=-1, keepdim=True).clamp_min(torch.finfo(a.dtype).tiny)
    bn = b / b.norm(dim=-1, keepdim=True).clamp_min(torch.finfo(b.dtype).tiny)
    return 1.0 - an @ bn.transpose(-1, -2)


def unique_candidates(rows: np.ndarray, stimulus_ids) -> tuple[np.ndarray, np.ndarray]:
    """Candidates for scoring trials that may repeat a stimulus.

    Every trial is scored against each unique stimulus once, so a repeat of its own stimulus is never a wrong
    candidate.

    Parameters
    ----------
    rows : int array of shape (n_trials,)
        The trials to score (rows of the store).
    stimulus_ids : array of str, shape (n_rows,)
        The stimulus of every row of the store.

    Returns
    -------
    candidates : int array of shape (n_unique,)
        The first of ``rows`` of each unique stimulus, in order of first appearance.
    target : int array of shape (n_trials,)
        Each trial's stimulus, as an index into ``candidates``.
    """
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
    """Per-trial pairwise accuracy: the fraction of wrong candidates that are farther than the right one.

    For prediction row i with target t_i: mean over j ≠ t_i of [D(i, t_i) < D(i, j)], with D the cosine distance
    and ties counted wrong (METHOD §4). The mean over rows is the reference's pairwise accuracy (n·(m−1) pairs).

    Parameters
    ----------
    pred : tensor of shape (..., n, d)
    cand : tensor of shape (..., m, d)
    standardize : bool
        Z-score the predictions across the n rows first (:func:`standardize_rows`), as the reference does.
    target : int array of shape (n,), optional
        Each row's candidate index; by default row i's is i (then m ≥ n).

    Returns
    -------
    tensor of shape (..., n)
    """
    if standardize:
        pred = standardize_rows(pred)
    dist = cosine_distance(pred, cand)
    m = dist.shape[-1]
    wins = (_target_distance(dist, target) < dist).to(dist.dtype)
    return wins.sum(dim=-1) / (m - 1)  # the target itself never counts (D[i,t] < D[i,t] is false)


def pairwise_accuracy(pred, cand, standardize: bool = True, target=None) -> torch.Tensor:
    """Pairwise accuracy: the mean over rows of :func:`pairwise_accuracy_rows`.

    Parameters
    ----------
    pred, cand, standardize, target
        As :func:`pairwise_accuracy_rows` takes them.

    Returns
    -------
    tensor of shape (...)
    """
    return pairwise_accuracy_rows(torch.as_tensor(pred), torch.as_tensor(cand), standardize, target).mean(dim=-1)


def retrieval_ranks(pred: torch.Tensor, cand: torch.Tensor, standardize: bool = True, target=None) -> torch.Tensor:
    """1-based rank of the right candidate among all candidates, by cosine distance.

    Ties count against the prediction: rank = 1 + the number of other candidates at distance ≤ the right one's.

    Parameters
    ----------
    pred : tensor of shape (..., n, d)
    cand : tensor of shape (..., m, d)
    standardize : bool
    target : int array of shape (n,), optional
        As in :func:`pairwise_accuracy_rows`.

    Returns
    -------
    int tensor of shape (..., n)
    """
    if standardize:
        pred = standardize_rows(pred)
    dist = cosine_distance(pred, cand)
    return (dist <= _target_distance(dist, target)).sum(dim=-1)  # the true candidate counts itself once


def top_k(pred: torch.Tensor, cand: torch.Tensor, k: int = 5, standardize: bool = True) -> torch.Tensor:
    """Indices of the k nearest candidates of each prediction, nearest first.

    Parameters
    ----------
    pred : tensor of shape (n, d)
    cand : tensor of shape (m, d)
    k : int
    standardize : bool

    Returns
    -------
    int tensor of shape (n, min(k, m))
    """
    if standardize:
        pred = standardize_rows(pred)
    dist = cosine_distance(pred, cand)
    return torch.topk(dist, k=min(k, dist.shape[-1]), dim=-1, largest=False).indices


def recall_at(ranks: torch.Tensor, ks=(1, 5, 10)) -> torch.Tensor:
    """Recall at each k: whether each rank is at most k.

    Parameters
    ----------
    ranks : int tensor of shape (...)
        1-based ranks (:func:`retrieval_ranks`).
    ks : sequence of int

    Returns
    -------
    float64 tensor of shape (len(ks), ...)
        1 where ``ranks <= k``, else 0; the mean over the trials is recall@k.
    """
    ranks = torch.as_tensor(ranks)
    return torch.stack([(ranks <= k).to(torch.float64) for k in ks])


def mean_recall(ranks: torch.Tensor, ks=(1, 5, 10), per_trial: bool = False):
    """BrainCLIP's mean recall: the mean over k of recall@k.

    Parameters
    ----------
    ranks : int tensor of shape (n,)
        1-based ranks (:func:`retrieval_ranks`; ties count against the prediction).
    ks : sequence of int
    per_trial : bool
        Return each trial's mean over k (a float64 tensor of shape (n,)) instead of the scalar.

    Returns
    -------
    float, or float64 tensor of shape (n,)
        The scalar is the mean over k of the recall@k over trials.
    """
    hits = recall_at(ranks, ks)
    if per_trial:
        return hits.mean(0)
    return float(np.mean([h.mean().item() for h in hits]))
