"""The group stage on searchlight stores: null schemes, the smallest attainable p, and the warning when the
threshold is below it."""
import json

import numpy as np
import pytest

from amodal import data, searchlight, stats
from amodal.surface import HEMIS, N_VERTICES

STATS = {"test_maps": ["mod_agnostic_and_cross", "imagery", "imagery_unstd"], "n_permutations": 40,
         "p_threshold": 0.05, "tfce_e": 1.0, "tfce_h": 2.0, "tfce_dh": 0.1}


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """Two subjects' searchlight stores on fsaverage5 with noise around chance (3 null maps per block and all 6
    imagery orderings)."""
    root = tmp_path_factory.mktemp("stores")
    nv = N_VERTICES["fsaverage5"]
    g = np.random.default_rng(0)
    ima = searchlight.imagery_orderings(3, 6, g)
    paths = {}
    for subject in ("sub-01", "sub-02"):
        for mode in ("images", "captions", "agnostic"):
            for hemi in HEMIS:
                res = {"obs": {k: g.normal(0.5, 0.03, nv) for k in searchlight.OBS_METRICS},
                       "null": {k: g.normal(0.5, 0.03, (3, nv)) for k in searchlight.NULL_METRICS}}
                res["null"].update({k: g.normal(0.5, 0.03, (6, nv)) for k in searchlight.IMAGERY_NULL_METRICS})
                ds = searchlight.to_dataset(res, np.arange(nv), {"subject": subject}, imagery_perms=ima)
                path = root / f"{subject}_{mode}_{hemi}.zarr"
                data.write_store(ds, path)
                paths[(subject, mode, hemi)] = [path]
    return paths


def _run(stores, tmp_path, **cfg):
    logged = []
    summary = stats.group_analysis(stores, ["sub-01", "sub-02"], ("images", "captions", "agnostic"), "fsaverage5",
                                   None, dict(STATS, **cfg), 0, tmp_path, {}, log=logged.append)
    return summary, logged


def test_imagery_is_exact_and_the_smallest_p_is_recorded(stores, tmp_path):
    summary, logged = _run(stores, tmp_path)
    assert summary["imagery"]["null_scheme"] == "exact" and summary["imagery"]["n_null_maxima"] == 35
    assert summary["imagery_unstd"]["null_scheme"] == "exact"
    assert summary["mod_agnostic_and_cross"]["null_scheme"] == "monte_carlo"
    assert summary["mod_agnostic_and_cross"]["min_p"] == pytest.approx(1 / 41)
    assert not any("WARNING" in m for m in logged)
    side = json.loads(next(tmp_path.glob("*desc-imagery_stat-logp_statmap.json")).read_text())
    assert side["min_p"] == pytest.approx(1 / 36) and side["null_scheme"] == "exact"
    # -log10 p never exceeds what the null can give
    import nibabel as nib
    logp = nib.load(next(tmp_path.glob("*hemi-L*desc-imagery_stat-logp_statmap.func.gii"))).darrays[0].data
    assert logp.max() <= -np.log10(1 / 36) + 1e-6


def test_threshold_below_the_smallest_p_is_reported(stores, tmp_path):
    summary, logged = _run(stores, tmp_path, p_threshold=0.01)  # below 1/36 and 1/41
    warned = [m for m in logged if "WARNING" in m]
    assert len(warned) == 3 and any("imagery:" in m and "0.0278" in m for m in warned)
    side = json.loads((tmp_path / "clusters.json").read_text())
    assert not side["test_maps"]["imagery"]["p_threshold_reachable"] and len(side["warnings"]) == 3
    assert summary["imagery"]["n_significant"] == 0


def test_unequal_null_counts_fail_clearly(stores, tmp_path):
    odd = dict(stores)
    ds = data.read_store(stores[("sub-02", "agnostic", "left")][0], "searchlight")
    path = tmp_path / "short.zarr"
    data.write_store(ds.isel(imagery_perm=slice(0, 4)), path)
    odd[("sub-02", "agnostic", "left")] = [path]
    with pytest.raises(ValueError, match="short.zarr holds 4 imagery_perm null maps"):
        _run(odd, tmp_path / "out")
