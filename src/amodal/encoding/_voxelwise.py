"""Voxelwise encoding: banded ridge from feature sets to every vertex, scored against a noise ceiling.

The encoder predicts each vertex's response to an image from the image's features, with one ridge band per
feature set (himalaya's :class:`~himalaya.ridge.BandedRidgeCV`: the bands' relative scalings and the overall
regularisation are chosen per vertex by cross-validation on the train trials). It is the standard companion of
decoding in this field (Nunez-Elizalde et al. 2019; Dupré la Tour et al. 2022) and the baseline of the Universal
Brain Encoder.

Scores:
- per vertex, Pearson r between the predicted and the measured test responses (repeats averaged);
- per vertex, the noise ceiling of that r from the single presentations of the test stimuli (Allen et al. 2022's
  ``ncsnr``: :func:`noise_ceiling`);
- image retrieval from measured patterns: the rank of the true image among all test images when each measured
  test pattern is correlated with the predicted pattern of every test image (:func:`retrieval_ranks`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import xarray as xr

from .. import metrics
from ..data import write_map
from ..device import resolve_device
from ..errors import DataError
from ..features import targets_for
from ..seeding import rng
from ..standardize import standardize_train, train_stats


def noise_ceiling(singles: np.ndarray, stimulus_ids, n_average: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Noise ceiling of each vertex from repeated presentations (Allen et al. 2022, NSD, Methods "noise ceiling").

    The noise variance is the mean over stimuli of the variance across that stimulus's presentations (ddof 1); the
    signal variance is the variance of all presentations (ddof 1) minus the noise variance, floored at 0. With
    ``ncsnr = sd_signal / sd_noise``, a response averaged over ``n`` presentations has a fraction
    ``ncsnr² / (ncsnr² + 1/n)`` of its variance explainable, and the ceiling of a Pearson r is its square root.

    Parameters
    ----------
    singles : array of shape (n_presentations, n_vertices)
        Single presentations of the stimuli in ``stimulus_ids``; each stimulus at least twice.
    stimulus_ids : array-like of shape (n_presentations,)
    n_average : float, optional
        How many presentations the scored responses average (default: the mean number per stimulus).

    Returns
    -------
    ncsnr : array of shape (n_vertices,)
    ceiling : array of shape (n_vertices,)
        The highest Pearson r a model can reach on responses averaged over ``n_average`` presentations.

    Raises
    ------
    DataError
        When a stimulus has a single presentation, or when fewer than two stimuli are repeated.
    """
    x = np.asarray(singles, dtype=np.float64)
    codes, uniques = pd.factorize(np.asarray(stimulus_ids, dtype=str))
    counts = np.bincount(codes, minlength=len(uniques))
    if (counts < 2).any() or len(uniques) < 2:
        raise DataError(f"a noise ceiling needs every stimulus at least twice and two stimuli or more; got "
                        f"{len(uniques)} stimuli with {int((counts < 2).sum())} seen once")
    sums = np.zeros((len(uniques), x.shape[1]))
    np.add.at(sums, codes, x)
    means = sums / counts[:, None]
    within = ((x - means[codes]) ** 2)
    per_stim = np.zeros_like(sums)
    np.add.at(per_stim, codes, within)
    noise_var = (per_stim / (counts - 1)[:, None]).mean(0)
    signal_var = np.maximum(x.var(axis=0, ddof=1) - noise_var, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ncsnr = np.where(noise_var > 0, np.sqrt(signal_var / noise_var), np.inf)
    n = float(counts.mean()) if n_average is None else float(n_average)
    with np.errstate(invalid="ignore"):
        ceiling = np.where(np.isinf(ncsnr), 1.0, np.sqrt(ncsnr ** 2 / (ncsnr ** 2 + 1.0 / n)))
    return ncsnr, ceiling


def retrieval_ranks(predicted, measured) -> np.ndarray:
    """Rank of the true image for each measured pattern among the predicted patterns of all images (1 = best).

    Patterns are compared by Pearson correlation across vertices (each row centred, then cosine);
    ties count against the measurement (:func:`amodal.metrics.retrieval_ranks`).

    Parameters
    ----------
    predicted : array of shape (n_images, n_vertices)
        The encoder's prediction for each test image.
    measured : array of shape (n_images, n_vertices)
        The measured pattern of the same images, in the same order.

    Returns
    -------
    int array of shape (n_images,)
    """
    # centre each pattern across vertices: the cosine of centred patterns is their Pearson r
    pred = torch.as_tensor(np.asarray(predicted), dtype=torch.float64)
    meas = torch.as_tensor(np.asarray(measured), dtype=torch.float64)
    pred, meas = pred - pred.mean(-1, keepdim=True), meas - meas.mean(-1, keepdim=True)
    return metrics.retrieval_ranks(meas, pred, standardize=False).numpy()


def _f32(x):
    return np.asarray(x, dtype=np.float32)


def _himalaya_backend(device):
    from himalaya.backend import set_backend

    dev = resolve_device(device)
    return set_backend("torch_cuda" if dev.type == "cuda" else "torch", on_error="raise")


def fit_banded_ridge(bands_train: list[np.ndarray], y_train: np.ndarray, bands_test: list[np.ndarray], *,
                     alphas, n_iter: int = 20, n_folds: int = 5, seed: int = 0, device="cpu",
                     n_targets_batch: int | None = 4096, method: str = "auto"):
    """Banded ridge without intercept from feature bands to every column of ``y``, fitted with himalaya.

    Inputs must be centred with train statistics (:func:`encode_subject` does it). The bands' log-scalings are
    drawn on the simplex (``n_iter`` draws, Dirichlet) times each alpha, and the best per column by ``n_folds``-fold
    cross-validation (shuffled, seeded) on the train rows; then refitted on all train rows.

    Parameters
    ----------
    bands_train, bands_test : lists of arrays of shape (n_train, d_b) and (n_test, d_b)
    y_train : array of shape (n_train, n_targets)
    alphas : sequence of float
    n_iter : int
        Band-weight draws (one draw: a single band is plain ridge).
    n_folds : int
    seed : int
        Seeds the folds and the draws.
    device : str
        ``auto``, ``cpu`` or ``cuda``: himalaya's ``torch`` or ``torch_cuda`` backend.
    n_targets_batch : int or None
        Targets per batch (memory).
    method : {"auto", "primal", "dual"}
        ``primal``: himalaya's BandedRidgeCV on the features; ``dual``: its MultipleKernelRidgeCV on one linear
        kernel per band (the same model, faster when there are fewer trials than features); ``auto`` picks
        ``dual`` exactly then.

    Returns
    -------
    pred : float32 array of shape (n_test, n_targets)
    deltas : float32 array of shape (n_bands, n_targets)
        The log band scalings chosen for each target.
    cv_scores : float32 array of shape (n_targets,)
        The best cross-validated R² of each target.
    """
    from himalaya.kernel_ridge import MultipleKernelRidgeCV
    from himalaya.ridge import BandedRidgeCV
    from himalaya.scoring import r2_score
    from sklearn.model_selection import KFold

    backend = _himalaya_backend(device)
    widths = [b.shape[1] for b in bands_train]
    gen = rng(seed, "encoding", "banded-ridge")
    cv = KFold(n_splits=n_folds, shuffle=True, random_state=int(gen.integers(2**31 - 1)))
    # one band: the only band weight is 1 (plain ridge over the alphas)
    draws = int(n_iter) if len(widths) > 1 else np.ones((1, 1))
    params = dict(n_iter=draws, alphas=np.asarray(alphas, dtype=np.float64), progress_bar=False,
                  score_func=r2_score, n_targets_batch=n_targets_batch, n_targets_batch_refit=n_targets_batch)
    y_train = np.asarray(y_train, dtype=np.float32)
    n_train = y_train.shape[0]
    if method not in ("auto", "primal", "dual"):
        raise ValueError(f"method must be 'auto', 'primal' or 'dual', not {method!r}")
    if method == "dual" or (method == "auto" and n_train < sum(widths)):
        # Fewer trials than features (the usual case): the same banded ridge solved in its dual, with one linear
        # kernel per band (himalaya's MultipleKernelRidgeCV), which himalaya recommends as the faster of the two.
        ks_train = np.stack([b @ b.T for b in map(_f32, bands_train)])
        ks_test = np.stack([t @ b.T for t, b in zip(map(_f32, bands_test), map(_f32, bands_train))])
        model = MultipleKernelRidgeCV(kernels="precomputed", cv=cv, random_state=int(gen.integers(2**31 - 1)),
                                      solver_params=params)
        model.fit(ks_train, y_train)
        pred = model.predict(ks_test)
    else:
        groups = np.concatenate([np.full(w, i) for i, w in enumerate(widths)])
        model = BandedRidgeCV(groups=groups, cv=cv, random_state=int(gen.integers(2**31 - 1)),
                              solver_params=params)
        model.fit(np.concatenate(bands_train, axis=1).astype(np.float32), y_train)
        pred = model.predict(np.concatenate(bands_test, axis=1).astype(np.float32))
    pred = backend.to_numpy(pred).astype(np.float32)
    deltas = backend.to_numpy(model.deltas_).astype(np.float32)
    scores = backend.to_numpy(model.cv_scores_).max(0).astype(np.float32)
    return pred, deltas, scores


def _image_rows(ds: xr.Dataset, split: str, modality: str) -> np.ndarray:
    return np.flatnonzero((ds["split"].values == split) & (ds["modality"].values == modality))


def repeated_presentations(ds: xr.Dataset, modality: str = "image") -> tuple[np.ndarray, np.ndarray]:
    """The single presentations of the repeated test stimuli of ``modality`` in a preprocessed store.

    Parameters
    ----------
    ds : xarray.Dataset
        A preprocessed store: ``repeats`` when repeats were averaged, else the single trials of ``betas``.
    modality : str

    Returns
    -------
    singles : array of shape (n_presentations, n_vertices)
    stimulus_ids : str array of shape (n_presentations,)
        Only stimuli presented at least twice.
    """
    if "repeats" in ds:
        sel = ((ds["presentation_split"].values == "test") & (ds["presentation_modality"].values == modality))
        x, sid = ds["repeats"].values[sel], ds["presentation_stimulus_id"].values.astype(str)[sel]
    else:
        rows = _image_rows(ds, "test", modality)
        x, sid = ds["betas"].values[rows], ds["stimulus_id"].values.astype(str)[rows]
    keep = pd.Series(sid).duplicated(keep=False).to_numpy()
    return x[keep], sid[keep]


def encode_subject(betas: xr.Dataset, features: xr.Dataset, feature_sets, *, alphas, n_iter: int = 20,
                   n_folds: int = 5, modality: str = "image", seed: int = 0, device="cpu",
                   features_path="<features>", log=print) -> xr.Dataset:
    """Fit a banded-ridge encoder for one subject and score it on the test stimuli.

    Trains on the train trials of ``modality``, tests on its test trials (repeats averaged). Features and betas are
    standardised with the train rows' statistics; each feature set is one band.

    Parameters
    ----------
    betas : xarray.Dataset
        A preprocessed store (:func:`amodal.data.preprocess_subject`).
    features : xarray.Dataset
        A feature store.
    feature_sets : sequence of str
        The bands, e.g. ``["vision", "lang"]``.
    alphas, n_iter, n_folds, seed, device
        As in :func:`fit_banded_ridge`.
    modality : str
        The trials encoded (``image`` for image-to-brain encoding).
    features_path : str
        Named in errors.
    log : callable

    Returns
    -------
    xarray.Dataset
        Per vertex: ``r`` (test Pearson r), ``ncsnr``, ``ceiling`` (noise ceiling of r; NaN without repeats),
        ``r_normalized`` (r / ceiling where the ceiling is above 0.1, else NaN), ``cv_r2`` and ``delta_<set>``
        (log band scalings); per test image: ``rank`` (its retrieval rank, over the vertices whose
        cross-validated R² on the train trials is above 0), with the vertex coordinates
        of ``betas`` and the settings in ``attrs``.
    """
    subject = betas.attrs.get("subject", "sub-?")
    train, test = _image_rows(betas, "train", modality), _image_rows(betas, "test", modality)
    if train.size < n_folds or test.size < 2:
        raise DataError(f"{subject}: encoding needs {modality} train trials (≥ {n_folds}) and ≥ 2 {modality} test "
                        f"trials; the preprocessed store has {train.size} and {test.size}")
    sid = betas["stimulus_id"].values.astype(str)
    if pd.Series(sid[test]).duplicated().any():
        raise DataError(f"{subject}: test stimuli appear more than once in the preprocessed store; set "
                        f"preprocess.average_repeats: true to encode their mean response")
    rows = np.concatenate([train, test])
    is_train = np.zeros(rows.size, dtype=bool)
    is_train[: train.size] = True
    bands = [standardize_train(targets_for(features, fs, sid[rows], features_path), is_train, dtype=np.float32)
             for fs in feature_sets]
    y = betas["betas"].values
    mean, sd = train_stats(y, train)
    y_train = ((y[train] - mean) / sd).astype(np.float32)
    y_test = (y[test] - mean) / sd
    log(f"{subject}: banded ridge from {list(feature_sets)} ({[b.shape[1] for b in bands]} dims) to "
        f"{y.shape[1]} vertices on {train.size} {modality} train trials")
    pred, deltas, cv_r2 = fit_banded_ridge([b[is_train] for b in bands], y_train, [b[~is_train] for b in bands],
                                           alphas=alphas, n_iter=n_iter, n_folds=n_folds, seed=seed, device=device)
    r = metrics.pearson_columns(pred, y_test)
    singles, single_ids = repeated_presentations(betas, modality)
    if single_ids.size:
        ncsnr, ceiling = noise_ceiling((singles - mean) / sd, single_ids,
                                       n_average=float(betas["n_repeats"].values[test].mean()))
    else:
        log(f"{subject}: no repeated {modality} test presentations: no noise ceiling")
        ncsnr = ceiling = np.full(y.shape[1], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        normalized = np.where(ceiling > 0.1, r / ceiling, np.nan)
    # retrieval compares patterns over the vertices the encoder predicts in cross-validation on the train trials
    # (R² > 0): chosen without the test set, and not diluted by vertices that carry no image signal
    useful = cv_r2 > 0
    if not useful.any():
        useful[:] = True
    ranks = retrieval_ranks(pred[:, useful], y_test[:, useful])
    log(f"{subject}: median test r {np.nanmedian(r):.3f}, median ceiling {np.nanmedian(ceiling):.3f}; retrieval "
        f"top-1 {np.mean(ranks == 1):.3f}, mean rank {ranks.mean():.2f} of {ranks.size} (over {int(useful.sum())} "
        f"vertices with cross-validated R² > 0)")
    data_vars = {"r": ("vertex", r.astype(np.float32)), "ncsnr": ("vertex", ncsnr.astype(np.float32)),
                 "ceiling": ("vertex", ceiling.astype(np.float32)),
                 "r_normalized": ("vertex", normalized.astype(np.float32)), "cv_r2": ("vertex", cv_r2),
                 "rank": ("image", ranks.astype(np.int32))}
    for fs, d in zip(feature_sets, deltas):
        data_vars[f"delta_{fs}"] = ("vertex", d)
    return xr.Dataset(data_vars, coords={
        "hemi": ("vertex", betas["hemi"].values), "vertex_index": ("vertex", betas["vertex_index"].values),
        "image": sid[test]}, attrs={
        "subject": subject, "modality": modality, "feature_sets": list(feature_sets),
        "alphas": list(map(float, alphas)),
        "n_iter": int(n_iter), "n_folds": int(n_folds), "n_train": int(train.size), "n_test": int(test.size),
        "n_retrieval_vertices": int(useful.sum()),
        "solver": "himalaya banded ridge, random search on the simplex (MultipleKernelRidgeCV on one linear kernel "
                  "per band when there are fewer trials than features, else BandedRidgeCV), no intercept, inputs "
                  "standardised with train statistics",
        "noise_ceiling": "Allen et al. 2022 ncsnr from the single test presentations"})


MAPS = {"r": ("r", "Pearson r between predicted and measured test responses (repeats averaged)"),
        "ceiling": ("ceiling", "noise ceiling of r (Allen et al. 2022 ncsnr, single test presentations)"),
        "rnormalized": ("r_normalized", "r / noise ceiling, where the ceiling exceeds 0.1 (else NaN)")}
"""Each map stat of :data:`amodal.data.ENCODING_MAP_STATS`: the encoder store's variable and the sidecar's
description."""


def write_encoder_maps(ds: xr.Dataset, paths: dict, n_vertices: int, sidecar: dict) -> None:
    """Write an encoder's per-vertex maps on the whole mesh (NaN where masked), each with its sidecar.

    Parameters
    ----------
    ds : xarray.Dataset
        The encoder's store (:func:`encode_subject`).
    paths : dict
        ``{(hemi, stat): path}`` (:func:`amodal.data.encoding_maps`).
    n_vertices : int
        Vertices of one hemisphere of the mesh.
    sidecar : dict
        What every map's sidecar records, beside its description and hemisphere.
    """
    full = {stat: full_mesh_maps(ds, MAPS[stat][0], n_vertices) for stat in {stat for _, stat in paths}}
    for (hemi, stat), path in paths.items():
        write_map(path, full[stat][hemi], hemi, {**sidecar, "Description": MAPS[stat][1], "hemisphere": hemi})


def vertex_region_types(ds: xr.Dataset, planted_regions=None) -> np.ndarray:
    """The planted region type of each vertex of a store (synthetic data), else ``cortex`` everywhere.

    Parameters
    ----------
    ds : xarray.Dataset
        With vertex coordinates ``hemi`` and ``vertex_index``.
    planted_regions : list of dict, optional
        One subject's record in ``planted.json`` (``type``, ``hemi``, ``vertices``).

    Returns
    -------
    str array of shape (n_vertices,)
        ``visual``, ``language``, ``invariant`` or ``background``; ``cortex`` without a planted truth.
    """
    hemi, index = ds["hemi"].values.astype(str), ds["vertex_index"].values
    if not planted_regions:
        return np.full(hemi.size, "cortex", dtype=object)
    types = np.full(hemi.size, "background", dtype=object)
    for reg in planted_regions:
        if reg["type"] != "medial":
            types[(hemi == reg["hemi"]) & np.isin(index, reg["vertices"])] = reg["type"]
    return types


def summarize_subject(ds: xr.Dataset, planted_regions=None) -> tuple[pd.DataFrame, dict]:
    """Median vertex r with quartiles per region type, and the retrieval scores, of one subject's encoder.

    Parameters
    ----------
    ds : xarray.Dataset
        From :func:`encode_subject`.
    planted_regions : list of dict, optional
        The subject's planted regions (synthetic data): rows per region type, besides ``all``.

    Returns
    -------
    table : pandas.DataFrame
        One row per region type: ``n_vertices``, ``r_median``, ``r_q25``, ``r_q75``, ``ceiling_median``,
        ``r_normalized_median`` (r / ceiling, over vertices with a ceiling above 0.1).
    retrieval : dict
        ``top1``, ``top5`` (fractions), ``mean_rank``, ``n_images`` and the chance values.
    """
    types = vertex_region_types(ds, planted_regions)
    rows = []
    for name in ["all", *sorted(set(types) - {"cortex"})]:
        sel = np.ones(types.size, dtype=bool) if name == "all" else types == name
        r = ds["r"].values[sel]
        q25, med, q75 = np.nanpercentile(r, [25, 50, 75]) if np.isfinite(r).any() else (np.nan,) * 3
        norm = ds["r_normalized"].values[sel]
        rows.append({"region_type": name, "n_vertices": int(sel.sum()), "r_median": med, "r_q25": q25, "r_q75": q75,
                     "ceiling_median": float(np.nanmedian(ds["ceiling"].values[sel])) if sel.any() else np.nan,
                     "r_normalized_median": float(np.nanmedian(norm)) if np.isfinite(norm).any() else np.nan})
    return pd.DataFrame(rows), retrieval_summary(ds["rank"].values)


def retrieval_summary(ranks) -> dict:
    """``top1``, ``top5`` (fractions), ``mean_rank`` and ``n_images`` of retrieval ranks, with their chance values."""
    ranks = np.asarray(ranks)
    n = int(ranks.size)
    return {"top1": float(np.mean(ranks == 1)), "top5": float(np.mean(ranks <= 5)),
            "mean_rank": float(ranks.mean()), "n_images": n, "chance_top1": 1 / n, "chance_top5": min(5, n) / n,
            "chance_mean_rank": (n + 1) / 2}


def full_mesh_maps(ds: xr.Dataset, var: str, n_vertices: int) -> dict[str, np.ndarray]:
    """A per-vertex variable of a store on the whole mesh of each hemisphere, NaN at masked vertices.

    Parameters
    ----------
    ds : xarray.Dataset
        With a ``vertex`` dimension and its ``hemi`` and ``vertex_index`` coordinates.
    var : str
        The variable to spread.
    n_vertices : int
        Vertices of one hemisphere of the mesh.

    Returns
    -------
    dict
        ``{hemi: float32 array of shape (n_vertices,)}`` for ``left`` and ``right``.
    """
    out = {}
    for hemi in ("left", "right"):
        sel = ds["hemi"].values == hemi
        m = np.full(n_vertices, np.nan, dtype=np.float32)
        m[ds["vertex_index"].values[sel]] = ds[var].values[sel]
        out[hemi] = m
    return out
