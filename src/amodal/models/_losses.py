"""The contrastive decoders' losses: symmetric InfoNCE (BrainCLIP, CLIP), Mind Reader's MSE + cosine, the Gaussian
KL of BrainCLIP-VAE, and Mind Reader's clamp-then-normalise of its targets."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def info_nce(a: torch.Tensor, b: torch.Tensor, tau: float, row_weight: float = 0.5, ids=None) -> torch.Tensor:
    """InfoNCE between paired rows of ``a`` and ``b`` on cosine similarity / ``tau`` (BrainCLIP Eq. 5).

    ``row_weight`` λ mixes the two directions as Mind Reader's code does: −mean[λ·log softmax over each row's
    candidates (a→b) + (1 − λ)·log softmax over each column's (b→a)]. λ = 1 is BrainCLIP's one-directional
    form, λ = 0.5 the symmetric loss. Computed from log-sum-exp directly, not through ``F.cross_entropy``, so
    that the test against ``F.cross_entropy`` is a check.

    Parameters
    ----------
    a, b : tensor of shape (n, d)
    tau : float
    row_weight : float
    ids : array of shape (n,), optional
        Stimulus of each row. Another row of the same stimulus (a repeat, or the image and caption trials of
        one stimulus) is not a negative: it is left out of the softmax.

    Returns
    -------
    scalar tensor
    """
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / tau
    if ids is not None:
        ids = torch.as_tensor(np.unique(np.asarray(ids), return_inverse=True)[1], device=a.device)
        same = (ids[:, None] == ids[None, :]) & ~torch.eye(len(ids), dtype=torch.bool, device=a.device)
        logits = logits.masked_fill(same, float("-inf"))
    diag = logits.diagonal()
    rows = diag - torch.logsumexp(logits, dim=1)
    cols = diag - torch.logsumexp(logits, dim=0)
    return -(row_weight * rows + (1.0 - row_weight) * cols).mean()


def clamp_normalize(y: torch.Tensor, threshold: float | None = 1.5) -> torch.Tensor:
    """Mind Reader's targets: values clipped to ±``threshold`` (outliers sit at fixed dimensions), then unit L2
    norm (MR §2.2; code ``threshold=1.5``). ``threshold=None`` only normalises."""
    if threshold is not None:
        y = y.clamp(-threshold, threshold)
    return F.normalize(y, dim=-1)


def mse_cos(pred: torch.Tensor, target: torch.Tensor, cos_weight: float = 0.6) -> torch.Tensor:
    """(1 − w)·MSE + w·(1 − cosine), Mind Reader's base loss (code ``cos_weight = 0.6``).

    Parameters
    ----------
    pred, target : tensor of shape (n, d)
    cos_weight : float
        w.

    Returns
    -------
    scalar tensor
    """
    return (1 - cos_weight) * F.mse_loss(pred, target) + cos_weight * (
        1 - F.cosine_similarity(pred, target, dim=1)).mean()


def kl_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) ‖ N(0, I)), summed over latent dimensions, mean over rows."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1).mean()
