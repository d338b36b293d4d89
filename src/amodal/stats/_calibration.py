"""FWER calibration of the group statistics under the global null (METHOD §9: at most 5% of pure-noise
simulations may show a significant vertex).

Each simulation builds, for every subject, a pure-noise dataset in the pipeline's own format (spatially smooth
betas on an icosahedral mesh, random targets that the betas know nothing about), and runs the pipeline's own
chain on it: :func:`amodal.searchlight.prepare` (per-mode standardisation, unique candidates), the searchlight's
ridge decoders in every neighbourhood of each training mode and hemisphere, scored against the true targets and
against the permuted targets of :func:`amodal.searchlight.null_permutations`; then the group stage exactly as
:func:`amodal.stats.group_analysis` runs it (t-maps, test map, TFCE on both hemispheres, the Stelzer null of the
maximum with the exact imagery enumeration when it fits, p-values).

Two false-positive rates per test map:

- over the mesh: a simulation counts when any vertex has p ≤ alpha (the family-wise error rate);
- at a single vertex: the same chain on a "mesh" of one vertex (the first of the left hemisphere), where TFCE is a
  monotone function of t and p is that vertex's own permutation p.

Both should be close to alpha (and at most alpha up to simulation error).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
import xarray as xr

from .. import searchlight
from ..seeding import rng
from ..surface import HEMIS, adjacency, ico_mesh, smooth, smoothing_operator
from . import _permutations as stats
from ._tfce import tfce

MODES = ("images", "captions", "agnostic")
TFCE = {"e_power": 1.0, "h_power": 2.0, "dh": 0.1}


def null_subject(gen: np.random.Generator, nv: int, op, *, n_train: int, n_test: int, n_imagery: int, q: int,
                 smoothness: int, subject: str) -> tuple[xr.Dataset, xr.Dataset]:
    """A pure-noise subject in the pipeline's format, with the trial layout of the real design.

    Parameters
    ----------
    gen : numpy.random.Generator
    nv : int
        Vertices per hemisphere.
    op : sparse matrix
        Smoothing operator of the mesh (:func:`amodal.surface.smoothing_operator`).
    n_train, n_test, n_imagery : int
        Train trials per modality, test stimuli (seen once per modality) and imagery trials.
    q : int
        Target dimensions.
    smoothness : int
        Smoothing steps of the noise.
    subject : str

    Returns
    -------
    betas : xarray.Dataset
        A preprocessed-betas store over both hemispheres (smooth noise).
    features : xarray.Dataset
        A feature store with one random set ``t`` of shape (n_stimuli, q).
    """
    sid = ([f"ti{i}" for i in range(n_train)] + [f"tc{i}" for i in range(n_train)] + [f"t{i}" for i in range(n_test)]
           * 2 + [f"m{i}" for i in range(n_imagery)])
    modality = ["image"] * n_train + ["caption"] * n_train + ["image"] * n_test + ["caption"] * n_test + \
        ["imagery"] * n_imagery
    split = ["train"] * (2 * n_train) + ["test"] * (2 * n_test) + ["imagery"] * n_imagery
    n = len(sid)
    x = np.concatenate([smooth(gen.standard_normal((nv, n)), op, smoothness).T for _ in HEMIS], axis=1)
    betas = xr.Dataset(
        {"betas": (("trial", "vertex"), x.astype(np.float32))},
        coords={"stimulus_id": ("trial", np.array(sid)), "modality": ("trial", np.array(modality)),
                "split": ("trial", np.array(split)), "hemi": ("vertex", np.repeat(np.array(HEMIS), nv)),
                "vertex_index": ("vertex", np.tile(np.arange(nv), 2))},
        attrs={"subject": subject})
    stim = sorted(set(sid))
    feats = xr.Dataset({"t": (("stimulus", "dim"), gen.standard_normal((len(stim), q)))},
                       coords={"stimulus": np.array(stim)})
    return betas, feats


def subject_maps(betas, feats, coords, neighbors, n_null: int, seed: int, first_vertex_only: bool = False):
    """The searchlight of one subject on every mode and hemisphere, as the pipeline runs it.

    Parameters
    ----------
    betas, feats : xarray.Dataset
        From :func:`null_subject`.
    coords : array of shape (n_vertices, 3)
    neighbors : int or int array
        k, or the neighbourhoods of :func:`amodal.searchlight.neighbourhoods` computed once.
    n_null : int
    seed : int
    first_vertex_only : bool
        Only the first vertex of the left hemisphere is a centre (NaN elsewhere).

    Returns
    -------
    obs : dict
        ``(mode, metric)`` → array of shape (2 * n_vertices,).
    null : dict
        ``(mode, metric)`` → array of shape (n_null, 2 * n_vertices).
    exhaustive : bool
        Whether the imagery null holds every ordering.
    """
    nv = coords.shape[0]
    obs, null = {}, {}
    neigh = neighbors if isinstance(neighbors, np.ndarray) else searchlight.neighbourhoods(coords, neighbors)[0]
    perms = None  # one set per subject, shared by every mode and hemisphere (as the searchlight rule draws them)
    for mode in MODES:
        for hi, hemi in enumerate(HEMIS[:1] if first_vertex_only else HEMIS):
            data = searchlight.prepare(betas, feats, "t", mode, hemi, torch.device("cpu"), torch.float64)
            if perms is None:
                perms = searchlight.null_permutations(data.cand_image.size, data.cand_caption.size,
                                                      data.cand_imagery.size, n_null, seed, betas.attrs["subject"])
            centres = np.arange(1 if first_vertex_only else nv)
            res = searchlight.run(data, neigh, centres, perms, alpha=1.0, solver="direct")
            for metric, val in res["obs"].items():
                obs.setdefault((mode, metric), np.full(2 * nv, np.nan))[hi * nv + centres] = val
            for metric, val in res["null"].items():
                null.setdefault((mode, metric), np.full((val.shape[0], 2 * nv), np.nan, np.float32))[
                    :, hi * nv + centres] = val
    return obs, null, searchlight.imagery_null_is_exhaustive(perms[2])


def _false_positive(obs, null, names, cols, adj, n_perm, seed, alpha, exhaustive):
    """Per test map: whether any vertex has p ≤ alpha, and the number of such vertices (the group stage)."""
    info = {}
    maxima = stats.group_null(null, cols, adj, names, n_perm, seed, TFCE, exhaustive=exhaustive, info=info)
    ts = stats.t_maps(stats.base_values(obs))
    out = {}
    for name in names:
        tm = stats.test_map(ts, name)
        n_sig = 0
        for h, c in cols.items():
            t = tfce(np.nan_to_num(tm[c], nan=-np.inf), adj[h], **TFCE)
            n_sig += int((stats.p_values(t, maxima[name]) <= alpha).sum())
        out[name] = (n_sig > 0, n_sig, info[name]["null_scheme"])
    return out


def _simulate(sims, kw: dict, threads: int | None = None):
    """The simulations numbered ``sims``: per (where, test map) a hit per simulation, and the mesh-wide counts of
    significant vertices. Each simulation is seeded by its number alone, so chunks run anywhere give the same hits."""
    if threads is not None:  # a worker process: one thread each, as the searchlight jobs run
        from ..workflow import limit_threads

        limit_threads(threads)
    n_subjects, n_null, n_perm, n_perm_single, alpha, seed = (kw[k] for k in (
        "n_subjects", "n_null", "n_perm", "n_perm_single", "alpha", "seed"))
    mesh, single_vertex, names = kw["mesh"], kw["single_vertex"], list(kw["test_maps"])
    coords, faces = ico_mesh(kw["grade"])
    nv = coords.shape[0]
    op = smoothing_operator(faces, nv)
    adj = {h: adjacency(faces, nv) for h in HEMIS}
    cols = {h: slice(i * nv, (i + 1) * nv) for i, h in enumerate(HEMIS)}
    one = {"left": slice(0, 1)}
    one_adj = {"left": sp.csr_matrix((1, 1))}
    hits = {("mesh", n): [] for n in names} | {("vertex", n): [] for n in names}
    n_sig = {n: [] for n in names}
    neigh, _ = searchlight.neighbourhoods(coords, kw["neighbors"])  # the same mesh in every simulation
    schemes = {}
    for s in map(int, sims):
        g = rng(seed, "calibration", s)
        sim_seed = int(g.integers(2**31))
        obs, null, exh = {}, {}, True
        for k in range(n_subjects):
            b, f = null_subject(g, nv, op, n_train=kw["n_train"], n_test=kw["n_test"], n_imagery=kw["n_imagery"],
                                q=kw["q"], smoothness=kw["smoothness"], subject=f"sub-{k + 1:02d}")
            o, nl, e = subject_maps(b, f, coords, neigh, n_null, sim_seed, first_vertex_only=not mesh)
            exh &= e
            for key in o:
                obs.setdefault(key, []).append(o[key])
                null.setdefault(key, []).append(nl[key])
        obs = {k: np.stack(v) for k, v in obs.items()}
        null = {k: np.stack(v) for k, v in null.items()}
        exhaustive = {"targets": False, "imagery": exh}
        if mesh:
            for name, (hit, count, scheme) in _false_positive(obs, null, names, cols, adj, n_perm, sim_seed, alpha,
                                                              exhaustive).items():
                hits[("mesh", name)].append(hit)
                n_sig[name].append(count)
                schemes[("mesh", name)] = scheme
        if single_vertex:
            o1 = {k: v[:, :1] for k, v in obs.items()}
            n1 = {k: v[:, :, :1] for k, v in null.items()}
            for name, (hit, _, scheme) in _false_positive(o1, n1, names, one, one_adj, n_perm_single, sim_seed,
                                                          alpha, exhaustive).items():
                hits[("vertex", name)].append(hit)
                schemes[("vertex", name)] = scheme
        if kw["log"] and (s + 1) % max(1, kw["n_sims"] // 10) == 0:
            kw["log"](f"calibration: simulation {s + 1} of {kw['start'] + kw['n_sims']}")
    return hits, n_sig, schemes


def simulate_fwer(n_sims: int = 200, n_subjects: int = 6, n_null: int = 100, n_perm: int = 1000,
                  n_perm_single: int | None = None, alpha: float = 0.05, grade: int = 3, smoothness: int = 2,
                  neighbors: int = 20, n_train: int = 40, n_test: int = 20, n_imagery: int = 3, q: int = 16,
                  seed: int = 0, test_maps=("mod_agnostic_and_cross", "imagery"), single_vertex: bool = True,
                  mesh: bool = True, start: int = 0, n_jobs: int = 1, log=None) -> dict:
    """False-positive rates at p ≤ ``alpha`` of each test map over ``n_sims`` pure-noise simulations.

    Each simulation makes ``n_subjects`` pure-noise subjects (:func:`null_subject`), runs their searchlights
    (:func:`subject_maps`) and the group chain as the group stage does. Over the mesh: ``n_perm`` group
    permutations; at a single vertex: ``n_perm_single`` (default ``n_perm``), where an imagery null with at most
    that many configurations is enumerated exactly (6 subjects: 46,656).

    Parameters
    ----------
    n_sims, n_subjects, n_null, n_perm : int
    n_perm_single : int, optional
    alpha : float
    grade : int
        Icosphere subdivisions of the mesh (3: 642 vertices per hemisphere).
    smoothness, neighbors, n_train, n_test, n_imagery, q : int
        Noise smoothing, neighbourhood size and the design (see :func:`null_subject`).
    seed : int
    test_maps : sequence of str
    single_vertex, mesh : bool
        Which rates to estimate.
    start : int
        Number of the first simulation: simulation ``s`` is seeded by ``(seed, s)`` alone, so ``start`` extends an
        earlier run with new simulations, and runs over disjoint ranges pool into one.
    n_jobs : int
        Worker processes (one thread each), each running a contiguous share of the simulations; the hits are the
        same whatever the number.
    log : callable, optional

    Returns
    -------
    dict
        ``rates[test_map][where]`` with ``fwer`` and its binomial ``se`` (``where``: ``mesh`` or ``vertex``),
        the null schemes used, ``hits[test_map][where]`` (one bool per simulation, in order), and the settings.
    """
    n_perm_single = n_perm if n_perm_single is None else n_perm_single
    names = list(test_maps)
    kw = dict(n_subjects=n_subjects, n_null=n_null, n_perm=n_perm, n_perm_single=n_perm_single, alpha=alpha,
              seed=seed, mesh=mesh, single_vertex=single_vertex, test_maps=names, grade=grade, neighbors=neighbors,
              n_train=n_train, n_test=n_test, n_imagery=n_imagery, q=q, smoothness=smoothness, n_sims=n_sims,
              start=start, log=log)
    sims = np.arange(start, start + n_sims)
    if n_jobs <= 1:
        parts = [_simulate(sims, kw)]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn: a fork would copy torch's and numba's thread pools into the children
        with ProcessPoolExecutor(n_jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            # a worker prints its progress (a callable log may not pickle)
            parts = list(pool.map(_simulate, np.array_split(sims, n_jobs), [dict(kw, log=log and print)] * n_jobs,
                                  [1] * n_jobs))
    hits = {k: sum((p[0][k] for p in parts), []) for k in parts[0][0]}
    n_sig = {k: sum((p[1][k] for p in parts), []) for k in parts[0][1]}
    schemes = parts[0][2]
    rates, raw = {}, {}
    for (where, name), h in hits.items():
        if not h:
            continue
        fwer = float(np.mean(h))
        rates.setdefault(name, {})[where] = {"fwer": fwer, "se": float(np.sqrt(fwer * (1 - fwer) / len(h))),
                                             "null_scheme": schemes[(where, name)]}
        raw.setdefault(name, {})[where] = [bool(x) for x in h]
        if where == "mesh":
            rates[name][where]["mean_significant_vertices"] = float(np.mean(n_sig[name]))
    return {"n_sims": n_sims, "first_simulation": start, "alpha": alpha, "rates": rates, "hits": raw,
            "n_vertices": 2 * (10 * 4 ** grade + 2),  # an icosphere of that grade, per hemisphere
            "n_subjects": n_subjects, "n_null": n_null, "n_perm": n_perm,
            "n_perm_single_vertex": n_perm_single, "neighbors": neighbors, "n_train_per_modality": n_train,
            "n_test": n_test, "n_imagery": n_imagery, "n_features": q}
