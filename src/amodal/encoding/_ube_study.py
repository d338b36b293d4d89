"""The Universal Brain Encoder study on preprocessed stores (Beliy et al. 2024; notes §3): joint training across
subjects, single-subject training, transfer to a held-out subject, scores per region type, and functional clusters
of the learned vertex embeddings.

Every run trains on the image train trials, keeps a seeded ``val_fraction`` of them aside to schedule the learning
rate and pick the best epoch, and is scored on the test images (repeats averaged) only: median vertex r with
quartiles, and image retrieval from measured fMRI over the vertices whose validation r is above 0 (chosen without
the test set, as the voxelwise encoder's retrieval is).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr

from .. import metrics
from ..data import read_planted, read_store, write_map, write_store
from ..errors import DataError
from ..features import open_features
from ..seeding import rng, torch_seed
from ..standardize import train_stats
from ..surface import N_VERTICES
from ._ube import UniversalBrainEncoder, predict, train_ube
from ._voxelwise import _image_rows, full_mesh_maps, retrieval_ranks, retrieval_summary, vertex_region_types


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


# ----------------------------------------------------------------------------------------------------------------
# the study's runs as the workflow runs them: read the stores, train, score, write every output


def _planted_subjects(planted_path) -> dict:
    return (read_planted(planted_path) or {}).get("subjects", {}) if planted_path else {}


def _write_tables(tables: list, retrievals: list, outputs: dict) -> None:
    pd.concat(tables).to_csv(outputs["scores"], sep="\t", index=False)
    pd.DataFrame(retrievals).to_csv(outputs["retrieval"], sep="\t", index=False)


def _scored(model, tokens, subject, d, run, planted, attrs, stores, name, log) -> tuple[pd.DataFrame, dict]:
    ds, table, retrieval = evaluate(model, tokens, subject, d, run, planted.get(subject))
    ds.attrs.update(attrs)
    write_store(ds, Path(stores) / f"{name}.zarr")
    log(f"{name}: median test r {table['r_median'].iloc[0]:.3f}; top-1 "
        f"{retrieval['top1']:.3f}")
    return table, retrieval


def train_run(betas: dict, features_path, planted_path, outputs: dict, *, cfg: dict, size: dict, seed: int,
              run: str, checkpoints, device, log=print) -> None:
    """One training run of the study: joint (every subject of ``betas``) or single-subject, scored on each subject's
    test images.

    Parameters
    ----------
    betas : dict
        Subject → its preprocessed store.
    features_path : str or Path
        The patch-feature store.
    planted_path : str or Path or None
        ``planted.json`` of synthetic data (region types per vertex), or None.
    outputs : dict
        Paths of ``stores`` (a folder: one store per subject), ``scores``, ``retrieval``, ``model``, ``history``.
    cfg, size : dict
        The config's ``ube`` section and its sizes (:func:`amodal.config.ube_size`).
    seed : int
    run : str
        The run's name (``joint``, ``single-<subject>``): its random stream and its rows in the tables.
    checkpoints : str or Path
        A folder for the checkpoint of every epoch (a killed job resumes); removed when the outputs are written.
    device : torch.device
    log : callable
    """
    tokens, rows = patch_tokens(open_features(features_path), features_path)
    planted = _planted_subjects(planted_path)
    subjects = list(betas)
    train = {s: subject_data(read_store(f, "betas"), rows, val_fraction=cfg["val_fraction"], seed=seed,
                             features_path=features_path) for s, f in betas.items()}
    model = new_model(tokens, {s: d["n_vertices"] for s, d in train.items()}, size, seed, device)
    log(f"{run}: {sum(x.numel() for x in model.parameters())} parameters, subjects {subjects}, "
        f"{sum(d['train'][0].numel() for d in train.values())} train images, size {cfg['size']} {size}, on {device}")
    Path(checkpoints).mkdir(parents=True, exist_ok=True)
    result = fit(model, tokens, train, cfg, size, seed, key=run, checkpoint=Path(checkpoints) / "last.pt", log=log)
    Path(outputs["stores"]).mkdir(parents=True, exist_ok=True)
    scored = [_scored(model, tokens, s, d, run, planted, dict(seed=seed, size=cfg["size"],
                                                                features_store=str(features_path)),
                      outputs["stores"], s, log) for s, d in train.items()]
    _write_tables([t for t, _ in scored], [r for _, r in scored], outputs)
    torch.save({"state_dict": model.state_dict(), "n_vertices": {s: d["n_vertices"] for s, d in train.items()},
                "size": size, "subjects": subjects}, outputs["model"])
    with open(outputs["history"], "w") as fh:
        json.dump({"run": run, "subjects": subjects, "seed": seed, "ube": cfg, "size": size, "device": str(device),
                   **result}, fh, indent=2)
    shutil.rmtree(checkpoints, ignore_errors=True)  # the outputs are written: the checkpoint is no longer needed


def transfer_runs(subject: str, betas_path, features_path, model_path, planted_path, outputs: dict, *, cfg: dict,
                  size: dict, seed: int, checkpoints, device, log=print) -> None:
    """Transfer of the joint encoder to a held-out subject, beside a network trained from scratch.

    For each n of ``cfg["transfer_n"]``: everything is frozen except the new subject's vertex embeddings, trained on
    its first n train images (``transfer_n<n>``); and a new network trained on the same n images
    (``scratch_n<n>``). Both are scored on its test images.

    Parameters
    ----------
    subject : str
    betas_path, features_path, model_path : str or Path
        The subject's preprocessed store, the patch-feature store, the joint network (:func:`train_run`).
    planted_path : str or Path or None
    outputs : dict
        Paths of ``stores`` (a folder: one store per run), ``scores``, ``retrieval``, ``history``.
    cfg, size : dict
    seed : int
    checkpoints : str or Path
    device : torch.device
    log : callable
    """
    tokens, rows = patch_tokens(open_features(features_path), features_path)
    planted = _planted_subjects(planted_path)
    full = subject_data(read_store(betas_path, "betas"), rows, val_fraction=cfg["val_fraction"], seed=seed,
                        features_path=features_path)
    saved = torch.load(model_path, map_location=device, weights_only=False)
    joint = new_model(tokens, saved["n_vertices"], saved["size"], seed, device)
    joint.load_state_dict(saved["state_dict"])
    tables, retrievals, history = [], [], {}
    Path(outputs["stores"]).mkdir(parents=True, exist_ok=True)
    ckpt = Path(checkpoints)
    ckpt.mkdir(parents=True, exist_ok=True)
    for n in cfg["transfer_n"]:
        d = first_images(full, n)
        runs = {f"transfer_n{n}": for_transfer(joint, subject, d["n_vertices"]),
                f"scratch_n{n}": (new_model(tokens, {subject: d["n_vertices"]}, size, seed, device), None)}
        for run, (model, params) in runs.items():
            log(f"{run}: {subject}, {n} train images")
            history[run] = fit(model, tokens, {subject: d}, cfg, size, seed, key=f"{run}-{subject}",
                               parameters=params, checkpoint=ckpt / f"{run}.pt", log=log)
            table, retrieval = _scored(model, tokens, subject, d, run, planted,
                                       dict(seed=seed, size=cfg["size"], n_images=n,
                                            features_store=str(features_path)), outputs["stores"], run, log)
            table.insert(1, "n_images", n)
            retrieval["n_train_images"] = n
            tables.append(table)
            retrievals.append(retrieval)
    _write_tables(tables, retrievals, outputs)
    with open(outputs["history"], "w") as fh:
        json.dump({"subject": subject, "seed": seed, "ube": cfg, "size": size, "device": str(device),
                   "runs": history}, fh, indent=2)
    shutil.rmtree(checkpoints, ignore_errors=True)


def _runs_table(files) -> pd.DataFrame:
    table = pd.concat([pd.read_csv(f, sep="\t") for f in files], ignore_index=True)
    table["run"] = table["run"].str.replace(r"^single-.*", "single", regex=True)
    return table


def summarize(scores_files, retrieval_files, joint_stores, subjects, outputs: dict, map_paths: dict, *,
              n_clusters: int, seed: int, mesh: str, cfg: dict) -> tuple[pd.DataFrame, pd.DataFrame, dict, dict]:
    """The study's tables (every run), the k-means clusters of the joint network's vertex embeddings, and their
    maps.

    Parameters
    ----------
    scores_files, retrieval_files : sequence of paths
        Every run's ``scores.tsv`` and ``retrieval.tsv``.
    joint_stores : str or Path
        The joint run's folder of stores (one per subject).
    subjects : sequence of str
        The training subjects.
    outputs : dict
        Paths of ``scores``, ``retrieval``, ``gain`` (joint minus single per subject and region type) and
        ``clusters`` (JSON).
    map_paths : dict
        ``{(subject, hemi, stat): path}`` (:func:`amodal.data.ube_maps`).
    n_clusters, seed : int
    mesh : str
    cfg : dict
        The config's ``ube`` section (recorded in the maps' sidecars).

    Returns
    -------
    scores, retrieval : pandas.DataFrame
    maps : dict
        ``{subject: {stat: {hemi: array of shape (n_vertices,)}}}``.
    agreement : dict
        The clusters' agreement with the planted region types (:func:`embedding_clusters`).
    """
    scores, retrieval = _runs_table(scores_files), _runs_table(retrieval_files)
    scores["n_images"] = scores["n_images"].astype("Int64")  # the transfer runs' n; empty for the others
    scores.to_csv(outputs["scores"], sep="\t", index=False)
    retrieval.to_csv(outputs["retrieval"], sep="\t", index=False)
    paired = scores[scores["run"].isin(["joint", "single"])].pivot_table(
        index=["subject", "region_type"], columns="run", values="r_median").reset_index()
    paired["gain"] = paired["joint"] - paired["single"]
    paired.to_csv(outputs["gain"], sep="\t", index=False)
    joint = {s: read_store(Path(joint_stores) / f"{s}.zarr", "ube") for s in subjects}
    labels, agreement = embedding_clusters(list(joint.values()), n_clusters, seed)
    agreement = {k: None if isinstance(v, float) and np.isnan(v) else v  # NaN: no planted types to compare with
                 for k, v in agreement.items()}
    with open(outputs["clusters"], "w") as fh:
        json.dump({**agreement, "subjects": list(subjects), "seed": seed,
                   "method": "k-means (scikit-learn, 10 starts) on the unit-length vertex embeddings of the joint "
                             "network, all training subjects together"}, fh, indent=2)
    maps = {}
    for (s, ds), lab in zip(joint.items(), labels):
        ds["cluster"] = ("vertex", (lab + 1).astype(np.float32))
        maps[s] = {stat: full_mesh_maps(ds, stat, N_VERTICES[mesh]) for stat in ("r", "cluster")}
    for (s, hemi, stat), path in map_paths.items():
        write_map(path, maps[s][stat][hemi], hemi, {
            "Description": MAP_DESCRIPTIONS[stat], "subject": s, "hemisphere": hemi, "mesh": mesh, "seed": seed,
            "run": "joint", "ube": cfg, **({"agreement": agreement} if stat == "cluster" else {})})
    return scores, retrieval, maps, agreement


MAP_DESCRIPTIONS = {
    "r": "Pearson r between the joint Universal Brain Encoder's prediction and the measured test responses",
    "cluster": "k-means cluster (1..k) of the joint network's vertex embedding; NaN where masked"}
"""The sidecar's description of each map of :data:`amodal.data.UBE_MAP_STATS`."""
