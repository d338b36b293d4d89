"""Correlation between matching columns: the Pearson r of every vertex (or feature) over images."""

from __future__ import annotations

import numpy as np
import torch


def pearson_r(a: torch.Tensor, b: torch.Tensor, constant: float = float("nan")) -> torch.Tensor:
    """Pearson r between matching columns of ``a`` and ``b``, over rows, in their dtype and on their device.

    Parameters
    ----------
    a, b : tensors of shape (n_rows, n_columns)
    constant : float
        The value where either column is constant (r undefined): NaN by default; 0 where a summary must not see
        NaN (a quantile used for early stopping).

    Returns
    -------
    tensor of shape (n_columns,)
    """
    a = a - a.mean(0)
    b = b - b.mean(0)
    denom = a.norm(dim=0) * b.norm(dim=0)
    r = (a * b).sum(0) / denom
    return torch.where(denom > 0, r, torch.as_tensor(constant, dtype=r.dtype, device=r.device))


def pearson_columns(a, b) -> np.ndarray:
    """:func:`pearson_r` of two arrays in float64, as a NumPy array (NaN where either column is constant).

    Parameters
    ----------
    a, b : arrays of shape (n_rows, n_columns)

    Returns
    -------
    array of shape (n_columns,)
    """
    return pearson_r(torch.as_tensor(np.asarray(a), dtype=torch.float64),
                     torch.as_tensor(np.asarray(b), dtype=torch.float64)).numpy()
