"""Surface searchlight: ridge decoders in every neighbourhood, batched in torch (METHOD §6, §10).

For one subject × training mode × hemisphere, every unmasked vertex is a centre. Its neighbourhood is the k
nearest vertices (centre included) or all vertices within a radius, by Euclidean distance on the inflated
mesh, after masked vertices are dropped (as the reference). In each neighbourhood a ridge decoder with a fixed
alpha (reference: 1, no intercept) maps the betas to the features, and every metric of METHOD §4 is computed.

Batched linear algebra: with G = XᵀX and B = XᵀY over all vertices of the hemisphere, a neighbourhood's
normal equations are the gathered block G[N, N] + αI and B[N]; a batch of centres is one batched Cholesky
solve. Radius neighbourhoods of different sizes are padded with an all-zero vertex, which leaves the solution
unchanged. When CUDA runs out of memory the batch halves and the job goes on.

Betas and targets are standardised with the mean and SD of the training mode's own train rows
(:mod:`amodal.standardize`), as the whole-brain decoders are.

Scoring: each test trial is scored against every unique test stimulus of its modality once (with repeats kept
as single trials, a trial's repeats are never its wrong candidates).

Per-subject null (no refit): the test targets are permuted. Image and caption blocks: derangements of the
unique test stimuli, so a trial is never mapped onto its own stimulus (nor a repeat of it). Imagery: every
ordering of the imagery targets, identity included (for 3 targets all 6, identity first), because under H0
every ordering is exchangeable with the observed one; the reference used only the two 3-cycles, which leaves
the observed assignment out of its own null (METHOD §10). When there are more orderings than requested null
maps, that many are drawn uniformly from all of them. Permuting targets only reorders the columns of the
prediction–candidate distance matrix, so one rank matrix per centre scores every permutation at once.
The permutations are drawn once per subject and shared by every vertex and decoder, so null maps are
spatially coherent.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch
import xarray as xr

from ..errors import DataError
from .. import metrics
from ..data import MODE_MODALITIES
from ..features import targets_for
from ..standardize import standardize_train
from ._kernels import block_kernel as _block_kernel, win_sums_kernel as _win_sums_kernel
from ._permutations import imagery_null_is_exhaustive, null_permutations, target_assignments

# acc_imagery*: against the imagery targets (3) or those plus every unique test stimulus (73); ``_unstd``
# without z-scoring the imagery predictions (the reference's Fig. 10 variant is acc_imagery_73_unstd)
OBS_METRICS = ("acc_image", "acc_caption", "acc_imagery", "acc_imagery_73", "acc_imagery_unstd",
               "acc_imagery_73_unstd")
# nulls come in two families with their own permutation axes: the test targets (``perm``) and the imagery
# targets (``imagery_perm``); a group permutation picks one index per subject and family
NULL_METRICS = ("acc_image", "acc_caption")
IMAGERY_NULL_METRICS = ("acc_imagery", "acc_imagery_73", "acc_imagery_unstd", "acc_imagery_73_unstd")


def neighbourhoods(coords: np.ndarray, n_neighbors: int | None = None, radius: float | None = None):
    """Each centre's neighbourhood: its k nearest vertices or every vertex within a radius (Euclidean).

    Parameters
    ----------
    coords : array of shape (n_vertices, 3)
        Vertex coordinates (the inflated mesh, masked vertices dropped).
    n_neighbors : int, optional
    radius : float, optional
        In mm. Give exactly one of the two.

    Returns
    -------
    neigh : int array of shape (n_vertices, width)
        Neighbour indices, the centre first, padded with -1 (radius neighbourhoods differ in size).
    sizes : int array of shape (n_vertices,)
    """
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


def win_matrix(dist: torch.Tensor) -> torch.Tensor:
    """Win counts of every possible target: A[..., i, t] is the number of candidates j ≠ t with
    dist[i, j] > dist[i, t], the wins of row i if candidate t were its target (ties are wrong, as in the reference).

    Integer counts, so that equal accuracies are exactly equal.

    Parameters
    ----------
    dist : tensor of shape (..., n, m)

    Returns
    -------
    int tensor of shape (..., n, m)
    """
    m = dist.shape[-1]
    srt = dist.sort(dim=-1).values.contiguous()
    le = torch.searchsorted(srt, dist.contiguous(), right=True)  # number of candidates with dist <= dist[i, t]
    return m - le


def win_sums(dist: torch.Tensor, targets: np.ndarray) -> torch.Tensor:
    """Total wins of each target assignment: Σ_i A[i, targets[r, i]] with A as in :func:`win_matrix`.

    On CPU a numba kernel that counts by direct comparison with no (b, n, m) intermediate (several times faster
    than torch's CPU sort + searchsorted); on CUDA :func:`win_sums_torch`.

    Parameters
    ----------
    dist : tensor of shape (b, n, m)
        Prediction–candidate distances of b centres.
    targets : int array of shape (R, n)
        Row r assigns row i the candidate ``targets[r, i]`` (:func:`target_assignments`).

    Returns
    -------
    int tensor of shape (b, R)
    """
    n = dist.shape[-2]
    targets = np.ascontiguousarray(targets, np.int64).reshape(-1, n)
    if dist.device.type != "cpu":
        return win_sums_torch(dist, targets)
    out = np.empty((dist.shape[0], targets.shape[0]), np.int64)
    _win_sums_kernel(dist.contiguous().numpy(), targets, out)
    return torch.from_numpy(out)


def win_sums_torch(dist: torch.Tensor, targets: np.ndarray) -> torch.Tensor:
    """:func:`win_sums` in torch (the CUDA path; it runs on any device). Same parameters and result."""
    a = win_matrix(dist)
    idx = torch.arange(dist.shape[-2], device=dist.device)
    pt = torch.as_tensor(targets, device=dist.device)  # (R, n)
    return a[:, idx.unsqueeze(0).expand_as(pt), pt].sum(-1)


def _scores(pred, cand, assignments, standardize=True):
    """Observed (b,) and null (b, R - 1) pairwise accuracy for predictions (b, n, q) and candidates (m, q) under
    :func:`target_assignments` (R, n): each trial against every candidate but its target."""
    p = metrics.standardize_rows(pred) if standardize else pred
    dist = metrics.cosine_distance(p, cand)  # cand (m, q) broadcasts: its norms are computed once
    n, m = pred.shape[-2], cand.shape[-2]
    pairs = float(n * (m - 1))  # accuracy = total wins / pairs, exact in float64 for equal win counts
    acc = win_sums(dist, assignments).to(torch.float64) / pairs
    return acc[:, 0], acc[:, 1:]


def centre_groups(coords: np.ndarray, size: int) -> list[np.ndarray]:
    """Split centres into spatially compact groups of at most ``size``: recursive median bisection along the
    widest axis (a k-d tree's leaves). Deterministic; a loop over groups, not vertices.

    Parameters
    ----------
    coords : array of shape (n_centres, 3)
    size : int

    Returns
    -------
    list of int arrays
        Positions into ``coords``; together a partition.
    """
    todo, out = [np.arange(coords.shape[0])], []
    while todo:
        g = todo.pop()
        if g.size <= size:
            out.append(g)
            continue
        c = coords[g]
        order = np.argsort(c[:, int(np.argmax(np.ptp(c, axis=0)))], kind="stable")
        half = g.size // 2
        todo += [g[order[half:]], g[order[:half]]]
    return out


def shard_centres(coords: np.ndarray, shard: int, n_shards: int, group_size: int = 32) -> np.ndarray:
    """The centres of one shard: the k-d leaves of :func:`centre_groups` in depth-first order, split into
    ``n_shards`` runs, so that every shard is a spatially compact patch of cortex.

    Splitting the vertex numbering instead would not be: fsaverage numbers vertices by icosahedral subdivision, so
    the first shard would be a coarse lattice over the whole hemisphere, its nearby centres would share few
    vertices, and the shared solver's groups would grow (1.6x slower at k = 750 on fsaverage5 with 4 shards,
    measured).

    Parameters
    ----------
    coords : array of shape (n_vertices, 3)
    shard : int
        0-based.
    n_shards : int
    group_size : int

    Returns
    -------
    int array
        Sorted vertex positions of this shard.
    """
    if not 0 <= shard < n_shards:
        raise ValueError(f"shard {shard} is not in 0..{n_shards - 1}")
    order = np.concatenate(centre_groups(np.asarray(coords), group_size))
    return np.sort(np.array_split(order, n_shards)[shard])


def _bucket(n, step: int):
    """Round sizes up to a multiple of ``step``: padded shapes depend only on the sizes, never on which other
    groups or centres share a batch, so every centre's arithmetic is the same whatever the batch size."""
    return -(-np.asarray(n) // step) * step


@dataclass
class SharedPlan:
    """Per group of nearby centres: S, the vertices every neighbourhood of the group contains; U, the rest of
    their union; per centre, the positions in U of its own vertices outside S. Index arrays are padded (to
    multiples of 32, and 16 per centre) with the all-zero vertex, which decouples from the solve: S and U with
    the vertex ``pad``, the per-centre positions with a slot of U that holds it."""
    groups: list[np.ndarray]  # centre positions (into the ``centres`` array) of each group
    shared: list[np.ndarray]  # S of each group, padded
    rest: list[np.ndarray]  # U of each group, padded, with at least one padding slot at the end
    own: list[np.ndarray]  # per group (centres, width): positions into U, left-aligned, -1 after each centre's own


def shared_plan(neigh: np.ndarray, centres: np.ndarray, coords: np.ndarray, group_size: int) -> SharedPlan:
    """Plan the shared solver: group nearby centres and split each group's neighbourhoods into the vertices
    they all share and the rest (see :class:`SharedPlan`).

    Parameters
    ----------
    neigh : int array of shape (n_vertices, width)
        From :func:`neighbourhoods`.
    centres : int array of shape (n_centres,)
    coords : array of shape (n_vertices, 3)
    group_size : int

    Returns
    -------
    SharedPlan
        Groups ordered by their padded shapes, so that equal shapes batch together.
    """
    pad = coords.shape[0]
    groups, shared, rest, own = [], [], [], []
    for g in centre_groups(coords[centres], group_size):
        nb = neigh[centres[g]]
        valid = nb >= 0
        count = np.bincount(nb[valid], minlength=pad + 1)
        count[pad] = 0
        sv = np.flatnonzero(count == g.size)
        uv = np.flatnonzero((count > 0) & (count < g.size))
        pos = np.full(pad + 1, -1, np.int64)
        pos[uv] = np.arange(uv.size)
        p = pos[np.where(valid, nb, pad)]  # (centres, k): position in U, -1 for S and padding
        key = np.argsort(p < 0, axis=1, kind="stable")  # each centre's own vertices first, in neighbour order
        width = int(_bucket(max(int((p >= 0).sum(1).max()), 1), 16))
        groups.append(g)
        shared.append(np.concatenate([sv, np.full(_bucket(sv.size, 32) - sv.size, pad)]))
        rest.append(np.concatenate([uv, np.full(_bucket(uv.size + 1, 32) - uv.size, pad)]))
        srt = np.take_along_axis(p, key, 1)[:, :width]
        own.append(np.pad(srt, ((0, 0), (0, width - srt.shape[1])), constant_values=-1))
    order = sorted(range(len(groups)), key=lambda j: (shared[j].size, rest[j].size, j))  # same shapes together
    return SharedPlan(*([v[j] for j in order] for v in (groups, shared, rest, own)))


@dataclass
class SearchlightData:
    """The rows one searchlight job decodes: one subject × training mode × hemisphere.

    Attributes
    ----------
    x : tensor of shape (n_trials, n_vertices + 1)
        Betas standardised with the mode's train rows; the last column is zero (the padding vertex).
    train, test_image, test_caption, imagery : int arrays
        Row indices of each split.
    y : tensor of shape (n_trials, n_dims)
        Targets standardised with the same train rows.
    vertex_index : int array of shape (n_vertices,)
        Mesh index of each column.
    cand_image, cand_caption, cand_imagery : int arrays, optional
        Candidate rows: one per unique stimulus (default: every test row).
    target_image, target_caption, target_imagery : int arrays, optional
        Each test row's candidate index.
    """
    x: torch.Tensor  # (n_trials, n_vertices + 1) standardised betas of this hemisphere, last column zero (padding)
    train: np.ndarray
    test_image: np.ndarray  # rows of the image test trials (each repeat its own row when repeats are kept)
    test_caption: np.ndarray
    imagery: np.ndarray
    y: torch.Tensor  # (n_trials, q) standardised targets
    vertex_index: np.ndarray
    # candidates: one row per unique stimulus (first presentation), and each trial's candidate index
    cand_image: np.ndarray | None = None
    target_image: np.ndarray | None = None
    cand_caption: np.ndarray | None = None
    target_caption: np.ndarray | None = None
    cand_imagery: np.ndarray | None = None
    target_imagery: np.ndarray | None = None

    def __post_init__(self):  # without stimulus ids every trial is its own stimulus
        for kind in ("image", "caption", "imagery"):
            rows = getattr(self, "imagery" if kind == "imagery" else f"test_{kind}")
            if getattr(self, f"cand_{kind}") is None:
                setattr(self, f"cand_{kind}", np.asarray(rows))
                setattr(self, f"target_{kind}", np.arange(len(rows)))


def prepare(betas: xr.Dataset, features: xr.Dataset, feature_set: str, mode: str, hemi: str, device, dtype,
            features_path="<features>") -> SearchlightData:
    """Read and standardise the rows of one subject × training mode × hemisphere for the searchlight.

    Betas and targets are z-scored with the mean and SD of this mode's train rows (METHOD §10), as the
    whole-brain decoders are; candidates are the unique test stimuli of each modality.

    Parameters
    ----------
    betas : xarray.Dataset
        A preprocessed store.
    features : xarray.Dataset
        A feature store.
    feature_set : str
    mode : {"images", "captions", "agnostic"}
    hemi : {"left", "right"}
    device : torch.device
    dtype : torch.dtype
    features_path : str
        Named in errors.

    Returns
    -------
    SearchlightData
    """
    sel = betas["hemi"].values == hemi
    if not sel.any():
        raise DataError(f"no {hemi} vertices in the preprocessed store of {betas.attrs.get('subject')}")
    split = betas["split"].values.astype(str)
    mod = betas["modality"].values.astype(str)
    train = np.flatnonzero((split == "train") & np.isin(mod, MODE_MODALITIES[mode]))
    sid = betas["stimulus_id"].values.astype(str)
    y = standardize_train(targets_for(features, feature_set, sid, features_path), train)
    # with this mode's train rows (METHOD §10), straight into the working precision: no float64 copy of the betas
    xb = standardize_train(betas["betas"].values[:, sel], train,
                           dtype=np.float32 if dtype == torch.float32 else np.float64)
    x = torch.zeros((xb.shape[0], xb.shape[1] + 1), dtype=dtype, device=device)
    x[:, :-1] = torch.as_tensor(xb, dtype=dtype, device=device)
    rows = {"image": np.flatnonzero((split == "test") & (mod == "image")),
            "caption": np.flatnonzero((split == "test") & (mod == "caption")),
            "imagery": np.flatnonzero(split == "imagery")}
    cands = {}
    for kind, r in rows.items():
        cands[f"cand_{kind}"], cands[f"target_{kind}"] = metrics.unique_candidates(r, sid)
    return SearchlightData(
        x=x, train=train, test_image=rows["image"], test_caption=rows["caption"], imagery=rows["imagery"],
        y=torch.as_tensor(y, dtype=dtype, device=device), vertex_index=betas["vertex_index"].values[sel], **cands)


def take_block(src: torch.Tensor, which: torch.Tensor | None, idx: torch.Tensor) -> torch.Tensor:
    """The symmetric blocks of a batch of index sets: out[b] = src[which[b]][idx[b]][:, idx[b]].

    On CUDA this is torch's advanced indexing; on CPU a numba kernel, because torch's CPU gather with three
    broadcast index tensors is about 3x slower and the blocks are the searchlight's largest memory traffic (tests
    check that both give the same result).

    Parameters
    ----------
    src : tensor of shape (n, n) or (n_mats, n, n)
    which : int tensor of shape (b,) or None
        The matrix of each block (None: ``src`` is one matrix).
    idx : int tensor of shape (b, k)

    Returns
    -------
    tensor of shape (b, k, k)
    """
    src3 = src.unsqueeze(0) if which is None else src
    w = torch.zeros(idx.shape[0], dtype=torch.long, device=src.device) if which is None else which
    if src.device.type != "cpu" or not src.is_contiguous():
        return src3[w.view(-1, 1, 1), idx.unsqueeze(-1), idx.unsqueeze(-2)]
    out = torch.empty((idx.shape[0], idx.shape[1], idx.shape[1]), dtype=src.dtype)
    _block_kernel(src3.numpy(), w.numpy(), idx.numpy(), out.numpy())
    return out


def take_rows(src: torch.Tensor, which: torch.Tensor | None, idx: torch.Tensor) -> torch.Tensor:
    """Rows of a matrix or of a stack of matrices: out[b] = src[which[b]][idx[b]], as one ``index_select``.

    Parameters
    ----------
    src : tensor of shape (n, q) or (n_mats, n, q)
    which : int tensor of shape (b,) or None
    idx : int tensor of shape (b, k)

    Returns
    -------
    tensor of shape (b, k, q)
    """
    if which is None:
        return src.index_select(0, idx.reshape(-1)).view(idx.shape + src.shape[1:])
    flat = (which.view(-1, 1) * src.shape[1] + idx).reshape(-1)
    return src.reshape(-1, src.shape[-1]).index_select(0, flat).view(idx.shape + src.shape[2:])


class _Ridge:
    """What every solver needs of one run: XᵀX blocks of vertex sets (from the precomputed XᵀX, or from the betas),
    XᵀY and the evaluation betas, and alpha."""

    def __init__(self, data: SearchlightData, alpha: float, gram: str):
        x, y = data.x, data.y
        xt = x[data.train]
        self.alpha, self.dev, self.pad = alpha, x.device, x.shape[1] - 1
        self.gram_m = xt.T @ xt if gram == "full" else None  # (V+1, V+1); the padding vertex has zero rows/columns
        self.xt_t = xt.T.contiguous() if self.gram_m is None else None  # (V+1, n_train)
        self.xty = xt.T @ y[data.train]  # (V+1, q)
        ev = np.concatenate([data.test_image, data.test_caption, data.imagery])
        self.x_ev_t = x[ev].T.contiguous()  # (V+1, n_ev)

    def gram_block(self, idx):
        """(b, w) vertex indices -> the (b, w, w) XᵀX block."""
        if self.gram_m is not None:
            return take_block(self.gram_m, None, idx)
        x_n = take_rows(self.xt_t, None, idx)  # (b, w, n_train)
        return x_n @ x_n.transpose(1, 2)

    def ridge(self, g):
        """g + alpha I, in place."""
        g.diagonal(dim1=-2, dim2=-1).add_(self.alpha)
        return g


class DirectSolver:
    """Factorise every neighbourhood's (k × k) system: one unit of work a centre."""

    name = "direct"

    def __init__(self, neigh: np.ndarray, centres: np.ndarray, coords=None, group_size: int = 32):
        self.neigh, self.centres = neigh, centres
        self.units, self.per_unit = np.arange(centres.size), 1

    def block_entries(self) -> int:
        """Entries of the XᵀX blocks this run builds (to choose between them and the full XᵀX)."""
        return self.centres.size * self.neigh.shape[1] ** 2

    def predict(self, r: _Ridge, units) -> tuple[np.ndarray, torch.Tensor]:
        """The positions (into the centres) of ``units`` and their predictions (b, n_ev, q)."""
        nb = self.neigh[self.centres[units]]
        nb = torch.as_tensor(np.where(nb < 0, r.pad, nb), device=r.dev)  # (b, k)
        lchol = torch.linalg.cholesky(r.ridge(r.gram_block(nb)))
        # (G + aI)^-1 X_evᵀ from the Cholesky factor (n_ev = 143 right-hand sides), then one matmul with XᵀY
        w = torch.cholesky_solve(take_rows(r.x_ev_t, None, nb), lchol)  # (b, k, n_ev)
        return units, w.transpose(1, 2) @ take_rows(r.xty, None, nb)  # (b, n_ev, q)


class SharedSolver:
    """Group nearby centres (``group_size``, by ``coords``) and eliminate the vertices that every neighbourhood of a
    group shares once per group (a block Cholesky / Schur complement), so that each centre only factorises the
    block of its own remaining vertices: exact, and several times fewer flops at k = 750. One unit of work a
    group."""

    name = "shared"

    def __init__(self, neigh: np.ndarray, centres: np.ndarray, coords=None, group_size: int = 32):
        self.plan = shared_plan(neigh, centres, coords, group_size)
        self.units, self.per_unit = list(range(len(self.plan.groups))), group_size

    def block_entries(self) -> int:
        """Entries of the XᵀX blocks this run builds."""
        return sum((s.size + r.size) ** 2 for s, r in zip(self.plan.shared, self.plan.rest))

    def _group_stage(self, r: _Ridge, gs):
        # eliminate S once per group. With L Lᵀ = G_SS + aI and Z = L⁻¹[G_SU, B_S, X_ev,Sᵀ]:
        #   S0 = G_UU - Z_UᵀZ_U (the Schur complement, without aI), R = B_U - Z_UᵀZ_B,
        #   E = X_ev,Uᵀ - Z_UᵀZ_ev, P0 = Z_evᵀZ_B (the prediction from S alone)
        plan = self.plan
        ns = plan.shared[gs[0]].size
        w_idx = torch.as_tensor(np.stack([np.concatenate([plan.shared[j], plan.rest[j]]) for j in gs]), device=r.dev)
        gw = r.gram_block(w_idx)
        lchol = torch.linalg.cholesky(r.ridge(gw[:, :ns, :ns]))
        s_t, u_t = w_idx[:, :ns], w_idx[:, ns:]
        nu, q = u_t.shape[1], r.xty.shape[1]
        z = torch.linalg.solve_triangular(
            lchol, torch.cat([gw[:, :ns, ns:], take_rows(r.xty, None, s_t), take_rows(r.x_ev_t, None, s_t)], -1),
            upper=False)
        z_u, z_b, z_ev = z[..., :nu], z[..., nu: nu + q], z[..., nu + q:]
        zt = z_u.transpose(1, 2)
        s0 = torch.baddbmm(gw[:, ns:, ns:], zt, z_u, alpha=-1).contiguous()
        rr = torch.baddbmm(take_rows(r.xty, None, u_t), zt, z_b, alpha=-1)  # (g, u, q)
        e = torch.baddbmm(take_rows(r.x_ev_t, None, u_t), zt, z_ev, alpha=-1)  # (g, u, n_ev)
        return s0, rr, e, z_ev.transpose(1, 2) @ z_b  # P0: (g, n_ev, q)

    def predict(self, r: _Ridge, gs) -> tuple[np.ndarray, torch.Tensor]:
        """The positions (into the centres) of the centres of groups ``gs`` and their predictions (b, n_ev, q)."""
        # groups of one shape at a time; then centres of one (padded) size at a time. Each centre's own
        # vertices D (positions in U) give M = S0[D, D] + aI, and its prediction P0 + E[D]ᵀ M⁻¹ R[D]
        plan = self.plan
        out_pos, out_pred = [], []
        for _, sub in itertools.groupby(gs, key=lambda j: (plan.shared[j].size, plan.rest[j].size)):
            sub = list(sub)
            s0, rr, e, p0 = self._group_stage(r, sub)
            slot = plan.rest[sub[0]].size - 1  # a padding slot of U (the same position in every group here)
            gi_all = np.concatenate([np.full(plan.groups[j].size, i) for i, j in enumerate(sub)])
            pos_all = np.concatenate([plan.groups[j] for j in sub])
            own = np.full((gi_all.size, max(plan.own[j].shape[1] for j in sub)), -1, np.int64)
            row = 0
            for j in sub:
                own[row: row + plan.own[j].shape[0], : plan.own[j].shape[1]] = plan.own[j]
                row += plan.own[j].shape[0]
            width = _bucket(np.maximum((own >= 0).sum(1), 1), 16)
            for w in np.unique(width):
                pick = np.flatnonzero(width == w)
                d_np = np.where(own[pick, :w] >= 0, own[pick, :w], slot)
                gi, d = torch.as_tensor(gi_all[pick], device=r.dev), torch.as_tensor(d_np, device=r.dev)
                lc = torch.linalg.cholesky(r.ridge(take_block(s0, gi, d)))
                wgt = torch.cholesky_solve(take_rows(e, gi, d), lc)  # (c, d, n_ev)
                out_pred.append(torch.baddbmm(p0.index_select(0, gi), wgt.transpose(1, 2), take_rows(rr, gi, d)))
                out_pos.append(pos_all[pick])
        return np.concatenate(out_pos), torch.cat(out_pred)


SOLVERS = {s.name: s for s in (DirectSolver, SharedSolver)}
"""The searchlight's solvers by name (``searchlight.solver``; ``auto`` chooses one: :func:`choose_solver`)."""


def choose_solver(solver: str, neigh: np.ndarray, coords) -> str:
    """The solver a run uses: ``solver``, or for ``auto`` ``shared`` for neighbourhoods of 64 vertices or more when
    ``coords`` is given, else ``direct``.

    Parameters
    ----------
    solver : {"auto", "direct", "shared"}
    neigh : int array of shape (n_vertices, width)
        The neighbourhoods (-1 pads).
    coords : array of shape (n_vertices, 3), optional

    Returns
    -------
    str
        A key of :data:`SOLVERS`.
    """
    if solver != "auto" and solver not in SOLVERS:
        raise ValueError(f"searchlight solver must be one of {('auto', *SOLVERS)}, got {solver!r}")
    if solver == "auto":
        return "shared" if coords is not None and np.median((neigh >= 0).sum(1)) >= 64 else "direct"
    return solver


def run(data: SearchlightData, neigh: np.ndarray, centres: np.ndarray, perms, alpha: float = 1.0,
        batch_size: int = 256, gram: str = "auto", gram_max_bytes: float = 2e9, solver: str = "auto",
        group_size: int = 32, coords: np.ndarray | None = None, log=None) -> dict[str, np.ndarray]:
    """Solve and score every given centre, with its null.

    ``gram``: ``full`` precomputes XᵀX over all vertices of the hemisphere; ``local`` computes each
    neighbourhood's (or group's) block from the betas (needed at fsaverage7, where XᵀX would take 100 GB);
    ``auto`` picks ``full`` when it fits in ``gram_max_bytes`` and costs fewer flops than the blocks.

    ``solver``: one of :data:`SOLVERS` (:class:`DirectSolver` factorises every neighbourhood's system,
    :class:`SharedSolver` eliminates what a group of nearby centres shares once per group), or ``auto``
    (:func:`choose_solver`). On CUDA out-of-memory the batch halves and the run goes on.

    Parameters
    ----------
    data : SearchlightData
    neigh : int array of shape (n_vertices, width)
    centres : int array of shape (n_centres,)
    perms : tuple of int arrays
        (image block (P, n_image), caption block (P, n_caption), imagery (P_imagery, n_imagery)), from
        :func:`null_permutations`.
    alpha : float
    batch_size : int
    gram : {"auto", "full", "local"}
    gram_max_bytes : float
    solver : {"auto", "direct", "shared"}
    group_size : int
    coords : array of shape (n_vertices, 3), optional
    log : callable, optional

    Returns
    -------
    dict
        ``obs``: metric → array of shape (n_centres,); ``null``: metric → array of shape (P, n_centres) (or
        (P_imagery, n_centres) for imagery metrics); ``solver``: the solver used.
    """
    x, y = data.x, data.y
    solver = choose_solver(solver, neigh, coords)
    if solver == "shared" and (coords is None or coords.shape[0] != x.shape[1] - 1):
        raise ValueError("the shared solver needs the coordinates of every vertex of data.x (coords=, "
                         f"{x.shape[1] - 1} rows) to group nearby centres; got "
                         f"{'none' if coords is None else coords.shape[0]}")
    sol = SOLVERS[solver](neigh, centres, coords, group_size)
    if gram == "auto":  # the cheaper of XᵀX over the hemisphere and the blocks this run needs, if it fits
        fits = x.shape[1] ** 2 * x.element_size() <= gram_max_bytes
        gram = "full" if fits and x.shape[1] ** 2 <= sol.block_entries() else "local"
    problem = _Ridge(data, alpha, gram)
    n_i, n_c, n_m = data.test_image.size, data.test_caption.size, data.imagery.size
    cand_i, cand_c, cand_m = y[data.cand_image], y[data.cand_caption], y[data.cand_imagery]
    # imagery against the imagery targets plus each unique test stimulus (3 + 70)
    cand_73 = torch.cat([cand_m, cand_i]) if n_m else None
    img_p, cap_p, ima_p = perms
    if img_p.shape[1] != cand_i.shape[0] or cap_p.shape[1] != cand_c.shape[0] or ima_p.shape[1] != cand_m.shape[0]:
        raise ValueError(f"null permutations of {img_p.shape[1]}, {cap_p.shape[1]} and {ima_p.shape[1]} items do "
                         f"not match the {cand_i.shape[0]} image, {cand_c.shape[0]} caption and {cand_m.shape[0]} "
                         "imagery test stimuli: draw them with null_permutations(len(data.cand_image), ...)")
    asg_i = target_assignments(data.target_image, img_p)
    asg_c = target_assignments(data.target_caption, cap_p)
    asg_m = target_assignments(data.target_imagery, ima_p)  # imagery targets are the first 3 of the 73 too
    n_perm, n_ima_perm = img_p.shape[0], ima_p.shape[0]
    obs = {k: np.full(centres.size, np.nan) for k in OBS_METRICS}
    null = {k: np.full((n_perm, centres.size), np.nan, np.float32) for k in NULL_METRICS}
    null.update({k: np.full((n_ima_perm, centres.size), np.nan, np.float32) for k in IMAGERY_NULL_METRICS})

    units, per_unit = sol.units, sol.per_unit
    start, b, done = 0, max(1, int(batch_size) // per_unit), 0
    while start < len(units):
        stop = min(start + b, len(units))
        try:
            pos, pred = sol.predict(problem, units[start:stop])
            res = {}
            res["acc_image"] = _scores(pred[:, :n_i], cand_i, asg_i)
            res["acc_caption"] = _scores(pred[:, n_i: n_i + n_c], cand_c, asg_c)
            if n_m >= 2:
                pm = pred[:, n_i + n_c:]
                res["acc_imagery"] = _scores(pm, cand_m, asg_m)
                res["acc_imagery_73"] = _scores(pm, cand_73, asg_m)
                res["acc_imagery_unstd"] = _scores(pm, cand_m, asg_m, standardize=False)
                res["acc_imagery_73_unstd"] = _scores(pm, cand_73, asg_m, standardize=False)
        except torch.OutOfMemoryError:
            if b == 1:
                raise
            b = max(1, b // 2)
            torch.cuda.empty_cache()
            if log:
                log(f"CUDA out of memory: batch halved to {b} {'groups' if solver == 'shared' else 'centres'}")
            continue
        for k, (o, nl) in res.items():
            obs[k][pos] = o.cpu().numpy()
            if k in null:
                null[k][:, pos] = nl.T.cpu().numpy()
        start, done = stop, done + len(pos)
        if log and (start == len(units) or (start // b) % 20 == 0):
            log(f"searchlight: {done}/{centres.size} centres")
    return {"obs": obs, "null": null, "batch_size": b, "gram": gram, "solver": solver}


def to_dataset(result, vertex_index: np.ndarray, attrs: dict, imagery_perms: np.ndarray | None = None) -> xr.Dataset:
    """Pack one job's results as the searchlight store.

    Parameters
    ----------
    result : dict
        From :func:`run`.
    vertex_index : int array of shape (n_centres,)
    attrs : dict
        Parameters recorded in the store (as strings).
    imagery_perms : int array of shape (P_imagery, n_imagery), optional

    Returns
    -------
    xarray.Dataset
        ``scores`` (metric × vertex), the test-target null ``null`` (perm × null_metric × vertex) and the
        imagery null ``null_imagery`` (imagery_perm × imagery_null_metric × vertex), float32, with the imagery
        orderings used (``imagery_perms``) and whether they are all of them (attribute
        ``imagery_null_exhaustive``).
    """
    obs = np.stack([result["obs"][k] for k in OBS_METRICS]).astype(np.float32)
    null = np.stack([result["null"][k] for k in NULL_METRICS], axis=1).astype(np.float32)  # (P, M, V)
    null_m = np.stack([result["null"][k] for k in IMAGERY_NULL_METRICS], axis=1).astype(np.float32)
    if imagery_perms is None:
        imagery_perms = np.zeros((null_m.shape[0], 0), np.int64)
    attrs = dict(attrs, imagery_null_exhaustive=int(imagery_null_is_exhaustive(imagery_perms)))
    return xr.Dataset(
        {"scores": (("metric", "vertex"), obs), "null": (("perm", "null_metric", "vertex"), null),
         "null_imagery": (("imagery_perm", "imagery_null_metric", "vertex"), null_m),
         "imagery_perms": (("imagery_perm", "imagery_item"), np.asarray(imagery_perms, np.int32))},
        coords={"metric": list(OBS_METRICS), "null_metric": list(NULL_METRICS),
                "imagery_null_metric": list(IMAGERY_NULL_METRICS),
                "vertex_index": ("vertex", vertex_index.astype(np.int32)), "perm": np.arange(null.shape[0]),
                "imagery_perm": np.arange(null_m.shape[0])},
        attrs={k: str(v) for k, v in attrs.items()})


def searchlight_subject(betas, features, feature_set, mode, hemi, mesh_coords, *, n_neighbors=None, radius=None,
                        alpha=1.0, n_perm=100, seed=0, device="cpu", dtype=torch.float32, batch_size=256,
                        solver="auto", shard=(0, 1), features_path="<features>", log=None) -> xr.Dataset:
    """Run the searchlight of one subject × training mode × hemisphere (optionally one shard of its centres).

    Parameters
    ----------
    betas : xarray.Dataset
        A preprocessed store.
    features : xarray.Dataset
    feature_set : str
    mode : {"images", "captions", "agnostic"}
    hemi : {"left", "right"}
    mesh_coords : array of shape (n_mesh_vertices, 3)
        The hemisphere's inflated-mesh coordinates (neighbourhoods are Euclidean on them).
    n_neighbors : int, optional
    radius : float, optional
        Give exactly one of the two.
    alpha : float
        Fixed ridge penalty (reference: 1).
    n_perm : int
        Null maps per subject (0: none).
    seed : int
    device : str
    dtype : torch.dtype
    batch_size : int
    solver : {"auto", "direct", "shared"}
    shard : (int, int)
        (0-based shard, number of shards).
    features_path : str
    log : callable, optional

    Returns
    -------
    xarray.Dataset
        As :func:`to_dataset` gives it, with every parameter in ``attrs``.
    """
    subject = betas.attrs.get("subject", "sub-?")
    data = prepare(betas, features, feature_set, mode, hemi, torch.device(device), dtype, features_path)
    coords = mesh_coords[data.vertex_index]
    neigh, sizes = neighbourhoods(coords, n_neighbors, radius)
    perms = null_permutations(data.cand_image.size, data.cand_caption.size, data.cand_imagery.size, n_perm, seed,
                              subject)
    k, n = shard
    centres = shard_centres(coords, k, n)
    if log:
        log(f"{subject} {mode} {hemi}: {centres.size} centres (shard {k + 1}/{n}), neighbourhood "
            f"{'k=' + str(n_neighbors) if n_neighbors else f'radius {radius} mm'} (median size "
            f"{int(np.median(sizes))}), {data.train.size} train trials, {n_perm} null permutations "
            f"({perms[2].shape[0]} imagery orderings), on {device}")
    res = run(data, neigh, centres, perms, alpha=alpha, batch_size=batch_size, solver=solver, coords=coords, log=log)
    return to_dataset(res, data.vertex_index[centres], {
        "subject": subject, "training_mode": mode, "hemi": hemi, "feature_set": feature_set, "alpha": alpha,
        "n_neighbors": n_neighbors, "radius_mm": radius, "median_size": int(np.median(sizes)),
        "n_permutations": n_perm, "shard": f"{k + 1}/{n}", "seed": seed, "solver": res["solver"],
        "standardisation": "betas and targets z-scored with this training mode's train rows",
        "null": "test targets permuted without refit: derangements of the unique test stimuli within the image and "
                "caption blocks; imagery: every ordering of the imagery targets (identity included) when there are "
                "at most n_permutations of them, else that many drawn uniformly; the same permutations for every "
                "vertex and decoder"}, imagery_perms=perms[2])
