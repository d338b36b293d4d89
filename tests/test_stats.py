"""Group statistics: t-maps, minimum maps, p-values, clusters, and the Stelzer null."""
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


def test_p_values_floor_and_ties():
    null = np.array([1.0, 2.0, 3.0, 4.0])
    p = stats.p_values(np.array([0.0, 2.0, 4.0, 5.0, np.nan]), null)
    np.testing.assert_allclose(p, [1.0, 0.75, 0.25, 0.25, 1.0])


def test_clusters_numbered_by_size():
    a = sp.diags([np.ones(9), np.ones(9)], [-1, 1], shape=(10, 10)).tocsr()  # a path graph
    sig = np.array([1, 0, 1, 1, 1, 0, 0, 1, 1, 0], bool)
    np.testing.assert_array_equal(stats.clusters(sig, a), [3, 0, 1, 1, 1, 0, 0, 2, 2, 0])


def test_group_null_draws_subjects_independently():
    # two subjects, 50 null maps each; with the reference's lexicographic scheme subject 1 would always use map 0
    n_sub, n_null, nv = 3, 50, 12
    rng_ = np.random.default_rng(0)
    null = {("agnostic", "acc_imagery_73"): rng_.normal(0.5, 0.05, size=(n_sub, n_null, nv))}
    a = sp.diags([np.ones(nv - 1), np.ones(nv - 1)], [-1, 1], shape=(nv, nv)).tocsr()
    maxima = stats.group_null(null, {"left": slice(0, nv)}, {"left": a}, ["imagery"], 300, 1,
                              {"e_power": 1.0, "h_power": 2.0, "dh": 0.1})
    assert maxima["imagery"].shape == (300,)
    assert np.unique(maxima["imagery"]).size > 200  # permutations really differ (TFCE values are quantised by dh)
    again = stats.group_null(null, {"left": slice(0, nv)}, {"left": a}, ["imagery"], 300, 1,
                             {"e_power": 1.0, "h_power": 2.0, "dh": 0.1})
    np.testing.assert_array_equal(maxima["imagery"], again["imagery"])


@pytest.mark.slow
def test_fwer_calibration():
    """Family-wise false-positive rate at p <= 0.05 within 0.02-0.08 over 200 null simulations (run with -m slow;
    bench/calibration.py runs the same with 400)."""
    from amodal.calibration import simulate_fwer

    res = simulate_fwer(n_sims=200, n_perm=1000)
    assert 0.02 <= res["fwer"] <= 0.08, res


def test_calibration_runs_small():
    from amodal.calibration import simulate_fwer

    res = simulate_fwer(n_sims=3, n_null=20, n_perm=50, grade=2)
    assert res["n_sims"] == 3 and 0 <= res["fwer"] <= 1


def test_figure_regions_follow_fig9_clusters():
    """Fig. 9 outlines the atlas regions its significant clusters overlap; Fig. 10 outlines the same ones (as in
    the paper); with no cluster every region but background and the medial wall is outlined."""
    import pandas as pd

    from amodal.sl_figures import figure9_regions

    names = {0: "background", 1: "VIS-occipital", 2: "INV-parietal", 3: "INV-temporal", 4: "medial-wall"}
    atlas = {h: (np.zeros(5, int), names) for h in ("left", "right")}
    clusters = pd.DataFrame({"test_map": ["mod_agnostic_and_cross", "mod_agnostic_and_cross", "imagery"],
                             "regions": ["INV-parietal: 307; background: 207", "INV-temporal: 3; medial-wall: 2",
                                         "VIS-occipital: 10"]})
    assert figure9_regions(atlas, clusters) == [2, 3]
    assert figure9_regions(atlas, clusters, "imagery") == [1]
    assert figure9_regions(atlas, clusters.iloc[:0]) == [1, 2, 3]
