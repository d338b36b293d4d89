"""Contrastive decoders per training mode, scored in the long table of the ridge decoders (BrainCLIP Tab. 1 layout).

One job fits one decoder family for one subject and training mode: ``brainclip_linear`` and ``brainclip_vae``
(conditions V, T and VT), ``mindreader`` (its image mapper V and caption mapper T) and ``ridge`` (ridge into the
same space, to the image embedding V and to the text embedding T: BrainCLIP's baseline). Each fit is scored on
the image and on the caption test trials against every unique test stimulus's image embedding (fMRI→image,
``feature_set = vision``) and text embedding (fMRI→text, ``feature_set = lang``):

- recall@1/5/10, mean recall (their mean) and rank, by cosine, over all test candidates;
- Mind Reader's forward and backward top-1 retrieval within batches (``batch_size`` trials, the whole test set
  when it is smaller), where another trial of the same stimulus counts as a hit;
- pairwise accuracy as for ridge (standardised and not);
- zero-shot classification (``feature_set = classes``): top-1 and top-5 against the class embeddings of the
  text tower (prompt templates averaged); a class is right when the scene contains it. The chance level of each
  trial, 1 − C(K − m, k) / C(K, k) for m of K classes present, is a metric of its own.

Imagery trials are scored by pairwise accuracy against the imagery targets.
"""

from __future__ import annotations

from math import comb

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
import xarray as xr

from .. import metrics
from ..data import DECODER_FAMILIES, MODE_MODALITIES, TRAINING_MODES
from ..errors import DataError
from ..features import targets_for
from ..models import (CONTRASTIVE_FAMILIES, ContrastiveDecoder, RidgeDecoder, TrainSettings, grid, kfold, pretrain_for,
                      thread_invariant)
from ..seeding import rng
from ..standardize import standardize_train, train_stats
from ._decoding import KEYS, _long, _rows, summary

CONTRASTIVE_KEYS = KEYS[:2] + ["decoder"] + KEYS[2:]
"""The long table's key columns: the ridge table's, plus the decoder variant (``brainclip_linear_VT``...)."""
TARGET_SETS = {"vision": "image", "lang": "text"}


def retrieval_metrics(pred: torch.Tensor, cand: torch.Tensor, target, ks=(1, 5, 10)) -> dict[str, np.ndarray]:
    """Per-trial rank, recall@k, mean recall and the number of candidates, for ``cand[target[i]]`` for query
    ``pred[i]``, by cosine (no standardisation: the space is the model's own, as BrainCLIP and Mind Reader rank).

    Parameters
    ----------
    pred : tensor of shape (n, d)
    cand : tensor of shape (m, d)
    target : int array of shape (n,)
    ks : sequence of int

    Returns
    -------
    dict
        ``rank``, ``recall@k``, ``mean_recall``, ``n_candidates``: float arrays of shape (n,).
    """
    ranks = metrics.retrieval_ranks(pred, cand, False, target).to(torch.float64)
    out = {"rank": ranks, **dict(zip((f"recall@{k}" for k in ks), metrics.recall_at(ranks, ks)))}
    out["mean_recall"] = metrics.mean_recall(ranks, ks, per_trial=True)
    out["n_candidates"] = torch.full_like(ranks, float(cand.shape[-2]))  # chance of recall@k is k / this
    return {k: v.cpu().numpy() for k, v in out.items()}


def batch_retrieval(pred: torch.Tensor, targets: torch.Tensor, ids, batch_size: int = 300, seed: int = 0):
    """Mind Reader's forward and backward retrieval within batches (MR §3.2).

    The trials are shuffled (seeded) and cut into batches of ``batch_size`` (the last may be smaller; one batch
    when there are fewer trials). Forward: trial i is a hit when the most similar target of its batch is of its
    stimulus. Backward: target i is a hit when the most similar prediction of its batch is of its stimulus.
    Another trial of the same stimulus counts as a hit.

    Parameters
    ----------
    pred, targets : tensor of shape (n, d)
        Row i of ``targets`` is trial i's own target.
    ids : array of shape (n,)
        Stimulus of each trial.
    batch_size : int
    seed : int

    Returns
    -------
    forward, backward : float arrays of shape (n,)
        1 for a hit, 0 otherwise, in the trials' order.
    """
    ids = np.asarray(ids).astype(str)
    n = len(ids)
    order = rng(seed, "batch-retrieval").permutation(n)
    fwd, bwd = np.zeros(n), np.zeros(n)
    for k in range(0, n, batch_size):
        b = order[k: k + batch_size]
        sim = F.normalize(pred[b], dim=1) @ F.normalize(targets[b], dim=1).T
        same = ids[b][:, None] == ids[b][None, :]
        fwd[b] = same[np.arange(len(b)), sim.argmax(1).cpu().numpy()]
        bwd[b] = same[sim.argmax(0).cpu().numpy(), np.arange(len(b))]
    return fwd, bwd


def zero_shot(pred: torch.Tensor, class_emb: torch.Tensor, labels: list[set[int]], ks=(1, 5)) -> dict:
    """Zero-shot classification of decoded embeddings (BrainCLIP §4.2): classes ranked by cosine with the class
    embeddings; top-k is a hit when one of the k best classes is in the trial's label set.

    Parameters
    ----------
    pred : tensor of shape (n, d)
    class_emb : tensor of shape (n_classes, d)
    labels : list of set of int
        The classes present in each trial's stimulus.
    ks : sequence of int

    Returns
    -------
    dict
        ``zeroshot_top{k}`` hits and ``zeroshot_top{k}_chance`` (the chance of a hit for a random ranking) per
        trial, as float arrays of shape (n,).
    """
    sim = F.normalize(pred, dim=1) @ F.normalize(class_emb, dim=1).T
    order = sim.argsort(dim=1, descending=True).cpu().numpy()
    n_cls = class_emb.shape[0]
    out = {}
    for k in ks:
        k_eff = min(k, n_cls)
        out[f"zeroshot_top{k}"] = np.array([float(bool(set(o[:k_eff]) & lab)) for o, lab in zip(order, labels)])
        out[f"zeroshot_top{k}_chance"] = np.array(
            [1.0 - comb(n_cls - len(lab), k_eff) / comb(n_cls, k_eff) for lab in labels])
    return out


def _settings(family: str, cfg: dict) -> list[TrainSettings]:
    # the validated config holds every value (the schema requires them): no second default here
    c = cfg[family]
    lrs = [float(v) for v in c["lr"]]
    taus = [float(v) for v in (c["tau"] if isinstance(c["tau"], list) else [c["tau"]])]  # Mind Reader: one value
    base = TrainSettings(lr=lrs[0], weight_decay=float(cfg["weight_decay"]),
                         batch_size=int(c.get("batch_size", cfg["batch_size"])),
                         max_epochs=int(c.get("max_epochs", cfg["max_epochs"])), patience=int(cfg["patience"]),
                         min_delta=float(cfg["min_delta"]))
    return grid(base, lr=lrs, tau=taus)


def _vt_settings(settings: list[TrainSettings], weights) -> list[TrainSettings]:
    return [TrainSettings(**{**s.__dict__, "image_weight": float(w), "text_weight": 1.0 - float(w)})
            for s in settings for w in weights]


def fit_family(family: str, x, y_img, y_txt, train, ids, cfg: dict, seed: int, keys, pretrain=None,
               device="cpu", checkpoint_dir=None, log=None, cv_groups=None):
    """Fit every variant of one decoder family on the ``train`` rows.

    Parameters
    ----------
    family : str
        One of :data:`amodal.data.DECODER_FAMILIES`.
    x : array of shape (n_rows, n_vertices)
        Standardised betas.
    y_img, y_txt : arrays of shape (n_rows, dim)
        Image and text embeddings of each row's stimulus.
    train : int array
        The train rows.
    ids : array of shape (n_rows,)
        Stimulus of each row.
    cfg : dict
        The ``contrastive`` section plus ``ridge_alphas`` and ``ridge_cv_folds`` (the ridge decoders' grid and
        number of folds).
    seed : int
    keys : tuple
        Names of the random streams.
    pretrain : array, optional
        BrainCLIP-VAE's pre-training embeddings.
    device : str
    checkpoint_dir : path, optional
    log : callable, optional
    cv_groups : array of shape (len(train),), optional
        The ridge's folds keep each group whole (single trials: each image's repeats; see
        :func:`decode_contrastive`); by default shuffled folds.

    Returns
    -------
    dict
        Variant name (``<family>_<target>``) → (a function mapping rows of ``x`` to embeddings, info dict).
    """
    out = {}
    if family == "ridge":
        folds = kfold(train.size, int(cfg.get("ridge_cv_folds", 5)), int(rng(seed, "cv-folds", *keys).integers(
            2**31)), cv_groups)
        for tgt, y in (("V", y_img), ("T", y_txt)):
            mean, sd = train_stats(y, train)
            fit = RidgeDecoder(cfg["ridge_alphas"], folds, device=torch.device(device)).fit(
                x[train], (y[train] - mean) / sd)
            # back to the embedding's own units, so that cosine ranking is in the same space as the others'
            mean_t, sd_t = (torch.as_tensor(v, dtype=torch.float64, device=device) for v in (mean, sd))
            out[f"ridge_{tgt}"] = (
                lambda rows, f=fit, m=mean_t, s=sd_t: f.predict(torch.as_tensor(
                    x[rows], dtype=torch.float64, device=device)) * s + m,
                {"alpha": fit.alpha_, "cv_scores": fit.cv_scores_.round(6).tolist()})
            if log is not None:
                log(f"ridge/{tgt}: alpha {fit.alpha_:g}")
        return out
    base = _settings(family, cfg)
    spec = CONTRASTIVE_FAMILIES[family]
    targets = spec.targets
    arch = dict(cfg.get(family, {}).get("architecture", {}))
    if cfg.get(family, {}).get("size") == "paper":
        arch.update(spec.paper_architecture)
    vae_decoder = None
    if spec.kl:  # pre-trained once per job, frozen: the V, T and VT decoders share it
        with thread_invariant(device):
            vae_decoder = pretrain_for(pretrain, arch, seed, keys, device, log)
    for tgt in targets:
        settings = _vt_settings(base, cfg["brainclip"]["vt_image_weight"]) if tgt == "VT" else base
        dec = ContrastiveDecoder(family, tgt, settings, float(cfg["val_fraction"]), seed, (*keys, tgt), arch,
                                 pretrain, device, None if checkpoint_dir is None else f"{checkpoint_dir}",
                                 log, split_keys=keys, vae_decoder=vae_decoder).fit(
            x[train], y_img[train], y_txt[train], ids[train])
        out[f"{family}_{tgt}"] = (
            lambda rows, d=dec: d.predict(x[rows]).to(torch.float64),
            {"selected": dec.settings_.key(), "selection": dec.selection_,
             "n_validation_stimuli": int(dec.val_stimuli_.size)})
    return out


def decode_contrastive(betas: xr.Dataset, features: xr.Dataset, family: str, mode: str, cfg: dict, *,
                       seed: int = 0, labels: dict | None = None, retrieval_k=(1, 5, 10), device="cpu",
                       checkpoint_dir=None, features_path="<features>", log=print):
    """Fit one decoder family for one training mode and score every variant on every evaluation set.

    Parameters
    ----------
    betas : xarray.Dataset
        A preprocessed store.
    features : xarray.Dataset
        An aligned image–text feature store (``vision`` and ``lang`` in one space; ``class_embeddings`` for
        zero-shot classification).
    family : {"ridge", "brainclip_linear", "brainclip_vae", "mindreader"}
    mode : {"images", "captions", "agnostic"}
    cfg : dict
        The config's ``contrastive`` section.
    seed : int
    labels : dict, optional
        Stimulus id → set of class names (zero-shot); without it, or without class embeddings in the store,
        zero-shot classification is skipped (and logged).
    retrieval_k : sequence of int
    device : str
    checkpoint_dir : path, optional
    features_path : str
    log : callable

    Returns
    -------
    predictions : xarray.Dataset
        ``pred_<variant>`` (n_eval_trials, dim) and ``target_vision``, ``target_lang`` for the test and imagery
        trials.
    trial_scores : pandas.DataFrame
        Long format: :data:`amodal.evaluation.KEYS` + ``stimulus_id``, ``value``.
    info : dict
        Per variant: the selected hyper-parameters and validation scores, or ridge's alpha.
    """
    if family not in DECODER_FAMILIES:
        raise ValueError(f"unknown decoder family {family!r}; known: {DECODER_FAMILIES}")
    if mode not in TRAINING_MODES:
        raise ValueError(f"unknown training mode {mode!r}; known: {TRAINING_MODES}")
    for fs in TARGET_SETS:
        if fs not in features:
            raise DataError(f"{features_path}: the contrastive decoders need an aligned image-text model with "
                            f"'vision' and 'lang' sets; this store has {sorted(features.data_vars)}. Set "
                            f"contrastive.model to a CLIP-like model (dual_encoder, hf_clip or open_clip).")
    subject = betas.attrs.get("subject", "sub-?")
    model_name = features.attrs.get("model", "?")
    train = _rows(betas, "train", MODE_MODALITIES[mode])
    test = _rows(betas, "test", ("image", "caption"))
    imagery = _rows(betas, "imagery", ("imagery",))
    if test.size == 0:
        raise DataError(f"{subject}: no test trials in the preprocessed store")
    x = standardize_train(betas["betas"].values, train, dtype=np.float32)
    sid = betas["stimulus_id"].values.astype(str)
    mod = betas["modality"].values.astype(str)
    y_img = targets_for(features, "vision", sid, features_path).astype(np.float64)
    y_txt = targets_for(features, "lang", sid, features_path).astype(np.float64)
    pretrain = None
    if family == "brainclip_vae":
        # unpaired embeddings of the stimuli that are never test or imagery stimuli (BC App. A.1)
        held = set(sid[test]) | set(sid[imagery])
        keep = ~np.isin(features["stimulus"].values.astype(str), list(held))
        pretrain = np.concatenate([features["vision"].values[keep], features["lang"].values[keep]])
    # single trials (NSD's train repeats, `preprocess.average_repeats: test`): the ridge's folds keep each image's
    # trials together, so that no fold is validated on an image it was fitted on (an image and a caption trial of one
    # stimulus are two trials, not repeats: shuffled folds, as the ridge decoders of the reference study)
    repeated = pd.DataFrame({"s": sid[train], "m": mod[train]}).duplicated().any()
    fits = fit_family(family, x, y_img, y_txt, train, sid, cfg, seed, (subject, family, mode), pretrain, device,
                      checkpoint_dir, log, cv_groups=sid[train] if repeated else None)
    ev = np.concatenate([test, imagery])
    pos = {r: i for i, r in enumerate(ev.tolist())}
    t_img = torch.as_tensor(y_img, dtype=torch.float64, device=device)
    t_txt = torch.as_tensor(y_txt, dtype=torch.float64, device=device)
    emb = {"vision": t_img, "lang": t_txt}
    class_emb, class_names = None, None
    if "class_embeddings" in features and labels is not None:
        class_names = [str(c) for c in features["class"].values]
        class_emb = torch.as_tensor(features["class_embeddings"].values, dtype=torch.float64, device=device)
    elif log is not None:
        log("zero-shot classification skipped: " + ("the feature store has no class embeddings"
                                                     if labels is not None else "the stimuli have no labels"))
    rows, pred_vars, info = [], {}, {"subject": subject, "model": model_name, "family": family,
                                     "training_mode": mode, "n_train": int(train.size), "variants": {}}
    bs = int(cfg.get("retrieval_batch", 300))
    for variant, (predict, vinfo) in fits.items():
        info["variants"][variant] = vinfo
        pred_all = predict(ev)
        pred_vars[f"pred_{variant}"] = (("trial", "dim"), pred_all.cpu().numpy().astype(np.float32))
        for m in ("image", "caption"):
            r = test[mod[test] == m]
            p = pred_all[[pos[i] for i in r]]
            cand, tgt = metrics.unique_candidates(r, sid)
            for fs, t in emb.items():
                vals = retrieval_metrics(p, t[cand], tgt, retrieval_k)
                vals["pairwise_acc"] = metrics.pairwise_accuracy_rows(p, t[cand], True, tgt).cpu().numpy()
                vals["pairwise_acc_unstd"] = metrics.pairwise_accuracy_rows(p, t[cand], False, tgt).cpu().numpy()
                vals["forward_retrieval"], vals["backward_retrieval"] = batch_retrieval(
                    p, t[r], sid[r], bs, seed)
                rows += _long(vals, sid[r], subject, model_name, fs, mode, m, variant)
            if class_emb is not None:
                lab = [{class_names.index(c) for c in labels.get(s, ()) if c in class_names} for s in sid[r]]
                rows += _long(zero_shot(p, class_emb, lab), sid[r], subject, model_name, "classes", mode, m,
                              variant)
        if imagery.size >= 2:
            p = pred_all[[pos[i] for i in imagery]]
            cand, tgt = metrics.unique_candidates(imagery, sid)
            for fs, t in emb.items():
                vals = {"pairwise_acc": metrics.pairwise_accuracy_rows(p, t[cand], True, tgt).cpu().numpy()}
                rows += _long(vals, sid[imagery], subject, model_name, fs, mode, "imagery", variant)
    pred_vars["target_vision"] = (("trial", "dim"), y_img[ev].astype(np.float32))
    pred_vars["target_lang"] = (("trial", "dim"), y_txt[ev].astype(np.float32))
    preds = xr.Dataset(pred_vars, coords={
        "trial": np.arange(ev.size), "stimulus_id": ("trial", sid[ev]), "modality": ("trial", mod[ev]),
        "split": ("trial", betas["split"].values.astype(str)[ev])},
        attrs={"subject": subject, "model": model_name, "family": family, "training_mode": mode})
    return preds, pd.DataFrame(rows), info


SUMMARY_METRICS = ("recall@1", "recall@5", "recall@10", "mean_recall", "rank", "n_candidates", "pairwise_acc",
                   "forward_retrieval", "backward_retrieval", "zeroshot_top1", "zeroshot_top5",
                   "zeroshot_top1_chance", "zeroshot_top5_chance")


def contrastive_summary(trial_scores: pd.DataFrame, n_boot: int = 2000, seed: int = 0, ci: float = 0.95):
    """Mean across subjects with hierarchical bootstrap CIs (:func:`amodal.evaluation.summary`) of the metrics in
    :data:`SUMMARY_METRICS`, per decoder variant × target space × training mode × evaluated modality.

    Parameters
    ----------
    trial_scores : pandas.DataFrame
        From :func:`decode_contrastive` (concatenated over jobs).
    n_boot : int
    seed : int
    ci : float

    Returns
    -------
    pandas.DataFrame
    """
    keep = trial_scores[trial_scores.metric.isin(SUMMARY_METRICS)]
    return summary(keep, n_boot=n_boot, seed=seed, ci=ci, keys=CONTRASTIVE_KEYS, pool_modalities=False)
