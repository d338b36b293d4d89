"""Group statistics of searchlight maps: t-maps, combined test maps, TFCE, Stelzer permutations, clusters.

- Per vertex and base metric, a one-sample t across subjects against chance (0.5 for accuracies, 0 for
  differences), without a variance floor: a vertex with zero variance gets NaN, and minima ignore NaN (§10).
- Test maps: ``mod_agnostic_and_cross`` = min of the t-maps of the agnostic decoder on images and on captions,
  the captions decoder on images and the images decoder on captions; ``cross_decoding`` = min of the two cross
  t-maps; ``diff_mod_agno_mod_specific`` = min of the two agnostic−specific difference t-maps and the two
  agnostic t-maps; ``imagery`` = the t-map of the agnostic decoder on imagery against 73 candidates.
- Null (Stelzer et al. 2013): each group permutation draws, for every subject independently and uniformly, one
  of its per-subject null maps (the same index for all of that subject's decoders, whose nulls share
  permutations), recomputes the t-maps, the test map and its TFCE, and keeps the maximum over both
  hemispheres. (The reference took the first tuples of a lexicographic enumeration instead, so that most
  subjects never varied; see METHOD §10.)
- Null families: the test-target nulls (image and caption blocks) and the imagery nulls are permuted
  separately and have their own per-subject null maps. The imagery null holds every ordering of each subject's
  imagery targets, identity first; when the group has at most ``n_perm`` configurations of them
  (6 subjects x 6 orderings: 6**6 = 46,656), every configuration but the observed one is enumerated, an exact
  test.
- p(v) = (1 + number of null maxima ≥ TFCE(v)) / (1 + N), N the number of group permutations (with the
  observed configuration left out of an enumeration, this is the exact p); the smallest attainable p is
  1 / (1 + N).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from numba.typed import List

from ..seeding import rng
from ..surface import HEMIS
from ._null_kernels import test_maps as _test_maps
from ._tfce import tfce

# base metrics: (name, training mode, searchlight metric, chance)
BASE = (
    ("agnostic_image", "agnostic", "acc_image", 0.5),
    ("agnostic_caption", "agnostic", "acc_caption", 0.5),
    ("images_image", "images", "acc_image", 0.5),
    ("images_caption", "images", "acc_caption", 0.5),
    ("captions_caption", "captions", "acc_caption", 0.5),
    ("captions_image", "captions", "acc_image", 0.5),
    ("agnostic_imagery", "agnostic", "acc_imagery_73", 0.5),
    ("agnostic_imagery_unstd", "agnostic", "acc_imagery_73_unstd", 0.5),
)
DIFFS = (("diff_image", "agnostic_image", "images_image"), ("diff_caption", "agnostic_caption", "captions_caption"))
TEST_MAPS = {
    "mod_agnostic_and_cross": ("agnostic_image", "agnostic_caption", "captions_image", "images_caption"),
    "cross_decoding": ("captions_image", "images_caption"),
    "diff_mod_agno_mod_specific": ("diff_image", "diff_caption", "agnostic_image", "agnostic_caption"),
    "imagery": ("agnostic_imagery",),
    "imagery_unstd": ("agnostic_imagery_unstd",),  # the reference's Fig. 10 variant: no z-scoring of the 3
}
# which permutation family each searchlight metric's null belongs to (see the module docstring)
FAMILY = {"acc_image": "targets", "acc_caption": "targets", "acc_imagery": "imagery", "acc_imagery_73": "imagery",
          "acc_imagery_unstd": "imagery", "acc_imagery_73_unstd": "imagery"}
STREAMS = {"targets": "stelzer-group-permutations", "imagery": "stelzer-group-permutations-imagery"}
CHANCE = {**{b[0]: b[3] for b in BASE}, **{d[0]: 0.0 for d in DIFFS}}


def ttest_1samp(x: np.ndarray, chance: float = 0.0, axis: int = 0) -> np.ndarray:
    """One-sample t (ddof 1) against ``chance``, without a variance floor.

    NaN where the variance is zero (MNE's ``sigma=0``). "Zero" means zero up to float rounding of the inputs
    (values equal to about 7 significant digits, as float32 maps store them): a spread of a few ulps would
    otherwise give t ~ 1e7 instead of NaN.

    Parameters
    ----------
    x : array of shape (n_subjects, n_vertices)
        (along ``axis``).
    chance : float
    axis : int

    Returns
    -------
    array of shape (n_vertices,)
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[axis]
    mean = x.mean(axis=axis) - chance
    var = x.var(axis=axis, ddof=1)
    scale = np.max(np.abs(x), axis=axis)
    zero = var <= (4 * np.finfo(np.float32).eps * scale) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        t = mean / np.sqrt(var / n)
    return np.where(zero, np.nan, t)


def _nanmin(maps: list[np.ndarray]) -> np.ndarray:
    stack = np.stack(maps)
    allnan = np.all(np.isnan(stack), axis=0)
    out = np.min(np.where(np.isnan(stack), np.inf, stack), axis=0)
    return np.where(allnan, np.nan, out)


def base_values(obs: dict) -> dict[str, np.ndarray]:
    """Per-subject maps of every base metric of :data:`BASE`, plus the differences of :data:`DIFFS`.

    Parameters
    ----------
    obs : dict
        ``obs[(mode, metric)]``: array of shape (n_subjects, n_vertices).

    Returns
    -------
    dict
        Base name → array of shape (n_subjects, n_vertices).
    """
    out = {name: obs[(mode, metric)] for name, mode, metric, _ in BASE if (mode, metric) in obs}
    for name, a, b in DIFFS:
        if a in out and b in out:
            out[name] = out[a] - out[b]
    return out


def t_maps(values: dict[str, np.ndarray], axis: int = 0) -> dict[str, np.ndarray]:
    """One-sample t-map of each base value against its chance level (:data:`CHANCE`).

    Parameters
    ----------
    values : dict
        Name → array of shape (n_subjects, n_vertices) (:func:`base_values`), or with more leading axes.
    axis : int
        The subject axis.

    Returns
    -------
    dict
        Name → t-map (the subject axis removed).
    """
    return {k: ttest_1samp(v, CHANCE[k], axis=axis) for k, v in values.items()}


def test_map(ts: dict[str, np.ndarray], name: str) -> np.ndarray:
    """A test map: the vertex-wise minimum of its component t-maps (a conjunction; METHOD §7).

    Parameters
    ----------
    ts : dict
        Name → t-map of shape (n_vertices,) (:func:`t_maps`).
    name : str
        A key of :data:`TEST_MAPS`.

    Returns
    -------
    array of shape (n_vertices,)
        NaN where every component is NaN.
    """
    return _nanmin([ts[k] for k in TEST_MAPS[name]])


def _keys_of(component: str) -> list[tuple[str, str]]:
    """The searchlight (mode, metric) maps a test-map component is computed from (two for a difference)."""
    bases = {d[0]: d[1:] for d in DIFFS}.get(component, (component,))
    return [(mode, metric) for name, mode, metric, _ in BASE if name in bases]


def family_of(name: str) -> str:
    """The null family of a test map: all its components must share one (their nulls are picked together)."""
    fams = {FAMILY[metric] for comp in TEST_MAPS[name] for _, metric in _keys_of(comp)}
    if len(fams) != 1:
        raise ValueError(f"test map {name!r} mixes null families {sorted(fams)}")
    return fams.pop()


def group_configurations(n_null: int, n_sub: int, n_perm: int, seed: int, family: str,
                         exhaustive: bool = False) -> tuple[np.ndarray, str]:
    """The null-map index of every subject for each group permutation, and how they were chosen.

    ``exhaustive``: each subject's null holds every relabelling of its targets, the identity (the observed
    assignment) at index 0. Then, when the ``n_null ** n_sub`` configurations number at most ``n_perm``, all of
    them but the all-identity one are enumerated (``"exact"``). Otherwise each subject's index is drawn
    independently and uniformly from the master seed (``"monte_carlo"``, Stelzer et al. 2013).

    Parameters
    ----------
    n_null : int
        Null maps per subject.
    n_sub : int
    n_perm : int
    seed : int
    family : {"targets", "imagery"}
        Each family draws from its own stream of the seed.
    exhaustive : bool

    Returns
    -------
    picks : int array of shape (N, n_sub)
    scheme : {"exact", "monte_carlo"}
    """
    if n_null < 1:
        raise ValueError(f"no per-subject null maps for the {family} null: run the searchlight with "
                         "searchlight.n_permutations >= 1")
    if exhaustive and n_null ** n_sub <= n_perm:
        grid = np.array(list(itertools.product(range(n_null), repeat=n_sub)), np.int64).reshape(-1, n_sub)
        return grid[1:], "exact"
    gen = rng(seed, STREAMS[family])
    return gen.integers(0, n_null, size=(n_perm, n_sub)), "monte_carlo"


def min_p(n_null_maxima: int) -> float:
    """The smallest p the null can give: 1 / (1 + N) (an exact enumeration of C configurations leaves out the
    observed one, N = C - 1, so this is 1 / C)."""
    return 1.0 / (1 + n_null_maxima)


# The group null is computed in batches of permutations: a batch holds each test map of its permutations (float64),
# and TFCE's copy of it per hemisphere. BATCH_BYTES bounds the test maps of a batch, so that memory stays flat
# whatever the mesh; MAX_BATCH caps the batch where maps are small.
BATCH_BYTES = 256 * 2 ** 20
MAX_BATCH = 200


def group_null(null: dict, hemi_slices: dict, adjacency: dict, test_names, n_perm: int, seed: int,
               tfce_kw: dict, batch: int | None = None, log=None, exhaustive: dict | None = None,
               info: dict | None = None) -> dict[str, np.ndarray]:
    """Maximum TFCE over both hemispheres of every group permutation, for each test map.

    Parameters
    ----------
    null : dict
        ``null[(mode, metric)]``: per-subject null maps, array of shape (n_subjects, n_null, n_vertices) over both
        hemispheres (NaN where masked).
    hemi_slices : dict
        ``{hemi: slice}``: the columns of each hemisphere.
    adjacency : dict
        ``{hemi: sparse (n_vertices_hemi, n_vertices_hemi)}``: mesh adjacency.
    test_names : sequence of str
        Keys of :data:`TEST_MAPS`.
    n_perm : int
    seed : int
    tfce_kw : dict
        Keyword arguments of :func:`tfce`.
    batch : int, optional
        Permutations per batch. By default as many as keep a batch's test maps within :data:`BATCH_BYTES` (200 on
        fsaverage5; 51 and 102 on fsaverage7 for the default test maps). The maxima do not depend on it.
    log : callable, optional
    exhaustive : dict, optional
        ``{family: bool}``: whether that family's per-subject nulls hold every relabelling, identity first (see
        :func:`group_configurations`).
    info : dict, optional
        Receives per test map the null scheme, the number of null maxima and the smallest attainable p.

    Returns
    -------
    dict
        Test map → array of shape (N,) of null maxima.
    """
    exhaustive = exhaustive or {}
    by_family: dict[str, list[str]] = {}
    for name in test_names:
        by_family.setdefault(family_of(name), []).append(name)
    maxima = {}
    for fam, names in by_family.items():
        # only the null maps these test maps read (gathering the others for every permutation costs time)
        wanted = {key for n in names for comp in TEST_MAPS[n] for key in _keys_of(comp)}
        keys = [k for k in null if FAMILY[k[1]] == fam and k in wanted]
        if not keys:
            raise ValueError(f"no per-subject null maps of the {fam} family for test maps {names}")
        shapes = {null[k].shape[:2] for k in keys}
        if len(shapes) != 1:
            raise ValueError(f"the {fam} null maps differ in subjects or permutations: {sorted(shapes)}")
        n_sub, n_null = shapes.pop()
        picks, scheme = group_configurations(n_null, n_sub, n_perm, seed, fam, exhaustive.get(fam, False))
        fam_null = {k: null[k] for k in keys}
        per_perm = len(names) * null[keys[0]].shape[2] * 8  # its test maps, float64
        size = batch or int(np.clip(BATCH_BYTES // per_perm, 1, MAX_BATCH))
        out = _max_tfce(fam_null, picks, names, hemi_slices, adjacency, tfce_kw, size, log)
        maxima.update(out)
        if info is not None:
            for name in names:
                info[name] = {"null_scheme": scheme, "n_null_maxima": int(picks.shape[0]),
                              "n_configurations": int(n_null ** n_sub), "min_p": min_p(picks.shape[0])}
    return {name: maxima[name] for name in test_names}


def _components(names, keys):
    """The test maps' components as :func:`._null_kernels.test_maps` reads them: key indices (the second one
    of a difference, else -1), chance levels, and where each test map's components start."""
    comp_a, comp_b, chance, ptr = [], [], [], [0]
    for name in names:
        for comp in TEST_MAPS[name]:
            pair = _keys_of(comp)
            comp_a.append(keys.index(pair[0]))
            comp_b.append(keys.index(pair[1]) if len(pair) > 1 else -1)
            chance.append(CHANCE[comp])
        ptr.append(len(comp_a))
    return (np.array(comp_a, np.int64), np.array(comp_b, np.int64), np.array(chance, np.float64),
            np.array(ptr, np.int64))


def _max_tfce(null, picks, names, hemi_slices, adjacency, tfce_kw, batch, log):
    n_total = picks.shape[0]
    keys = list(null)
    dtype = np.result_type(*null.values())  # float32 from the stores: no copy
    arrays = List()  # numba reads them in place: no gathered copy, no float64 copy
    for key in keys:
        arrays.append(np.ascontiguousarray(null[key], dtype=dtype))
    comps = _components(names, keys)
    n_vertices = arrays[0].shape[2]
    maxima = {name: np.zeros(n_total) for name in names}
    for start in range(0, n_total, batch):
        sel = np.ascontiguousarray(picks[start: start + batch], dtype=np.int64)  # (b, S)
        maps = np.empty((len(names), sel.shape[0], n_vertices))
        _test_maps(arrays, sel, *comps, maps)
        for i, name in enumerate(names):
            mx = np.zeros(sel.shape[0])
            for hemi, cols in hemi_slices.items():
                scores = tfce(maps[i][:, cols], adjacency[hemi], **tfce_kw)
                mx = np.maximum(mx, scores.max(axis=1))
            maxima[name][start: start + sel.shape[0]] = mx
        if log:
            log(f"group permutations ({', '.join(names)}): {min(start + batch, n_total)}/{n_total}")
    return maxima


def p_values(observed: np.ndarray, null_max: np.ndarray) -> np.ndarray:
    """FWER p-values: (1 + the number of null maxima ≥ the observed TFCE) / (1 + N); 1 where TFCE is 0 or NaN.

    Counting the observed map as a member of its own null keeps p ≤ α at a rate of at most α under H0 (a floor at
    1/N instead would let one null exceedance too many pass when α·N is an integer).

    Parameters
    ----------
    observed : array of shape (n_vertices,)
        TFCE values.
    null_max : array of shape (N,)

    Returns
    -------
    array of shape (n_vertices,)
    """
    srt = np.sort(null_max)
    n = srt.size
    ge = n - np.searchsorted(srt, np.nan_to_num(observed, nan=-np.inf), side="left")
    p = (1.0 + ge) / (1.0 + n)
    return np.where(np.nan_to_num(observed) > 0, p, 1.0)


def significance_cutoff(null_max: np.ndarray, alpha: float) -> float:
    """The TFCE value above which p ≤ ``alpha`` (see :func:`p_values`): a vertex is significant exactly when its
    TFCE is > the cut-off (and > 0). ``inf`` when no value can reach ``alpha`` with this many null maxima."""
    n = np.asarray(null_max).size
    k = math.floor(alpha * (1 + n) + 1e-9) - 1  # at most k null maxima may be >= a significant value
    if k < 0:
        return float("inf")
    if k >= n:
        return 0.0
    return float(np.sort(null_max)[::-1][k])


def clusters(significant: np.ndarray, adjacency: sp.spmatrix) -> np.ndarray:
    """Connected components of the significant vertices over mesh edges, numbered by size (largest first).

    Parameters
    ----------
    significant : bool array of shape (n_vertices,)
    adjacency : sparse matrix of shape (n_vertices, n_vertices)

    Returns
    -------
    int array of shape (n_vertices,)
        0 for none, 1..K.
    """
    idx = np.flatnonzero(significant)
    labels = np.zeros(significant.size, int)
    if idx.size == 0:
        return labels
    sub = sp.csr_matrix(adjacency)[idx][:, idx]
    _, lab = connected_components(sub, directed=False)
    # number clusters by size, largest first
    order = np.argsort(-np.bincount(lab), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    labels[idx] = rank[lab] + 1
    return labels


def cluster_table(name: str, maps: dict, labels: dict, coords: dict, atlas: dict | None) -> pd.DataFrame:
    """One row per cluster: size, peak t, peak TFCE, peak vertex and coordinates, min p, overlapped regions.

    Parameters
    ----------
    name : str
        The test map.
    maps : dict
        ``maps["t" | "tfce" | "p"][hemi]``: arrays of shape (n_vertices,).
    labels : dict
        ``{hemi: cluster labels}`` (:func:`clusters`).
    coords : dict
        ``{hemi: array of shape (n_vertices, 3)}`` (peaks are reported on these coordinates, e.g. pial).
    atlas : dict or None
        ``{hemi: (labels, {key: name})}``.

    Returns
    -------
    pandas.DataFrame
    """
    rows = []
    for hemi in HEMIS:
        lab = labels[hemi]
        for c in range(1, lab.max() + 1 if lab.size else 1):
            members = np.flatnonzero(lab == c)
            t = maps["t"][hemi][members]
            peak = members[int(np.nanargmax(t))]
            regions = ""
            if atlas is not None:
                alab, names = atlas[hemi]
                counts = pd.Series(alab[members]).value_counts()
                regions = "; ".join(f"{names.get(int(k), k)}: {int(v)}" for k, v in counts.items())
            rows.append({"test_map": name, "hemi": hemi, "cluster": c, "size": members.size,
                         "peak_t": float(np.nanmax(t)), "peak_tfce": float(maps["tfce"][hemi][peak]),
                         "peak_vertex": int(peak), "peak_x": float(coords[hemi][peak, 0]),
                         "peak_y": float(coords[hemi][peak, 1]), "peak_z": float(coords[hemi][peak, 2]),
                         "p": float(maps["p"][hemi][members].min()), "regions": regions})
    return pd.DataFrame(rows, columns=["test_map", "hemi", "cluster", "size", "peak_t", "peak_tfce", "peak_vertex",
                                       "peak_x", "peak_y", "peak_z", "p", "regions"])


def ground_truth_overlap(significant: dict, atlas: dict, region_types: dict) -> dict:
    """How well significant vertices recover the planted truth (synthetic data only).

    Parameters
    ----------
    significant : dict
        ``{hemi: bool array of shape (n_vertices,)}``.
    atlas : dict
        ``{hemi: (labels, {key: name})}``.
    region_types : dict
        Region name → ``visual``, ``language``, ``invariant``...

    Returns
    -------
    dict
        Dice with the planted invariant regions, and the numbers of significant, planted-invariant and
        significant-in-visual-or-language vertices.
    """
    sig_all, inv_all, spec = [], [], 0
    for hemi, (labels, names) in atlas.items():
        types = np.array([region_types.get(names.get(int(v), ""), "background") for v in labels])
        sig = np.asarray(significant[hemi], bool)
        sig_all.append(sig)
        inv_all.append(types == "invariant")
        spec += int((sig & np.isin(types, ["visual", "language"])).sum())
    sig, inv = np.concatenate(sig_all), np.concatenate(inv_all)
    denom = sig.sum() + inv.sum()
    return {"dice_invariant": float(2 * (sig & inv).sum() / denom) if denom else 0.0,
            "n_significant": int(sig.sum()), "n_planted_invariant": int(inv.sum()),
            "n_significant_in_visual_or_language": spec}
