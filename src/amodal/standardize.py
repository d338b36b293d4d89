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

BLOCK_BYTES = 256 * 2**20  # float64 work space per column block: at fsaverage7 the betas of a subject take ~10 GB
# in float32, and a float64 copy of all of them would not fit beside them on a 24 GiB machine


def column_blocks(shape: tuple, itemsize: int = 8, block_bytes: int | None = None):
    """Slices over the columns of an array of ``shape``, each block holding at most ``block_bytes``.

    Parameters
    ----------
    shape : tuple of int
        ``(n_rows, n_columns)``.
    itemsize : int
        Bytes per value of a block (8: float64 work space).
    block_bytes : int, optional
        Default :data:`BLOCK_BYTES`. A block has at least one column.

    Returns
    -------
    list of slice
    """
    n, p = shape
    step = max(1, (block_bytes or BLOCK_BYTES) // max(1, n * itemsize))
    return [slice(c, min(c + step, p)) for c in range(0, p, step)]


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
    mean, sd = np.empty(x.shape[1]), np.empty(x.shape[1])
    for b in column_blocks((rows.size, x.shape[1])):  # by column blocks: no float64 copy of all the rows
        train = np.asarray(x[rows, b], dtype=np.float64)
        mean[b] = train.mean(axis=0)
        sd[b] = train.std(axis=0)
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
        Of the result (computed in float64, by column blocks, so no float64 copy of ``x`` is made when ``dtype``
        is float32).

    Returns
    -------
    array of shape (n_rows, n_columns)
    """
    mean, sd = train_stats(x, rows, constant)
    return standardize_with(x, slice(None), mean, sd, dtype)


def standardize_with(x: np.ndarray, rows, mean: np.ndarray, sd: np.ndarray, dtype=np.float64,
                     columns: slice = slice(None), out: np.ndarray | None = None) -> np.ndarray:
    """``(x[rows][:, columns] - mean) / sd``, computed in float64 one column block at a time.

    Parameters
    ----------
    x : array of shape (n_rows, n_columns)
    rows : int array or slice
    mean, sd : arrays of shape (n_columns,)
        From :func:`train_stats`.
    dtype : numpy dtype
        Of the result.
    columns : slice
        Of the columns (with a step of 1).
    out : array, optional
        Where to write the result (its dtype wins over ``dtype``); it may be ``x`` itself, standardised in place
        (each block is read before it is written).

    Returns
    -------
    array of shape (n_selected_rows, n_selected_columns)
    """
    cols = range(x.shape[1])[columns]
    n = len(range(x.shape[0])[rows]) if isinstance(rows, slice) else len(rows)
    if out is None:
        out = np.empty((n, len(cols)), dtype=dtype)
    elif out.shape != (n, len(cols)):
        raise ValueError(f"out has shape {out.shape}, the result {(n, len(cols))}")
    for b in column_blocks((n, len(cols))):
        c = slice(cols.start + b.start, cols.start + b.stop)
        out[:, b] = (np.asarray(x[rows, c], dtype=np.float64) - mean[c]) / sd[c]
    return out


class StandardizedRows:
    """``(x[rows] - mean) / sd`` in float64 without holding it: column blocks are computed when asked for.

    What the whole-brain ridge decoder fits on. At fsaverage7 a subject's betas take about 10 GB in float32; their
    standardised float64 copy (20 GB), and the train rows' copy of that, would not fit beside them on a 24 GiB
    machine. :func:`amodal.models.ridge_cv` builds its Gram matrix from these blocks.

    Parameters
    ----------
    x : array of shape (n_rows, n_columns)
    rows : int array
    mean, sd : arrays of shape (n_columns,)
    """

    def __init__(self, x: np.ndarray, rows, mean: np.ndarray, sd: np.ndarray):
        self.x, self.rows, self.mean, self.sd = x, np.asarray(rows), mean, sd
        self.shape = (self.rows.size, x.shape[1])

    def columns(self, cols: slice) -> np.ndarray:
        """The standardised rows' columns ``cols``, float64."""
        return standardize_with(self.x, self.rows, self.mean, self.sd, np.float64, cols)

    def __array__(self, dtype=None, copy=None):
        return standardize_with(self.x, self.rows, self.mean, self.sd, dtype or np.float64)
