"""Reading and writing the pipeline's Zarr stores, with one format and one missing-store error."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from .errors import DataError


def write(ds: xr.Dataset, path) -> None:
    """Write as Zarr format 2 (a stable string dtype), unconsolidated, replacing what was there."""
    ds.to_zarr(str(path), mode="w", consolidated=False, zarr_format=2)


def read(path, what: str, fix: str) -> xr.Dataset:
    """Load a store into memory; a missing one fails with ``missing <what> <path>; <fix>``."""
    if not Path(path).exists():
        raise DataError(f"missing {what} {path}; {fix}")
    return xr.open_zarr(str(path), consolidated=False).load()
