"""Group statistics: t-maps, minimum maps, p-values, clusters, and the Stelzer null."""
import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from mne.stats import ttest_1samp_no_p

from amodal import stats


def test_ttest_matches_mne(rng):
    x = rng.normal(0.55, 0.05, size=(6, 500))
    np.testing.assert_allclose(stats.ttest_1samp(x, 0.5), ttest_1samp_no_p(x - 0.5, sigma=0), rtol=1e-10)
    x[:, 3] = 0.6  # zero variance
    assert np.isnan(stats.ttest_1samp(x, 0.5)[3])


def test_min_map_ignores_nan():
    ts = {k: np.array([1.0, np.nan, 3.0]) for k in stats.TEST_MAPS["mod_agnostic_and_cross"]}
    ts["captions_image"] = np.array([0.5, 2.0, np.nan])
    out = stats.test_map(ts, "mod_agnostic_and_cross")
    np.testing.assert_array_equal(out, [0.5, 2.0, 3.0])


def test_p_values_count_the_observed_map():
    null = np.array([1.0, 2.0, 3.0, 4.0])
    p = stats.p_values(np.array([0.0, 2.0, 4.0, 5.0, np.nan]), null)
    np.testing.assert_allclose(p, [1.0, 4 / 5, 2 / 5, 1 / 5, 1.0])  # (1 + #null >= obs) / (1 + N)
    # alpha * N = 1: one null maximum above the observed must not pass p <= alpha (a floor at 1/N let it)
    null20 = np.arange(1.0, 21.0)
    assert stats.p_values(np.array([20.5]), null20)[0] == pytest.approx(1 / 21)
    assert stats.p_values(np.array([19.5]), null20)[0] > 0.05


@pytest.mark.parametrize("n, alpha", [(20, 0.05), (19, 0.05), (1000, 0.05), (9999, 1e-4), (3, 0.1), (500, 0.01)])
def test_significance_cutoff_agrees_with_p_values(n, alpha):
    g = np.random.default_rng(n)
    null = np.round(g.gamma(2.0, 50.0, n), 1)  # ties included
    cut = stats.significance_cutoff(null, alpha)
    probe = np.unique(np.concatenate([null, null + 0.05, null - 0.05, [null.max() + 1]]))
    probe = probe[probe > 0]
    np.testing.assert_array_equal(stats.p_values(probe, null) <= alpha, probe > cut)


def test_exact_enumeration_of_exhaustive_nulls():
    """With every relabelling in each subject's null (identity at 0) and few enough configurations, the group
    null enumerates all of them but the observed one, so p is the exact permutation p."""
    picks, scheme = stats.group_configurations(6, 3, 10_000, 0, "imagery", exhaustive=True)
    assert scheme == "exact" and picks.shape == (6 ** 3 - 1, 3)
    assert len({tuple(r) for r in picks.tolist()}) == picks.shape[0] and not np.any(np.all(picks == 0, axis=1))
    assert stats.min_p(picks.shape[0]) == pytest.approx(1 / 216)
    # too many configurations, or a null that is not exhaustive: drawn from the seed
    picks, scheme = stats.group_configurations(6, 6, 10_000, 0, "imagery", exhaustive=True)
    assert scheme == "monte_carlo" and picks.shape == (10_000, 6) and stats.min_p(10_000) == pytest.approx(1 / 10_001)
    assert stats.group_configurations(6, 3, 10_000, 0, "imagery", exhaustive=False)[1] == "monte_carlo"


def test_group_null_batches_by_memory_and_gives_the_same_maxima(monkeypatch):
    """The default batch keeps a batch's test maps within BATCH_BYTES (the group stage's memory then stays flat at
    fsaverage7); the null maxima are the same whatever the batch."""
    from amodal.stats import _permutations

    n_sub, nv = 4, 30
    g = np.random.default_rng(5)
    null = {(mode, m): g.normal(0.5, 0.05, size=(n_sub, 20, nv)).astype(np.float32)
            for mode in ("agnostic", "images", "captions") for m in ("acc_image", "acc_caption")}
    a = sp.diags([np.ones(nv - 1), np.ones(nv - 1)], [-1, 1], shape=(nv, nv)).tocsr()
    kw = {"e_power": 1.0, "h_power": 2.0, "dh": 0.1}
    args = (null, {"left": slice(0, nv)}, {"left": a}, ["mod_agnostic_and_cross"], 150, 2, kw)
    sizes = []
    real = _permutations._max_tfce
    monkeypatch.setattr(_permutations, "_max_tfce", lambda *a: sizes.append(a[6]) or real(*a))
    whole = stats.group_null(*args, batch=150)["mod_agnostic_and_cross"]
    per_perm = nv * 8  # the one test map, float64
    monkeypatch.setattr(_permutations, "BATCH_BYTES", 7 * per_perm)
    small = stats.group_null(*args)["mod_agnostic_and_cross"]
    assert sizes == [150, 7]
    np.testing.assert_array_equal(small, whole)


def _numpy_group_null(null, picks, names, hemis, adjacency, kw):
    """The group null as numpy array operations (amodal's form before the compiled kernel): gather each
    permutation's null maps, t-maps, test maps, TFCE, maximum over hemispheres. Returns (test maps, maxima)."""
    from amodal.stats import _permutations as perm

    subj = np.arange(picks.shape[1])
    ts = perm.t_maps(perm.base_values({key: arr[subj[None, :], picks] for key, arr in null.items()}), axis=1)
    maps = {name: stats.test_map(ts, name) for name in names}  # the observed maps' functions, on (P, V)
    maxima = {name: np.max([stats.tfce(m[:, cols], adjacency[h], **kw).max(axis=1) for h, cols in hemis.items()],
                           axis=0) for name, m in maps.items()}
    return maps, maxima


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mesh", ["path", "ico4"])
def test_group_null_kernel_equals_the_numpy_form_to_the_bit(dtype, mesh):
    """The compiled test maps of the group null (one pass per permutation, no gathered copy) are the numpy form's
    to the last bit: differences in the maps' dtype, sums in subject order, NaN inputs, zero variance (a vertex
    equal in every subject) and all-NaN minima included; so are the TFCE maxima over two hemispheres, on a chain
    and on an icosahedron (ico-7's topology at a small grade), with a fixed seed."""
    from amodal.stats import _null_kernels, _permutations as perm
    from amodal.surface import adjacency, ico_mesh, smooth, smoothing_operator

    n_sub, n_null = 6, 30
    if mesh == "ico4":
        coords, faces = ico_mesh(4)
        n_h = coords.shape[0]  # 2,562 per hemisphere: more than one block of vertices, and a ragged last block
        adj = {h: adjacency(faces, n_h) for h in ("left", "right")}
    else:
        n_h = 2517
        adj = {h: sp.diags([np.ones(n_h - 1), np.ones(n_h - 1)], [-1, 1], shape=(n_h, n_h)).tocsr()
               for h in ("left", "right")}
    nv = 2 * n_h
    g = np.random.default_rng(11)
    keys = [(mode, m) for mode in ("agnostic", "images", "captions") for m in ("acc_image", "acc_caption")]
    null = {k: g.normal(0.5, 0.08, size=(n_sub, n_null, nv)).astype(dtype) for k in keys}
    if mesh == "ico4":  # smooth maps, as a searchlight's: clusters of many vertices above the thresholds
        op = smoothing_operator(faces, n_h)
        for k in keys:
            for h in range(2):
                part = null[k][:, :, h * n_h:(h + 1) * n_h].reshape(-1, n_h)
                f = smooth(part.T.astype(np.float64) - 0.5, op, 3).T
                null[k][:, :, h * n_h:(h + 1) * n_h] = (0.5 + 0.05 * f / f.std()).reshape(n_sub, n_null, n_h)
    null[keys[0]][:, :, 7] = 0.625  # zero variance: NaN in that component only
    for k in keys:
        null[k][:, :, 11] = 0.5  # zero variance in every component: NaN test map
    null[keys[1]][2, :, 40:60] = np.nan  # masked in one subject
    null[keys[3]][:, 5, 100] = np.nan
    hemis = {"left": slice(0, n_h), "right": slice(n_h, nv)}
    kw = {"e_power": 1.0, "h_power": 2.0, "dh": 0.1}
    names = ["mod_agnostic_and_cross", "cross_decoding", "diff_mod_agno_mod_specific"]
    picks, _ = stats.group_configurations(n_null, n_sub, 64, 3, "targets")
    want_maps, want_max = _numpy_group_null(null, picks, names, hemis, adj, kw)
    got = np.empty((len(names), picks.shape[0], nv))
    arrays = perm.List()
    for k in keys:
        arrays.append(null[k])
    _null_kernels.test_maps(arrays, picks.astype(np.int64), *perm._components(names, keys), got)
    for i, name in enumerate(names):
        np.testing.assert_array_equal(got[i], want_maps[name], err_msg=name)
    assert np.isnan(got[:, :, 11]).all() and not np.isnan(got[0, :, 7]).any()
    maxima = stats.group_null(null, hemis, adj, names, 64, 3, kw, batch=20)
    for name in names:
        np.testing.assert_array_equal(maxima[name], want_max[name], err_msg=name)
        assert (maxima[name] > 0).all() and np.unique(maxima[name]).size > 8, name  # not a trivial null


def test_group_null_enumerates_the_imagery_null():
    n_sub, nv = 3, 8
    g = np.random.default_rng(3)
    null = {("agnostic", m): g.normal(0.5, 0.05, size=(n_sub, 6, nv)) for m in ("acc_imagery_73",)}
    a = sp.diags([np.ones(nv - 1), np.ones(nv - 1)], [-1, 1], shape=(nv, nv)).tocsr()
    kw = {"e_power": 1.0, "h_power": 2.0, "dh": 0.1}
    info = {}
    maxima = stats.group_null(null, {"left": slice(0, nv)}, {"left": a}, ["imagery"], 1000, 1, kw,
                              exhaustive={"imagery": True}, info=info)
    assert info["imagery"]["null_scheme"] == "exact" and maxima["imagery"].shape == (215,)
    assert info["imagery"]["min_p"] == pytest.approx(1 / 216)
    # each configuration's maximum, recomputed by hand
    picks, _ = stats.group_configurations(6, n_sub, 1000, 1, "imagery", exhaustive=True)
    for row in (0, 100, 214):
        vals = null[("agnostic", "acc_imagery_73")][np.arange(n_sub), picks[row]]
        t = stats.ttest_1samp(vals, 0.5)
        assert maxima["imagery"][row] == pytest.approx(stats.tfce(t, a, **kw).max())


def test_group_permutations_draw_subjects_independently_and_uniformly():
    """Every subject's null index varies over all its null maps, uniformly and independently of the other
    subjects. The reference's first-N lexicographic tuples fail this: subject 1 would always use map 0."""
    n_sub, n_null, n_perm = 4, 50, 5000
    picks, scheme = stats.group_configurations(n_null, n_sub, n_perm, 1, "targets")
    assert scheme == "monte_carlo" and picks.shape == (n_perm, n_sub)
    for s in range(n_sub):
        counts = np.bincount(picks[:, s], minlength=n_null)
        expected = n_perm / n_null
        chi2 = ((counts - expected) ** 2 / expected).sum()
        assert chi2 < 100, (s, chi2)  # 49 degrees of freedom: p < 1e-5 beyond 100
    for s in range(n_sub - 1):  # pairs of subjects pick the same index about 1/n_null of the time
        assert abs(np.mean(picks[:, s] == picks[:, s + 1]) - 1 / n_null) < 0.01
    np.testing.assert_array_equal(picks, stats.group_configurations(n_null, n_sub, n_perm, 1, "targets")[0])
    lexicographic = np.array(list(itertools.islice(itertools.product(range(n_null), repeat=n_sub), n_perm)))
    assert np.unique(lexicographic[:, 0]).size == 1  # what the check above rules out


def test_group_null_uses_the_drawn_configurations():
    n_sub, n_null, nv = 3, 50, 12
    rng_ = np.random.default_rng(0)
    null = {("agnostic", "acc_image"): rng_.normal(0.5, 0.05, size=(n_sub, n_null, nv))}
    a = sp.diags([np.ones(nv - 1), np.ones(nv - 1)], [-1, 1], shape=(nv, nv)).tocsr()
    kw = {"e_power": 1.0, "h_power": 2.0, "dh": 0.1}
    # a one-component test map of the targets family, checked against the picks by hand
    stats.TEST_MAPS["_probe"] = ("agnostic_image",)
    try:
        maxima = stats.group_null(null, {"left": slice(0, nv)}, {"left": a}, ["_probe"], 300, 1, kw)["_probe"]
    finally:
        del stats.TEST_MAPS["_probe"]
    picks, _ = stats.group_configurations(n_null, n_sub, 300, 1, "targets")
    for row in (0, 17, 299):
        t = stats.ttest_1samp(null[("agnostic", "acc_image")][np.arange(n_sub), picks[row]], 0.5)
        assert maxima[row] == pytest.approx(stats.tfce(t, a, **kw).max())
    assert np.unique(maxima).size > 200


def test_clusters_numbered_by_size():
    a = sp.diags([np.ones(9), np.ones(9)], [-1, 1], shape=(10, 10)).tocsr()  # a path graph
    sig = np.array([1, 0, 1, 1, 1, 0, 0, 1, 1, 0], bool)
    np.testing.assert_array_equal(stats.clusters(sig, a), [3, 0, 1, 1, 1, 0, 0, 2, 2, 0])


@pytest.mark.slow
def test_fwer_calibration():
    """False-positive rates at p <= 0.05 within 0.02-0.08 over 1,000 pure-noise simulations, for the invariant and
    the imagery map, over the mesh and at a single vertex (run with -m slow: about 12 minutes on 2 cores;
    bench/calibration.py runs 1,600). With 200 simulations the binomial SE at 0.05 is 0.015, so a calibrated null
    leaves the band by chance: the first 200 of these gave 0.085 for the imagery map over the mesh, the 1,600 0.051."""
    from amodal.stats import simulate_fwer

    res = simulate_fwer(n_sims=1000, n_perm=1000, n_perm_single=46_656, n_jobs=2)
    for name in ("mod_agnostic_and_cross", "imagery"):
        for where in ("mesh", "vertex"):
            assert 0.02 <= res["rates"][name][where]["fwer"] <= 0.08, (name, where, res["rates"])
    assert res["rates"]["imagery"]["vertex"]["null_scheme"] == "exact"


def test_single_vertex_false_positive_rate():
    """At one vertex, through the pipeline's own searchlight scoring and permutations, p <= 0.05 happens in
    about 5% of pure-noise simulations for both maps. The reference's imagery null (two 3-cycles, never the
    identity) gives about 18% here."""
    from amodal.stats import simulate_fwer

    res = simulate_fwer(n_sims=300, n_subjects=4, n_null=20, n_perm=500, n_perm_single=6 ** 4, grade=1,
                        mesh=False)
    assert res["rates"]["imagery"]["vertex"]["null_scheme"] == "exact"
    for name in ("mod_agnostic_and_cross", "imagery"):
        assert 0.015 <= res["rates"][name]["vertex"]["fwer"] <= 0.085, res["rates"]
    # the record says what was simulated (bench/calibration.py writes it as the calibration's JSON)
    assert (res["n_subjects"], res["n_null"], res["n_perm"], res["n_vertices"]) == (4, 20, 500, 2 * 42)


def test_figure_regions_follow_fig9_clusters():
    """Fig. 9 outlines the atlas regions its significant clusters overlap; Fig. 10 outlines the same ones (as in
    the paper); with no cluster every region but background and the medial wall is outlined."""
    import pandas as pd

    from amodal.viz import figure9_regions

    names = {0: "background", 1: "VIS-occipital", 2: "INV-parietal", 3: "INV-temporal", 4: "medial-wall"}
    atlas = {h: (np.zeros(5, int), names) for h in ("left", "right")}
    clusters = pd.DataFrame({"test_map": ["mod_agnostic_and_cross", "mod_agnostic_and_cross", "imagery"],
                             "regions": ["INV-parietal: 307; background: 207", "INV-temporal: 3; medial-wall: 2",
                                         "VIS-occipital: 10"]})
    assert figure9_regions(atlas, clusters) == [2, 3]
    assert figure9_regions(atlas, clusters, "imagery") == [1]
    assert figure9_regions(atlas, clusters.iloc[:0]) == [1, 2, 3]
