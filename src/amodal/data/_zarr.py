"""The one route for amodal's Zarr stores: one on-disk format, and one error for a missing store.

Preprocessed betas, feature caches, decoder predictions and searchlight maps are all xarray Datasets written
here as Zarr format 2 (a stable string dtype), unconsolidated.
"""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from ..errors import DataError

KINDS = {
    "betas": ("preprocessed store", "run the preprocess rule first"),
    "features": ("feature store", "run the extract_features rule for this model"),
    "predictions": ("predictions store", "run the decode rule first"),
    "searchlight": ("searchlight store", "run the searchlight rule"),
    "encoder": ("encoder store", "run the encode rule"),
    "ube": ("Universal Brain Encoder store", "run the ube_train and ube_transfer rules"),
}
"""What each kind of store is called in errors, and how to make a missing one."""


def write_store(ds: xr.Dataset, path) -> None:
    """Write ``ds`` as a Zarr store at ``path``, replacing what was there.

    Parameters
    ----------
    ds : xarray.Dataset
    path : str or Path
        The ``.zarr`` folder.
    """
    ds.to_zarr(str(path), mode="w", consolidated=False, zarr_format=2)


def read_store(path, kind: str = "betas", what: str | None = None, fix: str | None = None) -> xr.Dataset:
    """Load a Zarr store into memory.

    Parameters
    ----------
    path : str or Path
        The ``.zarr`` folder.
    kind : {"betas", "features", "predictions", "searchlight", "encoder"}
        What the store holds; names the store and the fix in the error when it is missing.
    what, fix : str, optional
        Override the name and the fix given in that error.

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    DataError
        ``missing <what> <path>; <fix>`` when there is no store at ``path``.
    """
    default_what, default_fix = KINDS[kind]
    if not Path(path).exists():
        raise DataError(f"missing {what or default_what} {path}; {fix or default_fix}")
    return xr.open_zarr(str(path), consolidated=False).load()
