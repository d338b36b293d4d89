"""Ridge decoders fMRI → features in three training modes, with predictions and per-trial evaluation.

Training modes (METHOD §3): ``images`` (image trials), ``captions`` (caption trials), ``agnostic`` (both).
Evaluation sets (METHOD §4): each decoder is scored on the image and on the caption test trials; the
comparison is ``within`` (images→image, captions→caption), ``cross`` (images→caption, captions→image) or
``agnostic``; plus imagery against 3 and against 3 + n_test candidates (and the reference's 3 + 2·n_test).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import xarray as xr

from .. import metrics
from ..data import MODE_MODALITIES, TRAINING_MODES
from ..errors import DataError
from ..features import targets_for
from ..models import RidgeDecoder, kfold
from ..seeding import rng
from ..standardize import StandardizedRows, standardize_train, standardize_with, train_stats


def comparison(mode: str, eval_modality: str) -> str:
    """The comparison a score belongs to: ``within``, ``cross``, ``agnostic`` (the agnostic decoder on
    either modality) or ``imagery``, for a training ``mode`` evaluated on ``eval_modality``.
    """
    if eval_modality == "imagery":
        return "imagery"
    if mode == "agnostic":
        return "agnostic"
    return "within" if MODE_MODALITIES[mode][0] == eval_modality else "cross"


def _rows(ds: xr.Dataset, split: str, modalities) -> np.ndarray:
    return np.flatnonzero((ds["split"].values == split) & np.isin(ds["modality"].values, modalities))


def _row_metrics(pred: torch.Tensor, cand: torch.Tensor, target, ks, standardize=True) -> dict[str, np.ndarray]:
    """Per-trial values of every metric (trial i's candidate is ``cand[target[i]]``); the metric is the mean
    over trials."""
    out = {"pairwise_acc": metrics.pairwise_accuracy_rows(pred, cand, standardize, target),
           "pairwise_acc_unstd": metrics.pairwise_accuracy_rows(pred, cand, False, target)}
    ranks = metrics.retrieval_ranks(pred, cand, standardize, target)
    out["rank"] = ranks.to(torch.float64)
    out.update(zip((f"recall@{k}" for k in ks), metrics.recall_at(ranks, ks)))
    return {k: v.cpu().numpy() for k, v in out.items()}


def decode(betas: xr.Dataset, features: xr.Dataset, feature_sets, mode: str, *, alphas, n_folds: int = 5,
           cv_scheme: str = "shuffled", scorer: str = "pairwise_accuracy", seed: int = 0, retrieval_k=(1, 5, 10),
           device="cpu", features_path="<features>", log=print):
    """Fit one ridge decoder per feature set for one training mode, and score it on every evaluation set.

    Betas and targets are standardised with the decoder's own train rows (:mod:`amodal.standardize`); alpha is
    chosen by cross-validation on those rows (:class:`amodal.models.RidgeDecoder`). Test trials are scored
    against every unique test stimulus of their modality; imagery trials against the imagery targets (3), those
    plus every unique test stimulus (3 + 70) and the reference's 3 + 140.

    Parameters
    ----------
    betas : xarray.Dataset
        A preprocessed store (``betas`` of shape (n_trials, n_vertices)).
    features : xarray.Dataset
        A feature store.
    feature_sets : sequence of str
    mode : {"images", "captions", "agnostic"}
    alphas : sequence of float
    n_folds : int
    cv_scheme : {"shuffled", "runs"}
    scorer : {"pairwise_accuracy", "r2", "neg_mse"}
    seed : int
    retrieval_k : sequence of int
    device : str or torch.device
    features_path : str
        Named in errors.
    log : callable

    Returns
    -------
    predictions : xarray.Dataset
        ``pred_<set>`` and ``target_<set>`` of shape (n_eval_trials, n_dims) for the test and imagery trials.
    trial_scores : pandas.DataFrame
        One row per trial × metric (long format; columns :data:`KEYS` + ``stimulus_id``, ``value``).
    info : dict
        Chosen alphas and CV scores per feature set.

    Raises
    ------
    DataError
        For too few train trials, no test trials, or stimuli missing from the feature store.
    """
    if mode not in TRAINING_MODES:
        raise ValueError(f"unknown training mode {mode!r}; known: {TRAINING_MODES}")
    subject = betas.attrs.get("subject", "sub-?")
    model = features.attrs.get("model", "?")
    train = _rows(betas, "train", MODE_MODALITIES[mode])
    test = _rows(betas, "test", ("image", "caption"))
    imagery = _rows(betas, "imagery", ("imagery",))
    if train.size < n_folds:
        raise DataError(f"{subject}: only {train.size} train trials for mode {mode!r}; need at least {n_folds}")
    if test.size == 0:
        raise DataError(f"{subject}: no test trials in the preprocessed store")
    # betas standardised with this decoder's own train rows (METHOD §10): an images decoder never sees the
    # statistics of caption trials, and its training rows are centred, as a ridge without intercept needs
    # (the train rows are standardised block by block as the ridge reads them: no float64 copy of the betas)
    x = betas["betas"].values
    mean, sd = train_stats(x, train)
    sid = betas["stimulus_id"].values.astype(str)
    mod = betas["modality"].values.astype(str)
    groups = betas["run"].values[train] if cv_scheme == "runs" and "run" in betas.coords else None
    folds = kfold(train.size, n_folds, int(rng(seed, "cv-folds", subject, mode).integers(2**31)), groups)
    dev = torch.device(device)
    pred_vars, rows, info = {}, [], {"subject": subject, "model": model, "training_mode": mode,
                                     "n_train": int(train.size), "cv_scheme": cv_scheme if groups is not None
                                     else "shuffled", "n_folds": n_folds, "scorer": scorer, "feature_sets": {}}
    for fs in feature_sets:
        y_all = standardize_train(targets_for(features, fs, sid, features_path), train)  # METHOD §1
        fit = RidgeDecoder(alphas, folds, scorer=scorer, device=dev).fit(StandardizedRows(x, train, mean, sd),
                                                                         y_all[train])
        log(f"{subject} {model}/{fs} {mode}: alpha={fit.alpha_:g} (CV {scorer} "
            f"{fit.cv_scores_.max():.3f}) on {train.size} trials x {x.shape[1]} vertices")
        info["feature_sets"][fs] = {"alpha": fit.alpha_, "cv_scores": fit.cv_scores_.round(6).tolist(),
                                    "alphas": np.asarray(alphas, float).tolist()}
        ev = np.concatenate([test, imagery])
        pred = fit.predict(torch.as_tensor(standardize_with(x, ev, mean, sd), device=dev))
        pred_vars[f"pred_{fs}"] = (("trial", f"dim_{fs}"), pred.cpu().numpy().astype(np.float32))
        pred_vars[f"target_{fs}"] = (("trial", f"dim_{fs}"), y_all[ev].astype(np.float32))
        targets = torch.as_tensor(y_all, dtype=torch.float64, device=dev)
        preds = dict(zip(ev.tolist(), pred))
        cand = {}
        for m in ("image", "caption"):
            r = test[mod[test] == m]
            # each trial against every unique test stimulus once (repeats kept as trials are not candidates)
            cand[m], tgt = metrics.unique_candidates(r, sid)
            p = torch.stack([preds[i] for i in r])
            vals = _row_metrics(p, targets[cand[m]], tgt, retrieval_k)
            rows += _long(vals, sid[r], subject, model, fs, mode, m)
        if imagery.size >= 2:
            p = torch.stack([preds[i] for i in imagery])
            cand_m, tgt = metrics.unique_candidates(imagery, sid)
            img_t = targets[cand_m]
            vals = {"pairwise_acc": metrics.pairwise_accuracy_rows(p, img_t, True, tgt).cpu().numpy(),
                    "pairwise_acc_unstd": metrics.pairwise_accuracy_rows(p, img_t, False, tgt).cpu().numpy()}
            # against the imagery targets plus every unique test stimulus (3 + 70), and the reference's 3 + 140
            # (the test targets once per modality)
            uniq, _ = metrics.unique_candidates(test, sid)
            cand73 = torch.cat([img_t, targets[uniq]])
            cand143 = torch.cat([img_t, targets[cand["image"]], targets[cand["caption"]]])
            for name, c, std in ((f"pairwise_acc_{cand73.shape[0]}", cand73, True),
                                 (f"pairwise_acc_{cand73.shape[0]}_unstd", cand73, False),
                                 (f"pairwise_acc_{cand143.shape[0]}", cand143, True)):
                vals[name] = metrics.pairwise_accuracy_rows(p, c, std, tgt).cpu().numpy()
            ranks = metrics.retrieval_ranks(p, cand73, True, tgt)
            vals[f"rank_{cand73.shape[0]}"] = ranks.to(torch.float64).cpu().numpy()
            rows += _long(vals, sid[imagery], subject, model, fs, mode, "imagery")
    ev = np.concatenate([test, imagery])
    preds_ds = xr.Dataset(pred_vars, coords={
        "trial": np.arange(ev.size), "stimulus_id": ("trial", sid[ev]), "modality": ("trial", mod[ev]),
        "split": ("trial", betas["split"].values.astype(str)[ev])},
        attrs={"subject": subject, "model": model, "training_mode": mode,
               "alphas": str({k: v["alpha"] for k, v in info["feature_sets"].items()})})
    return preds_ds, pd.DataFrame(rows), info


def _long(vals: dict, stim_ids, subject, model, fs, mode, eval_modality, decoder=None) -> list[dict]:
    # rows of the long table (KEYS + stimulus_id, value); the contrastive table adds ``decoder`` after ``model``
    comp = comparison(mode, eval_modality)
    head = {"subject": subject, "model": model, **({} if decoder is None else {"decoder": decoder})}
    out = []
    for metric, arr in vals.items():
        for s, v in zip(stim_ids, np.asarray(arr).ravel()):
            out.append({**head, "feature_set": fs, "training_mode": mode, "eval_modality": eval_modality,
                        "comparison": comp, "metric": metric, "stimulus_id": s, "value": float(v)})
    return out


KEYS = ["subject", "model", "feature_set", "training_mode", "eval_modality", "comparison", "metric"]


def subject_scores(trial_scores: pd.DataFrame, keys=None) -> pd.DataFrame:
    """Per-subject scores: the mean over trials of each subject × model × feature set × mode × evaluated
    modality × metric, with ``n_trials``.

    Parameters
    ----------
    trial_scores : pandas.DataFrame
        From :func:`decode` (concatenated over jobs).
    keys : list of str, optional
        The grouping columns (default :data:`KEYS`; the contrastive table adds ``decoder``).

    Returns
    -------
    pandas.DataFrame
    """
    g = trial_scores.groupby(list(keys or KEYS), sort=False)["value"]
    out = g.mean().reset_index()
    out["n_trials"] = g.size().to_numpy()
    return out


def summary(trial_scores: pd.DataFrame, n_boot: int = 10_000, seed: int = 0, ci: float = 0.95, keys=None,
            pool_modalities: bool = True) -> pd.DataFrame:
    """Mean across subjects with a hierarchical bootstrap CI, per model × feature set × mode × modality ×
    metric; plus the average over image and caption test trials (``eval_modality == "image+caption"``, Fig. 4).

    Parameters
    ----------
    trial_scores : pandas.DataFrame
    n_boot : int
    seed : int
        Master seed; every group gets its own stream.
    ci : float
    keys : list of str, optional
        The grouping columns, ``subject`` first (default :data:`KEYS`).
    pool_modalities : bool
        Add the average over image and caption test trials (``eval_modality == "image+caption"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``model, feature_set, training_mode, eval_modality, comparison, metric, mean, ci_low, ci_high,
        n_subjects``.
    """
    rows = []
    keys = list(keys or KEYS)[1:]
    if pool_modalities:
        # the average over image and caption test trials (Fig. 4) is bootstrapped over the pooled trials
        both = trial_scores[trial_scores.eval_modality.isin(["image", "caption"])]
        both = both.assign(eval_modality="image+caption",
                           comparison=np.where(both.training_mode == "agnostic", "agnostic", "average"))
        trial_scores = pd.concat([trial_scores, both], ignore_index=True)
    for key, grp in trial_scores.groupby(keys, sort=False):
        per_sub = [g["value"].to_numpy() for _, g in grp.groupby("subject", sort=True)]
        stream = int(rng(seed, "bootstrap", *key).integers(2**31))
        mean, lo, hi = metrics.hierarchical_bootstrap(per_sub, n_boot=n_boot, seed=stream, ci=ci)
        rows.append(dict(zip(keys, key), mean=mean, ci_low=lo, ci_high=hi, n_subjects=len(per_sub)))
    return pd.DataFrame(rows)
