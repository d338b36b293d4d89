"""Beta preprocessing: mask bad vertices, z-score with train statistics, average repeats, write Zarr.

The store holds one DataArray ``betas`` (trial × vertex, float32) with coordinates ``stimulus_id``,
``modality`` and ``split`` and ``run`` (of the first presentation) on trials, and ``hemi`` and ``vertex_index`` (index in that hemisphere's mesh)
on vertices. Masked vertices are left out of the array; ``attrs`` record how many and why.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr

from . import HEMIS, dataset, store
from .standardize import train_stats
from .surface import N_VERTICES


def bad_vertex_mask(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(nan, constant) boolean masks over the vertices of a (trials, vertices) array."""
    nan = np.isnan(data).any(axis=0)
    with np.errstate(invalid="ignore"):
        constant = ~nan & (np.nanmax(data, axis=0) == np.nanmin(data, axis=0))
    return nan, constant


def zscore_train(data: np.ndarray, is_train: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Z-score each column with the mean and SD of the train rows only; apply the same to every row.

    This puts every vertex on one scale in the store; each decoder standardises again with its own train rows
    (:mod:`amodal.standardize`), which a z-score here does not change."""
    mean, sd = train_stats(data, is_train, constant="raise")
    return ((data - mean) / sd).astype(np.float32), mean, sd


def average_repeats(data: np.ndarray, trials: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Average rows that share (stimulus_id, modality, split); keep first-appearance order."""
    keys = ["stimulus_id", "modality", "split"]
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(trials[keys]), sort=False)
    n = len(uniques)
    sums = np.zeros((n, data.shape[1]), dtype=np.float64)
    np.add.at(sums, codes, data)
    counts = np.bincount(codes, minlength=n)
    out = (sums / counts[:, None]).astype(np.float32)
    meta = pd.DataFrame(list(uniques), columns=keys)
    meta["n_repeats"] = counts
    if "run" in trials:  # the run of the first presentation
        first = pd.Series(np.arange(len(codes))).groupby(codes).min().to_numpy()
        meta["run"] = trials["run"].to_numpy()[first]
    return out, meta


def preprocess_subject(root, subject: str, mesh: str, average: bool = True, log=print) -> xr.Dataset:
    """Read a subject's betas and trials; return the preprocessed dataset (see module docstring)."""
    stim = dataset.read_stimuli(root)
    trials = dataset.read_trials(root, subject, stimulus_ids=stim["id"])
    nv = N_VERTICES[mesh]
    parts, hemi_coord, index_coord, report = [], [], [], {}
    for hemi in HEMIS:
        data = dataset.read_betas(root, subject, hemi, len(trials), nv)
        nan, constant = bad_vertex_mask(data)
        keep = ~(nan | constant)
        report[hemi] = {"n_vertices": nv, "n_nan": int(nan.sum()), "n_constant": int(constant.sum()),
                        "n_kept": int(keep.sum())}
        log(f"{subject} {hemi}: masked {int(nan.sum())} NaN and {int(constant.sum())} constant vertices "
            f"of {nv}; {int(keep.sum())} kept")
        parts.append(data[:, keep])
        hemi_coord += [hemi] * int(keep.sum())
        index_coord.append(np.flatnonzero(keep))
    data = np.concatenate(parts, axis=1)
    is_train = (trials["split"] == "train").to_numpy()
    z, _, _ = zscore_train(data, is_train)
    if average:
        z, meta = average_repeats(z, trials)
    else:
        meta = trials[["stimulus_id", "modality", "split", "run"]].copy()
        meta["n_repeats"] = 1
    ds = xr.Dataset(
        {"betas": (("trial", "vertex"), z)},
        coords={
            "trial": np.arange(z.shape[0]),
            "stimulus_id": ("trial", meta["stimulus_id"].to_numpy(dtype=str)),
            "modality": ("trial", meta["modality"].to_numpy(dtype=str)),
            "split": ("trial", meta["split"].to_numpy(dtype=str)),
            "n_repeats": ("trial", meta["n_repeats"].to_numpy(dtype=np.int32)),
            "run": ("trial", meta["run"].astype(str).to_numpy(dtype=str)),
            "hemi": ("vertex", np.array(hemi_coord, dtype=str)),
            "vertex_index": ("vertex", np.concatenate(index_coord).astype(np.int32)),
        },
        attrs={"subject": subject, "mesh": mesh, "average_repeats": bool(average),
               "zscore": "per vertex with train-split mean and SD (ddof=0), applied to all splits",
               "mask_report": json.dumps(report)},
    )
    return ds


def write_zarr(ds: xr.Dataset, path) -> None:
    store.write(ds, path)


def open_zarr(path) -> xr.Dataset:
    return store.read(path, "preprocessed store", "run the preprocess rule first")
