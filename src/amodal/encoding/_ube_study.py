"""The Universal Brain Encoder study on preprocessed stores (Beliy et al. 2024; notes §3): joint training across
subjects, single-subject training, transfer to a held-out subject, scores per region type, and functional clusters
of the learned vertex embeddings.

Every run trains on the image train trials, keeps a seeded ``val_fraction`` of them aside to schedule the learning
rate and pick the best epoch, and is scored on the test images (repeats averaged) only: median vertex r with
quartiles, and image retrieval from measured fMRI over the vertices whose validation r is above 0 (chosen without
the test set, as the voxelwise encoder's retrieval is).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import xarray as xr

from .. import metrics
from ..errors import DataError
from ..seeding import rng, torch_seed
from ..standardize import train_stats
from ._ube import UniversalBrainEncoder, predict, train_ube
from ._voxelwise import _image_rows, retrieval_ranks, retrieval_summary, vertex_region_types

def patch_tokens(features: xr.Dataset, features_path="<features>") -> tuple[torch.Tensor, dict[str, int]]:
    """The ``patches`` of a feature store as a float32 tensor (stimulus, layer, token, channel), and the row of
    each stimulus id."""
    if "patches" not in features:
        raise DataError(f"{features_path} has no 'patches': the Universal Brain Encoder needs a patch-feature model "
                        f"(backend gabor_patches or hf_vision_patches) in ube.patch_model")
    ids = features["stimulus"].values.astype(str)
    return torch.as_tensor(np.asarray(features["patches"].values, dtype=np.float32)), {s: i for i, s in
                                                                                     enumerate(ids)}


def subject_data(betas: xr.Dataset, stim_row: dict[str, int], *, val_fraction: float, seed: int,
                 modality: str = "image", features_path="<features>") -> dict:
    """One subject's image trials as the encoder trains on them.

    Responses are standardised per vertex with the train rows' mean and SD (validation rows included: they are
    train trials). A seeded ``val_fraction`` of the train trials is the validation set.

    Returns
    -------
    dict
        ``train``, ``val``, ``test``: (stimulus rows, responses of shape (n, n_vertices)) as tensors;
        ``test_ids``; ``n_vertices``; ``betas`` (the store, for its vertex coordinates).
    """
    subject = betas.attrs.get("subject", "sub-?")
    train, test = _image_rows(betas, "train", modality), _image_rows(betas, "test", modality)
    n_val = int(round(val_fraction * train.size))
    if train.size - n_val < 2 or n_val < 2 or test.size < 2:
        raise DataError(f"{subject}: the Universal Brain Encoder needs ≥ 2 {modality} train, validation and test "
                        f"trials; the preprocessed store has {train.size} train ({n_val} for validation) and "
                        f"{test.size} test")
    sid = betas["stimulus_id"].values.astype(str)
    missing = sorted(set(sid[np.concatenate([train, test])]) - set(stim_row))
    if missing:
        raise DataError(f"{features_path} has no patch features for {len(missing)} stimuli of {subject} (e.g. "
                        f"{missing[:3]}); delete the store so that it is extracted again for this dataset")
    y = betas["betas"].values
    mean, sd = train_stats(y, train)
    z = torch.as_tensor(((y - mean) / sd).astype(np.float32))
    order = rng(seed, "ube", "validation", subject).permutation(train.size)
    val, fit = np.sort(train[order[:n_val]]), np.sort(train[order[n_val:]])

    def part(rows):
        return torch.as_tensor([stim_row[s] for s in sid[rows]]), z[rows]

    return {"train": part(fit), "val": part(val), "test": part(test), "test_ids": sid[test],
            "n_vertices": y.shape[1], "betas": betas}


def first_images(data: dict, n: int) -> dict:
    """``data`` with its train set cut to the first ``n`` train images (for transfer and its from-scratch twin)."""
    idx, resp = data["train"]
    if n > idx.numel():
        raise DataError(f"ube.transfer_n asks for {n} train images; the held-out subject has {idx.numel()} "
                        f"(after validation)")
    return {**data, "train": (idx[:n], resp[:n])}


def new_model(tokens: torch.Tensor, n_vertices: dict[str, int], size: dict, seed: int, device) -> UniversalBrainEncoder:
    """A freshly initialised encoder (seeded) of the given size on ``device``."""
    torch.manual_seed(torch_seed(seed, "ube", "init"))
    _, n_layers, n_tokens, n_channels = tokens.shape
    return UniversalBrainEncoder(n_layers, n_tokens, n_channels, n_vertices, channels=size["channels"],
                                 embedding=size["embedding"], dropout=size.get("dropout", 0.25)).to(device)


def for_transfer(model: UniversalBrainEncoder, subject: str, n_vertices: int) -> tuple[UniversalBrainEncoder, list]:
    """A copy of a trained ``model`` with a new embedding table for ``subject`` and everything else frozen.

    Returns
    -------
    model : UniversalBrainEncoder
    parameters : list
        What to train: the new subject's vertex embeddings only (the paper's transfer).
    """
    import copy

    new = copy.deepcopy(model)
    new.add_subject(subject, n_vertices)
    for par in new.parameters():
        par.requires_grad_(False)
    emb = new.vertex_embeddings[subject]
    emb.requires_grad_(True)
    return new, [emb]


def fit(model: UniversalBrainEncoder, tokens: torch.Tensor, data: dict[str, dict], cfg: dict, size: dict, seed: int,
        *, key: str, parameters=None, checkpoint=None, log=print) -> dict:
    """Train ``model`` on the subjects of ``data`` (:func:`subject_data`) with the study's settings.

    ``cfg`` holds ``epochs``, ``lr`` and ``patience``; ``size`` the sampling sizes; ``key`` names the run's random
    stream (so every run draws its own, whatever the order of jobs).
    """
    return train_ube(model, tokens, {s: d["train"] for s, d in data.items()}, {s: d["val"] for s, d in data.items()},
                     epochs=cfg["epochs"], batch_images=size["batch_images"], n_sampled=size["n_sampled"],
                     lr=cfg["lr"], patience=cfg["patience"], seed=torch_seed(seed, "ube", key),
                     val_vertices=size["val_vertices"], parameters=parameters, checkpoint=checkpoint, log=log)


def evaluate(model: UniversalBrainEncoder, tokens: torch.Tensor, subject: str, data: dict, run: str,
             planted_regions=None) -> tuple[xr.Dataset, pd.DataFrame, dict]:
    """Score one subject of a trained encoder on its test images.

    Returns
    -------
    ds : xarray.Dataset
        Per vertex: ``r`` (test), ``val_r`` (validation), ``region_type``, ``embedding`` (vertex × dim); per test
        image: ``rank``.
    table : pandas.DataFrame
        Median r with quartiles per region type (``all`` first).
    retrieval : dict
        ``top1``, ``top5``, ``mean_rank``, ``n_images`` and their chance values.
    """
    n = data["n_vertices"]
    (val_idx, val_resp), (test_idx, test_resp) = data["val"], data["test"]
    pred_test = predict(model, tokens[test_idx], subject, n)
    r = metrics.pearson_r(pred_test, test_resp, constant=0.0).numpy()
    val_r = metrics.pearson_r(predict(model, tokens[val_idx], subject, n), val_resp, constant=0.0).numpy()
    useful = val_r > 0
    if not useful.any():
        useful[:] = True
    ranks = retrieval_ranks(pred_test.numpy()[:, useful], test_resp.numpy()[:, useful])
    betas = data["betas"]
    types = vertex_region_types(betas, planted_regions)
    emb = model.vertex_embeddings[subject].detach().cpu().numpy()
    ds = xr.Dataset({"r": ("vertex", r.astype(np.float32)), "val_r": ("vertex", val_r.astype(np.float32)),
                     "region_type": ("vertex", types.astype(str)),
                     "embedding": (("vertex", "dim"), emb.astype(np.float32)),
                     "rank": ("image", ranks.astype(np.int32))},
                    coords={"hemi": ("vertex", betas["hemi"].values),
                            "vertex_index": ("vertex", betas["vertex_index"].values), "image": data["test_ids"]},
                    attrs={"subject": subject, "run": run, "n_train": int(data["train"][0].numel()),
                           "n_val": int(val_idx.numel()), "n_test": int(test_idx.numel()),
                           "n_retrieval_vertices": int(useful.sum())})
    rows = []
    for name in ["all", *sorted(set(types) - {"cortex"})]:
        sel = np.ones(types.size, dtype=bool) if name == "all" else types == name
        q25, med, q75 = np.percentile(r[sel], [25, 50, 75])
        rows.append({"run": run, "subject": subject, "region_type": name, "n_vertices": int(sel.sum()),
                     "r_median": med, "r_q25": q25, "r_q75": q75})
    return ds, pd.DataFrame(rows), {"run": run, "subject": subject, **retrieval_summary(ranks)}


def embedding_clusters(stores: list[xr.Dataset], n_clusters: int, seed: int) -> tuple[list[np.ndarray], dict]:
    """k-means on the vertex embeddings of every subject together (each embedding scaled to unit length, as
    functional similarity is a direction), and the agreement of the clusters with the planted region types.

    Returns
    -------
    labels : list of int arrays
        The cluster of every vertex, one array per store.
    agreement : dict
        ``ari_all_types``: adjusted Rand index between the clusters and the region types over every vertex
        (NaN without planted types); ``ari_visual_invariant``: over the visual and invariant vertices only,
        of a 2-means fitted on those vertices' embeddings (does the embedding separate the two kinds of
        image-driven vertices?).
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    def unit(x):
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    emb = unit(np.concatenate([ds["embedding"].values for ds in stores]))
    types = np.concatenate([ds["region_type"].values.astype(str) for ds in stores])
    km = KMeans(n_clusters=n_clusters, n_init=10, random_state=int(rng(seed, "ube", "kmeans").integers(2**31)))
    labels = km.fit_predict(emb)
    out = {"n_clusters": n_clusters, "ari_all_types": float("nan"), "ari_visual_invariant": float("nan")}
    if not (types == "cortex").all():
        out["ari_all_types"] = float(adjusted_rand_score(types, labels))
        sel = np.isin(types, ["visual", "invariant"])
        if len(set(types[sel])) == 2:
            km2 = KMeans(n_clusters=2, n_init=10, random_state=int(rng(seed, "ube", "kmeans2").integers(2**31)))
            out["ari_visual_invariant"] = float(adjusted_rand_score(types[sel], km2.fit_predict(emb[sel])))
            out["n_visual_invariant"] = int(sel.sum())
    splits = np.cumsum([ds.sizes["vertex"] for ds in stores])[:-1]
    return np.split(labels, splits), out
