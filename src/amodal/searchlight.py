"""Surface searchlight: ridge decoders in every neighbourhood, batched in torch (METHOD §6, §10).

For one subject × training mode × hemisphere, every unmasked vertex is a centre. Its neighbourhood is the k
nearest vertices (centre included) or all vertices within a radius, by Euclidean distance on the inflated
mesh, after masked vertices are dropped (as the reference). In each neighbourhood a ridge decoder with a fixed
alpha (reference: 1, no intercept) maps the betas to the features, and every metric of METHOD §4 is computed.

Batched linear algebra: with G = XᵀX and B = XᵀY over all vertices of the hemisphere, a neighbourhood's
normal equations are the gathered block G[N, N] + αI and B[N]; a batch of centres is one batched Cholesky
solve. Radius neighbourhoods of different sizes are padded with an all-zero vertex, which leaves the solution
unchanged. When CUDA runs out of memory the batch halves and the job goes on.

Per-subject null (no refit): the test targets are permuted (derangements within the image and within the
caption block; a random 3-cycle for imagery). Permuting targets only reorders the columns of the
prediction–candidate distance matrix, so one rank matrix per centre scores every permutation at once.
The permutations are drawn once per subject and shared by every vertex and decoder, so null maps are
spatially coherent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import xarray as xr

from . import metrics
from .decoding import MODE_MODALITIES
from .errors import DataError
from .features import targets_for
from .seeding import rng

OBS_METRICS = ("acc_image", "acc_caption", "acc_imagery", "acc_imagery_73", "acc_imagery_unstd")
NULL_METRICS = ("acc_image", "acc_caption", "acc_imagery", "acc_imagery_73")


def neighbourhoods(coords: np.ndarray, n_neighbors: int | None = None, radius: float | None = None):
    """(n_centres, width) indices of each centre's neighbours (centre first), padded with -1, and the sizes."""
    from sklearn.neighbors import NearestNeighbors

    if (n_neighbors is None) == (radius is None):
        raise ValueError("give exactly one of n_neighbors and radius")
    nn = NearestNeighbors().fit(coords)
    if n_neighbors is not None:
        k = min(int(n_neighbors), coords.shape[0])
        _, idx = nn.kneighbors(coords, n_neighbors=k)
        return idx.astype(np.int64), np.full(coords.shape[0], k)
    _, lists = nn.radius_neighbors(coords, radius=radius, sort_results=True)
    sizes = np.array([len(v) for v in lists])
    out = np.full((coords.shape[0], sizes.max()), -1, np.int64)
    for i, v in enumerate(lists):
        out[i, : v.size] = v
    return out, sizes


def derangement(n: int, gen: np.random.Generator) -> np.ndarray:
    """A uniformly drawn permutation of n items with no fixed point (rejection sampling, as the reference)."""
    while True:
        p = gen.permutation(n)
        if not np.any(p == np.arange(n)):
            return p


def null_permutations(n_image: int, n_caption: int, n_imagery: int, n_perm: int, seed: int, subject: str):
    """Per-subject permutations shared by all vertices and decoders: image block, caption block, imagery."""
    gen = rng(seed, "searchlight-null", subject)
    img = np.stack([derangement(n_image, gen) for _ in range(n_perm)]) if n_perm else np.zeros((0, n_image), int)
    cap = np.stack([derangement(n_caption, gen) for _ in range(n_perm)]) if n_perm else np.zeros((0, n_caption), int)
    if n_imagery >= 2:
        cycles = [np.roll(np.arange(n_imagery), s) for s in range(1, n_imagery)]
        ima = np.stack([cycles[int(gen.integers(len(cycles)))] for _ in range(n_perm)]) if n_perm else \
            np.zeros((0, n_imagery), int)
    else:
        ima = np.zeros((n_perm, n_imagery), int)
    return img, cap, ima


def win_matrix(dist: torch.Tensor) -> torch.Tensor:
    """A[..., i, t] = number of candidates j ≠ t with dist[i, j] > dist[i, t]: the wins of row i if candidate t
    were its target (ties are wrong, as in the reference). Integer counts, so that equal accuracies are equal."""
    m = dist.shape[-1]
    srt = dist.sort(dim=-1).values.contiguous()
    le = torch.searchsorted(srt, dist.contiguous(), right=True)  # number of candidates with dist <= dist[i, t]
    return m - le


def _scores(pred, cand, perms, standardize=True):
    """Observed (b,) and null (b, n_perm) pairwise accuracy for predictions (b, n, q), candidates (m, q)."""
    p = metrics.standardize_rows(pred) if standardize else pred
    a = win_matrix(metrics.cosine_distance(p, cand.expand(p.shape[0], -1, -1)))
    n, m = pred.shape[-2], cand.shape[-2]
    pairs = float(n * (m - 1))  # accuracy = total wins / pairs, exact in float64 for equal win counts
    idx = torch.arange(n, device=pred.device)
    obs = a[:, idx, idx].sum(-1).to(torch.float64) / pairs
    if perms.shape[0] == 0:
        return obs, torch.zeros((pred.shape[0], 0), dtype=torch.float64, device=pred.device)
    pt = torch.as_tensor(perms, device=pred.device)  # (P, n): row i's target becomes candidate perms[p, i]
    null = a[:, idx.unsqueeze(0).expand_as(pt), pt].sum(-1).to(torch.float64) / pairs  # (b, P)
    return obs, null


@dataclass
class SearchlightData:
    x: torch.Tensor  # (n_trials, n_vertices + 1) betas of this hemisphere, last column zero (padding)
    train: np.ndarray
    test_image: np.ndarray
    test_caption: np.ndarray
    imagery: np.ndarray
    y: torch.Tensor  # (n_trials, q) standardised targets
    vertex_index: np.ndarray


def prepare(betas: xr.Dataset, features: xr.Dataset, feature_set: str, mode: str, hemi: str, device, dtype,
            features_path="<features>") -> SearchlightData:
    sel = betas["hemi"].values == hemi
    if not sel.any():
        raise DataError(f"no {hemi} vertices in the preprocessed store of {betas.attrs.get('subject')}")
    split = betas["split"].values.astype(str)
    mod = betas["modality"].values.astype(str)
    train = np.flatnonzero((split == "train") & np.isin(mod, MODE_MODALITIES[mode]))
    y = targets_for(features, feature_set, betas["stimulus_id"].values.astype(str), features_path).astype(np.float64)
    mu, sd = y[train].mean(0), y[train].std(0)
    sd[sd == 0] = 1
    y = (y - mu) / sd
    xb = betas["betas"].values[:, sel]
    x = torch.zeros((xb.shape[0], xb.shape[1] + 1), dtype=dtype, device=device)
    x[:, :-1] = torch.as_tensor(xb, dtype=dtype, device=device)
    return SearchlightData(
        x=x, train=train,
        test_image=np.flatnonzero((split == "test") & (mod == "image")),
        test_caption=np.flatnonzero((split == "test") & (mod == "caption")),
        imagery=np.flatnonzero(split == "imagery"),
        y=torch.as_tensor(y, dtype=dtype, device=device), vertex_index=betas["vertex_index"].values[sel])


def run(data: SearchlightData, neigh: np.ndarray, centres: np.ndarray, perms, alpha: float = 1.0,
        batch_size: int = 256, gram: str = "auto", gram_max_bytes: float = 2e9, log=None) -> dict[str, np.ndarray]:
    """Scores for the given centres: observed (metric → (n_centres,)) and null (metric → (n_perm, n_centres)).

    ``gram``: ``full`` precomputes XᵀX over all vertices of the hemisphere (fast for fsaverage5); ``local``
    computes each neighbourhood's block from the betas (needed at fsaverage7, where XᵀX would take 100 GB);
    ``auto`` picks ``full`` when it fits in ``gram_max_bytes``.
    """
    x, y, dev, dt = data.x, data.y, data.x.device, data.x.dtype
    xt = x[data.train]
    if gram == "auto":
        gram = "full" if x.shape[1] ** 2 * x.element_size() <= gram_max_bytes else "local"
    if gram == "full":
        gram_m = xt.T @ xt  # (V+1, V+1); the padding vertex has zero rows and columns
        xty = xt.T @ y[data.train]  # (V+1, q)
    y_tr = y[data.train]
    pad = x.shape[1] - 1
    nb_all = torch.as_tensor(np.where(neigh < 0, pad, neigh), device=dev)
    ev = np.concatenate([data.test_image, data.test_caption, data.imagery])
    x_ev = x[ev]  # (n_ev, V+1)
    n_i, n_c, n_m = data.test_image.size, data.test_caption.size, data.imagery.size
    cand_i, cand_c, cand_m = y[data.test_image], y[data.test_caption], y[data.imagery]
    # imagery against the imagery targets plus each unique test stimulus (3 + 70)
    cand_73 = torch.cat([cand_m, cand_i]) if n_m else None
    img_p, cap_p, ima_p = perms
    n_perm = img_p.shape[0]
    obs = {k: np.full(centres.size, np.nan) for k in OBS_METRICS}
    null = {k: np.full((n_perm, centres.size), np.nan, np.float32) for k in NULL_METRICS}
    eye = torch.eye(neigh.shape[1], dtype=dt, device=dev)
    start, b = 0, int(batch_size)
    while start < centres.size:
        sl = slice(start, min(start + b, centres.size))
        try:
            nb = nb_all[torch.as_tensor(centres[sl], device=dev)]  # (b, k)
            if gram == "full":
                g = gram_m[nb.unsqueeze(-1), nb.unsqueeze(-2)] + alpha * eye
                b_n = xty[nb]  # (b, k, q)
            else:
                x_n = xt[:, nb].permute(1, 2, 0)  # (b, k, n_train)
                g = x_n @ x_n.transpose(1, 2) + alpha * eye
                b_n = x_n @ y_tr
            # (G + aI)^-1 from its Cholesky factor, then two batched matmuls: on CPU this is about twice as fast
            # as cholesky_solve with q right-hand sides, and (X_ev C) B costs n_ev*k^2 instead of k^2*q
            c = torch.cholesky_inverse(torch.linalg.cholesky(g))  # (b, k, k)
            pred = (x_ev[:, nb].permute(1, 0, 2) @ c) @ b_n  # (b, n_ev, q)
            res = {}
            res["acc_image"] = _scores(pred[:, :n_i], cand_i, img_p)
            res["acc_caption"] = _scores(pred[:, n_i: n_i + n_c], cand_c, cap_p)
            if n_m >= 2:
                pm = pred[:, n_i + n_c:]
                res["acc_imagery"] = _scores(pm, cand_m, ima_p)
                res["acc_imagery_73"] = _scores(pm, cand_73, ima_p)
                obs["acc_imagery_unstd"][sl] = _scores(pm, cand_m, ima_p[:0], standardize=False)[0].cpu().numpy()
        except torch.OutOfMemoryError:
            if b == 1:
                raise
            b = max(1, b // 2)
            torch.cuda.empty_cache()
            if log:
                log(f"CUDA out of memory: batch size halved to {b}")
            continue
        for k, (o, nl) in res.items():
            obs[k][sl] = o.cpu().numpy()
            null[k][:, sl] = nl.T.cpu().numpy()
        start = sl.stop
        if log and (start == centres.size or (start // b) % 20 == 0):
            log(f"searchlight: {start}/{centres.size} centres")
    return {"obs": obs, "null": null, "batch_size": b, "gram": gram}


def to_dataset(result, vertex_index: np.ndarray, attrs: dict) -> xr.Dataset:
    obs = np.stack([result["obs"][k] for k in OBS_METRICS]).astype(np.float32)
    null = np.stack([result["null"][k] for k in NULL_METRICS], axis=1).astype(np.float32)  # (P, M, V)
    return xr.Dataset(
        {"scores": (("metric", "vertex"), obs), "null": (("perm", "null_metric", "vertex"), null)},
        coords={"metric": list(OBS_METRICS), "null_metric": list(NULL_METRICS),
                "vertex_index": ("vertex", vertex_index.astype(np.int32)), "perm": np.arange(null.shape[0])},
        attrs={k: str(v) for k, v in attrs.items()})


def searchlight_subject(betas, features, feature_set, mode, hemi, mesh_coords, *, n_neighbors=None, radius=None,
                        alpha=1.0, n_perm=100, seed=0, device="cpu", dtype=torch.float32, batch_size=256,
                        shard=(0, 1), features_path="<features>", log=None) -> xr.Dataset:
    """Run one subject × mode × hemisphere (optionally one shard of its centres); return an xarray Dataset."""
    subject = betas.attrs.get("subject", "sub-?")
    data = prepare(betas, features, feature_set, mode, hemi, torch.device(device), dtype, features_path)
    coords = mesh_coords[data.vertex_index]
    neigh, sizes = neighbourhoods(coords, n_neighbors, radius)
    perms = null_permutations(data.test_image.size, data.test_caption.size, data.imagery.size, n_perm, seed,
                              subject)
    k, n = shard
    centres = np.array_split(np.arange(coords.shape[0]), n)[k]
    if log:
        log(f"{subject} {mode} {hemi}: {centres.size} centres (shard {k + 1}/{n}), neighbourhood "
            f"{'k=' + str(n_neighbors) if n_neighbors else f'radius {radius} mm'} (median size "
            f"{int(np.median(sizes))}), {data.train.size} train trials, {n_perm} null permutations, on {device}")
    res = run(data, neigh, centres, perms, alpha=alpha, batch_size=batch_size, log=log)
    return to_dataset(res, data.vertex_index[centres], {
        "subject": subject, "training_mode": mode, "hemi": hemi, "feature_set": feature_set, "alpha": alpha,
        "n_neighbors": n_neighbors, "radius_mm": radius, "median_size": int(np.median(sizes)),
        "n_permutations": n_perm, "shard": f"{k + 1}/{n}", "seed": seed,
        "null": "test targets permuted without refit: derangements within the image and caption blocks, "
                "a random 3-cycle for imagery; the same permutations for every vertex and decoder"})
