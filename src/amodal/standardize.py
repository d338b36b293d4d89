"""Standardising with train statistics: one implementation for betas and targets, decoders and searchlights.

Every decoder (whole-brain ridge and every searchlight mode) z-scores its betas and its targets with the mean and
SD of the rows it trains on, and applies that transform to its test and imagery rows (METHOD §10, as the
reference's ``StandardScaler`` per decoder). An ``images`` decoder therefore never sees caption trials' statistics:
a main effect of modality (large in real data) cannot leak into it, and its training rows are centred, which a
ridge without intercept needs.
"""

from __future__ import annotations

import numpy as np

from .errors import DataError


def train_stats(x: np.ndarray, rows: np.ndarray, constant: str = "keep") -> tuple[np.ndarray, np.ndarray]:
    """Column mean and SD (ddof 0, float64) over ``rows`` of ``x``.

    Parameters
    ----------
    x : array of shape (n_rows, n_columns)
    rows : int or bool array
        The train rows.
    constant : {"keep", "raise"}
        What a column constant over those rows gets: ``keep`` gives it SD 1 (it is only centred, as scikit-learn's
        StandardScaler does), ``raise`` stops with a DataError.

    Returns
    -------
    mean, sd : arrays of shape (n_columns,)
    """
    rows = np.asarray(rows)
    if rows.dtype == bool:
        rows = np.flatnonzero(rows)
    if rows.size == 0:
        raise DataError("no train rows: standardising needs train-split statistics")
    train = np.asarray(x[rows], dtype=np.float64)
    mean = train.mean(axis=0)
    sd = train.std(axis=0)
    zero = sd == 0
    if zero.any():
        if constant == "raise":
            raise DataError(f"{int(zero.sum())} column(s) are constant over the train rows; mask them first")
        sd = np.where(zero, 1.0, sd)
    return mean, sd


def standardize_train(x: np.ndarray, rows: np.ndarray, constant: str = "keep", dtype=np.float64) -> np.ndarray:
    """``(x - mean) / sd`` for every row, with the statistics of ``rows`` only (:func:`train_stats`).

    Parameters
    ----------
    x : array of shape (n_rows, n_columns)
    rows : int or bool array
    constant : {"keep", "raise"}
    dtype : numpy dtype
        Of the result (computed in float64).

    Returns
    -------
    array of shape (n_rows, n_columns)
    """
    mean, sd = train_stats(x, rows, constant)
    return ((np.asarray(x, dtype=np.float64) - mean) / sd).astype(dtype, copy=False)
