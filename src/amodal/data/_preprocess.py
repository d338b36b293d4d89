"""Beta preprocessing: mask bad vertices, z-score with train statistics, average repeats, write Zarr.

The store holds one DataArray ``betas`` (trial × vertex, float32) with coordinates ``stimulus_id``,
``modality`` and ``split`` and ``run`` (of the first presentation) on trials, and ``hemi`` and ``vertex_index``
(index in that hemisphere's mesh)
on vertices. Masked vertices are left out of the array; ``attrs`` record how many and why.

When repeats are averaged, the single presentations of every repeated test stimulus stay in a second DataArray,
``repeats`` (presentation × vertex, z-scored like ``betas``), with coordinates ``presentation_stimulus_id``,
``presentation_modality`` and ``presentation_split``: noise ceilings are estimated from them
(:func:`amodal.encoding.noise_ceiling`).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr
from scipy import sparse

from ..errors import DataError
from ..standardize import column_blocks, standardize_with, train_stats
from ..surface import HEMIS, N_VERTICES
from . import _io as dataset


def bad_vertex_mask(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices to mask: any NaN, or constant over every trial.

    Parameters
    ----------
    data : array of shape (n_trials, n_vertices)

    Returns
    -------
    nan, constant : bool arrays of shape (n_vertices,)
        Disjoint: a vertex with a NaN is not also counted as constant.
    """
    nan = np.isnan(data).any(axis=0)
    with np.errstate(invalid="ignore"):
        constant = ~nan & (np.nanmax(data, axis=0) == np.nanmin(data, axis=0))
    return nan, constant


def broken_maps(data: np.ndarray, block: int = 256) -> np.ndarray:
    """Trials whose whole map is NaN, or one value at every vertex: a broken file, not bad vertices.

    Masking such a map's vertices would mask the whole hemisphere (every vertex would hold a NaN or, for a constant
    map, nothing would be wrong with any vertex but the map itself), so preprocessing stops on them instead.

    Parameters
    ----------
    data : array of shape (n_trials, n_vertices)
    block : int
        Rows per step (the NaN test's boolean temporary stays small at fsaverage7).

    Returns
    -------
    bool array of shape (n_trials,)
    """
    out = np.zeros(data.shape[0], bool)
    for start in range(0, data.shape[0], block):
        rows = data[start:start + block]
        hi, lo = np.fmax.reduce(rows, axis=1), np.fmin.reduce(rows, axis=1)  # NaN only for an all-NaN row
        out[start:start + rows.shape[0]] = np.isnan(hi) | (hi == lo)
    return out


def _check_maps(hemi_data, trials, subject, hemi, file_of):
    broken = np.flatnonzero(broken_maps(hemi_data))
    if not broken.size:
        return
    first = trials.iloc[broken[0]]
    values = hemi_data[broken[0]]
    nan = np.isnan(values).all()
    what = "NaN" if nan else f"{np.nanmax(values):g}"
    why = ("masking its NaN would drop every vertex of the hemisphere" if nan
           else "it would enter the decoders as a trial with no signal")
    others = "".join(f"\n  {file_of(hemi, trials.iloc[r])}" for r in broken[1:6])
    more = f" ({broken.size - 6} more not listed)" if broken.size > 6 else ""
    raise DataError(
        f"{file_of(hemi, first)}: the {hemi} map of {subject}'s {first['split']} {first['modality']} trial "
        f"{int(first['trial'])} (stimulus {first['stimulus_id']}) is {what} at every vertex: a broken file, not bad "
        f"vertices ({why}). Re-download or rewrite the file; a vertex that is NaN or constant in the maps is masked, "
        f"a map that is NaN or constant everywhere is not."
        + (f" {broken.size} maps are broken; the others:{others}{more}" if broken.size > 1 else ""))


def zscore_train(data: np.ndarray, is_train: np.ndarray, in_place: bool = False
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Z-score each column with the mean and SD of the train rows only, and apply that to every row.

    This puts every vertex on one scale in the store; each decoder standardises again with its own train rows
    (:mod:`amodal.standardize`), which a z-score here does not change.

    Parameters
    ----------
    data : array of shape (n_trials, n_vertices)
    is_train : bool array of shape (n_trials,)
    in_place : bool
        Write the result into ``data`` (a float32 array), which then is ``z``.

    Returns
    -------
    z : float32 array of shape (n_trials, n_vertices)
    mean, sd : float64 arrays of shape (n_vertices,)

    Raises
    ------
    DataError
        When a column is constant over the train rows (mask it first).
    """
    if in_place and data.dtype != np.float32:
        raise ValueError(f"z-scoring in place needs float32 betas, not {data.dtype}")
    mean, sd = train_stats(data, is_train, constant="raise")
    # computed in float64 by column blocks (amodal.standardize): at fsaverage7 a subject's float32 betas take ~10 GB,
    # and a float64 copy of them, with its temporaries, would not fit a 24 GiB machine beside them
    z = standardize_with(data, slice(None), mean, sd, np.float32, out=data if in_place else None)
    return z, mean, sd


def _keep_columns(data: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``data[:, cols]`` for increasing ``cols``, moved left in place block by block (each destination block lies at
    or left of its sources, which later blocks do not overlap): no second copy of a subject's betas, which at
    fsaverage7 take ~10 GB. The result is a view of the first ``cols.size`` columns."""
    if cols.size == data.shape[1]:
        return data
    for b in column_blocks((data.shape[0], cols.size), data.itemsize):
        data[:, b] = data[:, cols[b]]
    return data[:, :cols.size]


def average_repeats(data: np.ndarray, trials: pd.DataFrame, splits=None) -> tuple[np.ndarray, pd.DataFrame]:
    """Average the rows that share (stimulus_id, modality, split), in order of first appearance.

    Parameters
    ----------
    data : array of shape (n_trials, n_vertices)
    trials : pandas.DataFrame
        The trials table (``stimulus_id``, ``modality``, ``split`` and optionally ``run``), one row per data row.
    splits : collection of str, optional
        Average only the repeats of these splits (NSD: ``{"test"}``, as its papers train on single trials); the
        rows of the other splits stay single. Default: every split.

    Returns
    -------
    averaged : float32 array of shape (n_unique, n_vertices)
    meta : pandas.DataFrame
        One row per averaged row: the keys, ``n_repeats`` and the ``run`` of the first presentation.
    """
    keys = ["stimulus_id", "modality", "split"]
    frame = trials[keys].reset_index(drop=True)
    # a row that is not averaged is its own key (its position; -1 for every averaged row)
    single = ~frame["split"].isin(splits) if splits is not None else np.zeros(len(frame), bool)
    frame["_single"] = np.where(single, np.arange(len(frame)), -1)
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(frame), sort=False)
    n = len(uniques)
    # the sum over each key's rows as a sparse (n_unique, n_trials) indicator times the data: the rows are added in
    # trial order, as np.add.at adds them (the same float64 sums, bit for bit), and 1.6x faster than np.add.at on a
    # default subject (1,290 trials x 20,484 vertices: 1.3 s against 2.1 s)
    counts = np.bincount(codes, minlength=n)
    if n == len(codes) and np.asarray(data).dtype == np.float32:
        out = data  # no repeats (ds007272: one beta per stimulus and modality): each row is its own average
    else:
        # by column blocks: at fsaverage7 the float64 sums of all columns at once took 7x the betas' float32 size
        indicator = sparse.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(n, len(codes)))
        out = np.empty((n, data.shape[1]), np.float32)
        for b in column_blocks(data.shape):
            out[:, b] = (indicator @ np.asarray(data[:, b], dtype=np.float64)) / counts[:, None]
    meta = pd.DataFrame([u[:len(keys)] for u in uniques], columns=keys)
    meta["n_repeats"] = counts
    if "run" in trials:  # the run of the first presentation
        first = pd.Series(np.arange(len(codes))).groupby(codes).min().to_numpy()
        meta["run"] = trials["run"].to_numpy()[first]
    return out, meta


def preprocess_subject(root, subject: str, mesh: str, average: bool | str = True, log=print,
                       read_betas=None, zscore: str = "train", roi: dict | None = None) -> xr.Dataset:
    """Preprocess one subject: mask bad vertices, z-score with train statistics, average repeats.

    Parameters
    ----------
    root : str or Path
        The dataset root (layout of :mod:`amodal.data._layout`).
    subject : str
    mesh : str
        fsaverage resolution of the betas (``"fsaverage5"``...).
    average : bool or "test"
        Average repeated presentations (the reference does); ``"test"``: only the test split's, so that the train
        trials stay single trials (the NSD papers train on single trials and score the mean of the test repeats).
    log : callable
        Receives one line per hemisphere with the masked counts.
    read_betas : callable, optional
        ``read_betas(hemi, trials, n_vertices)`` returns one hemisphere's (n_trials, n_vertices) betas in the order
        of the trials table. By default the layout's betas GIFTI; a real-data adapter passes its own reader
        (:class:`amodal.data.adapters.BetasReader`), whose ``file_of(hemi, trial)`` names a trial's file in
        messages.
    zscore : {"train", "session"}
        ``train``: each vertex with the mean and SD of all train trials. ``session``: within each session (the
        trials table's ``session`` column), with that session's train trials, as the NSD papers do.
    roi : dict, optional
        ``{hemi: bool array (n_vertices,)}``: keep only these vertices (NSD's nsdgeneral). A reader with
        ``selects_vertices`` (:class:`amodal.data.adapters.BetasReader`) reads only them, file by file; the mask
        report's NaN and constant counts are then of the ROI's vertices.

    Returns
    -------
    xarray.Dataset
        ``betas`` of shape (n_trials, n_kept_vertices) float32, trial coordinates ``stimulus_id``, ``modality``,
        ``split``, ``n_repeats``, ``run`` and vertex coordinates ``hemi``, ``vertex_index`` (see the module
        docstring); ``attrs["mask_report"]`` records what was masked and why.

    Raises
    ------
    DataError
        For a map that is NaN or constant at every vertex (:func:`broken_maps`: a broken file, named with its
        trial), or a hemisphere with no vertex left.
    """
    stim = dataset.read_stimuli(root)
    trials = dataset.read_trials(root, subject, stimulus_ids=stim["id"])
    nv = N_VERTICES[mesh]
    file_of = getattr(read_betas, "file_of", None) or (
        lambda hemi, trial: f"{dataset.betas_gifti(root, subject, hemi)} (trial {int(trial['trial'])})")
    # with an ROI only its vertices are read, file by file, where the reader can (the adapters' BetasReader): NSD's
    # 40 sessions of both whole fsaverage7 hemispheres would take ~39 GB, its nsdgeneral vertices a tenth of that
    roi_idx = {hemi: None if roi is None else np.flatnonzero(np.asarray(roi[hemi], dtype=bool)) for hemi in HEMIS}
    widths = [nv if roi_idx[hemi] is None else roi_idx[hemi].size for hemi in HEMIS]
    hemi_coord, index_coord, report, keeps = [], [], {}, []
    data = None
    for h, hemi in enumerate(HEMIS):
        cols = roi_idx[hemi]
        if read_betas is None:
            hemi_data = dataset.read_betas(root, subject, hemi, len(trials), nv)
        elif cols is not None and getattr(read_betas, "selects_vertices", False):
            hemi_data = read_betas(hemi, trials, nv, vertices=cols)
        else:
            hemi_data = read_betas(hemi, trials, nv)
        if cols is not None and hemi_data.shape[1] == nv:
            hemi_data = hemi_data[:, cols]
        _check_maps(hemi_data, trials, subject, hemi, file_of)
        nan, constant = bad_vertex_mask(hemi_data)
        keep = ~(nan | constant)
        report[hemi] = {"n_vertices": nv, "n_nan": int(nan.sum()), "n_constant": int(constant.sum())}
        if cols is not None:  # NaN and constant counts are then of the ROI's vertices
            report[hemi]["n_outside_roi"] = nv - cols.size
        report[hemi]["n_kept"] = int(keep.sum())
        if not keep.any():  # never a hemisphere lost in silence
            where = " of the ROI" if cols is not None else ""
            raise DataError(f"{subject} {hemi}: every one of the {widths[h]} vertices{where} is masked "
                            f"({report[hemi]}); no map is broken as a whole, but no vertex is usable in all of them. "
                            f"Check the {hemi} betas of {subject}"
                            + (" and the ROI" if roi is not None else ""))
        log(f"{subject} {hemi}: masked {int(nan.sum())} NaN and {int(constant.sum())} constant vertices "
            f"of {nv}" + (f", and {report[hemi]['n_outside_roi']} outside the ROI" if roi is not None else "")
            + f"; {int(keep.sum())} kept")
        if data is None:  # both hemispheres in one array, written as they are read (one copy at a time)
            data = np.empty((hemi_data.shape[0], sum(widths)), dtype=hemi_data.dtype)
        start = sum(widths[:h])
        data[:, start:start + widths[h]] = hemi_data
        del hemi_data
        keeps.append(keep)
        hemi_coord += [hemi] * int(keep.sum())
        index_coord.append(np.flatnonzero(keep) if cols is None else cols[keep])
    data = _keep_columns(data, np.flatnonzero(np.concatenate(keeps)))
    is_train = (trials["split"] == "train").to_numpy()
    if zscore == "session":
        if "session" not in trials.columns:
            raise DataError(f"preprocess.zscore is 'session', but the trials table of {subject} has no 'session' "
                            f"column; use 'train', or add the column")
        z = data  # session by session in place (the sessions' rows are disjoint): no second copy of the betas
        for session, rows in trials.groupby("session", sort=False).indices.items():
            if not is_train[rows].any():
                raise DataError(f"{subject} session {session} has no train trials to z-score with; use "
                                f"preprocess.zscore: train")
            z[rows] = zscore_train(data[rows], is_train[rows])[0]
    elif zscore == "train":
        z, _, _ = zscore_train(data, is_train, in_place=data.dtype == np.float32)
    else:
        raise ValueError(f"zscore must be 'train' or 'session', not {zscore!r}")
    singles = None
    if average:
        # only the test split's: NSD repeats its train images too, and a copy of every single trial would double
        # the store for nothing the ceilings need
        repeated = (trials.duplicated(["stimulus_id", "modality", "split"], keep=False)
                    & (trials["split"] == "test")).to_numpy()
        if repeated.any():
            singles = (z[repeated], trials.loc[repeated, ["stimulus_id", "modality", "split"]])
        z, meta = average_repeats(z, trials, splits={"test"} if average == "test" else None)
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
        attrs={"subject": subject, "mesh": mesh, "average_repeats": average if average == "test" else bool(average),
               "zscore": ("per vertex with train-split mean and SD (ddof=0), applied to all splits" if zscore == "train"
                          else "per vertex within each session, with that session's train mean and SD (ddof=0)"),
               "mask_report": json.dumps(report)},
    )
    if singles is not None:
        rep, rep_meta = singles
        ds["repeats"] = xr.DataArray(rep, dims=("presentation", "vertex"), coords={
            f"presentation_{k}": ("presentation", rep_meta[k].to_numpy(dtype=str))
            for k in ("stimulus_id", "modality", "split")})
    return ds
