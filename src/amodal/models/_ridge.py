"""Ridge regression without intercept, in torch, with alpha chosen by cross-validation on the train split.

Why not himalaya or scikit-learn directly: the reference scores CV folds with *pairwise accuracy* rather than
R², and the searchlight needs the same solver batched over thousands of neighbourhoods on CPU or CUDA. One
eigendecomposition per fold gives the predictions for every alpha at once. Results are checked against
scikit-learn's ``Ridge``/``RidgeCV`` in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .. import metrics
from ..standardize import column_blocks


def _dual_predictions(k_tr: torch.Tensor, y_tr: torch.Tensor, k_ev: torch.Tensor, alphas: torch.Tensor):
    """Kernel ridge predictions under each alpha, (n_alphas, n_ev, q), from the train Gram matrix ``k_tr`` (n, n)
    and the evaluation rows' products with the train rows ``k_ev`` (n_ev, n): one eigendecomposition for all."""
    evals, evecs = torch.linalg.eigh(k_tr)
    evals = evals.clamp_min(0)
    uy = evecs.transpose(-1, -2) @ y_tr  # (n, q)
    k_ev = k_ev @ evecs  # (n_ev, n)
    return torch.stack([k_ev @ (uy / (evals + a).unsqueeze(-1)) for a in alphas])


def _columns(x, cols: slice) -> np.ndarray | torch.Tensor:
    """Columns ``cols`` of an array, a tensor, or a :class:`amodal.standardize.StandardizedRows`."""
    return x.columns(cols) if hasattr(x, "columns") else x[:, cols]


def gram(x, dtype=torch.float64, device=None) -> torch.Tensor:
    """``x xᵀ`` of shape (n, n) in ``dtype``, summed over column blocks, so that ``x`` is never converted whole.

    Parameters
    ----------
    x : array, tensor or :class:`amodal.standardize.StandardizedRows` of shape (n, p)
    dtype : torch.dtype
    device : torch.device, optional
    """
    n = x.shape[0]
    k = torch.zeros((n, n), dtype=dtype, device=device)
    for b in column_blocks(x.shape):
        xb = torch.as_tensor(_columns(x, b), dtype=dtype, device=device)
        k.addmm_(xb, xb.T)
    return k


def _t_times(x, a: torch.Tensor) -> torch.Tensor:
    """``xᵀ a`` of shape (p, q), by column blocks of ``x`` (n, p)."""
    out = torch.empty((x.shape[1], a.shape[1]), dtype=a.dtype, device=a.device)
    for b in column_blocks(x.shape):
        out[b] = torch.as_tensor(_columns(x, b), dtype=a.dtype, device=a.device).T @ a
    return out


def _primal_predictions(x_tr: torch.Tensor, y_tr: torch.Tensor, x_ev: torch.Tensor, alphas: torch.Tensor):
    """Predictions for x_ev under each alpha, (n_alphas, n_ev, q), in the primal form (p ≤ n): one
    eigendecomposition of xᵀx for all."""
    g = x_tr.transpose(-1, -2) @ x_tr
    evals, evecs = torch.linalg.eigh(g)
    evals = evals.clamp_min(0)
    vxy = evecs.transpose(-1, -2) @ (x_tr.transpose(-1, -2) @ y_tr)  # (p, q)
    xv = x_ev @ evecs
    return torch.stack([xv @ (vxy / (evals + a).unsqueeze(-1)) for a in alphas])


def _dual_coef(x, k: torch.Tensor, y: torch.Tensor, alpha: float) -> torch.Tensor:
    """Ridge coefficients ``xᵀ (k + alpha I)⁻¹ y`` from the Gram matrix ``k = x xᵀ`` (changed in place)."""
    k.diagonal().add_(alpha)
    return _t_times(x, torch.linalg.solve(k, y))


def ridge_fit(x: torch.Tensor, y: torch.Tensor, alpha: float) -> torch.Tensor:
    """Ridge coefficients without intercept: argmin_W ||Y − XW||² + alpha ||W||².

    Solved in the dual when there are more features than rows, in the primal otherwise.

    Parameters
    ----------
    x : tensor of shape (n, p)
    y : tensor of shape (n, q)
    alpha : float

    Returns
    -------
    tensor of shape (p, q)
    """
    n, p = x.shape
    if p > n:
        return _dual_coef(x, x @ x.T, y, alpha)
    g = x.T @ x
    g.diagonal().add_(alpha)
    return torch.linalg.solve(g, x.T @ y)


def kfold(n: int, n_splits: int, seed: int, groups=None):
    """Cross-validation folds: shuffled K folds from ``seed``, or whole groups (for example runs) per fold.

    Parameters
    ----------
    n : int
        Number of rows.
    n_splits : int
    seed : int
    groups : array of shape (n,), optional
        When given and there are at least ``n_splits`` groups, each group goes whole to one fold.

    Returns
    -------
    list of (train_index, validation_index)
        Sorted int arrays.
    """
    if groups is not None:
        uniq = np.unique(groups)
        if uniq.size >= n_splits:
            gen = np.random.default_rng(seed)
            order = gen.permutation(uniq)
            assign = {g: k % n_splits for k, g in enumerate(order)}
            fold_of = np.array([assign[g] for g in groups])
            return [(np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)) for k in range(n_splits)]
    idx = np.random.default_rng(seed).permutation(n)
    parts = np.array_split(idx, n_splits)
    return [(np.sort(np.concatenate(parts[:k] + parts[k + 1:])), np.sort(parts[k])) for k in range(n_splits)]


def score_predictions(pred: torch.Tensor, y: torch.Tensor, scorer: str) -> torch.Tensor:
    """Score each alpha's validation predictions (higher is better).

    Parameters
    ----------
    pred : tensor of shape (n_alphas, n, q)
    y : tensor of shape (n, q)
    scorer : {"pairwise_accuracy", "r2", "neg_mse"}
        Pairwise accuracy is unstandardised here, as the reference scores its CV folds.

    Returns
    -------
    tensor of shape (n_alphas,)
    """
    if scorer == "pairwise_accuracy":

        return torch.stack([metrics.pairwise_accuracy(p, y, standardize=False) for p in pred])
    if scorer == "r2":
        ss_res = ((pred - y) ** 2).sum(dim=-2)
        ss_tot = ((y - y.mean(dim=0)) ** 2).sum(dim=0)
        return (1 - ss_res / ss_tot).mean(dim=-1)
    if scorer == "neg_mse":
        return -((pred - y) ** 2).mean(dim=(-1, -2))
    raise ValueError(f"unknown scorer {scorer!r}; known: pairwise_accuracy, r2, neg_mse")


@dataclass
class RidgeCVResult:
    """A ridge fit with the alpha that cross-validation chose.

    Attributes
    ----------
    alpha : float
    coef : tensor of shape (n_features, n_targets)
    cv_scores : array of shape (n_alphas,)
        Mean CV score of each alpha (higher is better).
    alphas : array of shape (n_alphas,)
    """

    alpha: float
    coef: torch.Tensor  # (p, q)
    cv_scores: np.ndarray  # (n_alphas,) mean over folds
    alphas: np.ndarray = field(default_factory=lambda: np.array([]))

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ coef``: predictions of shape (n_rows, n_targets) for x of shape (n_rows, n_features)."""
        return x.to(self.coef.dtype) @ self.coef


def ridge_cv(x, y, alphas, folds, scorer: str = "pairwise_accuracy", device=None,
             dtype=torch.float64) -> RidgeCVResult:
    """Choose alpha by the mean CV score over ``folds``, then refit on every row.

    One eigendecomposition per fold gives the predictions for every alpha at once. With more columns than rows
    (whole-brain decoders) the Gram matrix of every row is computed once, from column blocks of ``x``, and each
    fold takes its rows and columns of it: the folds and the refit then cost no further pass over the vertices,
    and ``x`` is never copied whole (at fsaverage7 it is ~10 GB).

    Parameters
    ----------
    x : array, tensor or :class:`amodal.standardize.StandardizedRows` of shape (n, p)
    y : array of shape (n, q)
    alphas : sequence of float
    folds : list of (train_index, validation_index)
    scorer : {"pairwise_accuracy", "r2", "neg_mse"}
    device : str or torch.device, optional
    dtype : torch.dtype

    Returns
    -------
    RidgeCVResult
        The first best alpha (the smallest among ties), its coefficients and every alpha's mean CV score.
    """
    device = torch.device(device) if device is not None else torch.device("cpu")
    x = x if hasattr(x, "shape") else np.asarray(x)
    y = torch.as_tensor(np.asarray(y), dtype=dtype, device=device)
    a = torch.as_tensor(np.asarray(alphas, dtype=np.float64), dtype=dtype, device=device)
    scores = torch.zeros(len(alphas), dtype=torch.float64, device=device)
    dual = x.shape[1] > x.shape[0]
    if dual:
        k = gram(x, dtype, device)
    else:
        x = torch.as_tensor(np.asarray(x), dtype=dtype, device=device)
    for tr, va in folds:
        tr_t = torch.as_tensor(tr, device=device)
        va_t = torch.as_tensor(va, device=device)
        if dual:
            pred = _dual_predictions(k[tr_t][:, tr_t], y[tr_t], k[va_t][:, tr_t], a)
        else:
            pred = _primal_predictions(x[tr_t], y[tr_t], x[va_t], a)
        scores += score_predictions(pred, y[va_t], scorer).to(torch.float64)
    scores /= len(folds)
    best = int(torch.argmax(scores))  # first maximum: the smallest alpha among ties
    if dual:  # ridge_fit's dual solution, from the same Gram matrix
        coef = _dual_coef(x, k, y, float(alphas[best]))
    else:
        coef = ridge_fit(x, y, float(alphas[best]))
    return RidgeCVResult(alpha=float(alphas[best]), coef=coef, cv_scores=scores.cpu().numpy(),
                         alphas=np.asarray(alphas, dtype=np.float64))


class RidgeDecoder:
    """Ridge without intercept, its alpha chosen by cross-validation on the rows it is fitted on.

    The first member of :class:`amodal.models.Decoder`. Rows are expected standardised with their own statistics
    (:mod:`amodal.standardize`), as a ridge without intercept needs.

    Parameters
    ----------
    alphas : sequence of float
        Candidate penalties.
    folds : list of (train_index, validation_index) pairs
        CV folds over the rows given to :meth:`fit` (:func:`kfold`).
    scorer : {"pairwise_accuracy", "r2", "neg_mse"}
        CV score to maximise (the reference uses pairwise accuracy).
    device : str or torch.device, optional
        Where to compute (default CPU).
    dtype : torch.dtype
        Precision of the solve (default float64).

    Attributes
    ----------
    alpha_ : float
        The chosen penalty.
    coef_ : tensor of shape (n_features, n_targets)
    cv_scores_ : array of shape (n_alphas,)
    """

    def __init__(self, alphas, folds, scorer: str = "pairwise_accuracy", device=None, dtype=torch.float64):
        self.alphas, self.folds, self.scorer, self.device, self.dtype = alphas, folds, scorer, device, dtype

    def fit(self, x, y) -> RidgeDecoder:
        """Choose alpha by CV over ``folds`` and refit on every row.

        Parameters
        ----------
        x : array, tensor or :class:`amodal.standardize.StandardizedRows` of shape (n_rows, n_features)
        y : array of shape (n_rows, n_targets)
        """
        res = ridge_cv(x, y, self.alphas, self.folds, scorer=self.scorer, device=self.device, dtype=self.dtype)
        self.result_ = res
        self.alpha_, self.coef_, self.cv_scores_ = res.alpha, res.coef, res.cv_scores
        return self

    def predict(self, x) -> torch.Tensor:
        """Predictions of shape (n_rows, n_targets) for ``x`` of shape (n_rows, n_features)."""
        return self.result_.predict(torch.as_tensor(x, device=self.coef_.device))
