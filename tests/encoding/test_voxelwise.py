"""The voxelwise encoder: its ridge equals scikit-learn's, its noise ceiling recovers a planted SNR, its retrieval
ranks behave at the extremes, and on synthetic data it finds the planted regions below their ceilings and nothing
at snr 0."""
import json

import numpy as np
import pytest

from amodal import data, encoding, metrics
from amodal.errors import DataError


def test_pearson_columns_matches_numpy(rng):
    a, b = rng.standard_normal((40, 5)), rng.standard_normal((40, 5))
    b[:, 0] += 2 * a[:, 0]
    expected = [np.corrcoef(a[:, j], b[:, j])[0, 1] for j in range(5)]
    np.testing.assert_allclose(metrics.pearson_columns(a, b), expected, rtol=1e-12)
    b[:, 1] = 3.0
    assert np.isnan(metrics.pearson_columns(a, b)[1])


def test_noise_ceiling_recovers_planted_snr(rng):
    n_stim, n_rep, nv = 400, 3, 300
    snr = np.linspace(0.5, 2.0, nv)  # signal SD over noise SD, per vertex
    signal = rng.standard_normal((n_stim, nv)) * snr
    singles = np.concatenate([signal + rng.standard_normal((n_stim, nv)) for _ in range(n_rep)])
    ids = np.tile(np.arange(n_stim).astype(str), n_rep)
    ncsnr, ceiling = encoding.noise_ceiling(singles, ids)
    # unbiased over vertices, and each estimate within sampling error (SD about 0.07 at 400 stimuli x 3 repeats)
    assert abs(np.mean(ncsnr - snr)) < 0.02 and np.mean(np.abs(ncsnr - snr)) < 0.08
    np.testing.assert_allclose(ncsnr, snr, atol=0.3)
    # the ceiling is the r that the true signal itself reaches against the averaged measurement
    averaged = singles.reshape(n_rep, n_stim, nv).mean(0)
    best = metrics.pearson_columns(signal, averaged)
    np.testing.assert_allclose(ceiling, best, atol=0.15)
    assert np.mean(np.abs(ceiling - best)) < 0.02


def test_noise_ceiling_needs_repeats():
    with pytest.raises(DataError, match="at least twice"):
        encoding.noise_ceiling(np.zeros((3, 2)), ["a", "a", "b"])


@pytest.mark.parametrize("method", ["primal", "dual"])
def test_single_band_equals_sklearn_ridge(rng, method):
    from sklearn.linear_model import Ridge

    x = rng.standard_normal((60, 20))
    y = x @ rng.standard_normal((20, 7)) + rng.standard_normal((60, 7))
    x_test = rng.standard_normal((15, 20))
    pred, deltas, _ = encoding.fit_banded_ridge([x], y, [x_test], alphas=[30.0], method=method)
    ref = Ridge(alpha=30.0, fit_intercept=False).fit(x, y).predict(x_test)
    np.testing.assert_allclose(pred, ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(deltas, -np.log(30.0), rtol=1e-5)


def test_dual_and_primal_give_the_same_banded_ridge(rng):
    bands = [rng.standard_normal((80, 12)), rng.standard_normal((80, 30))]
    y = bands[0] @ rng.standard_normal((12, 40)) * 2 + rng.standard_normal((80, 40))
    test = [rng.standard_normal((10, 12)), rng.standard_normal((10, 30))]
    kw = dict(alphas=np.logspace(-1, 3, 5), n_iter=8, seed=3)
    p1, d1, s1 = encoding.fit_banded_ridge(bands, y, test, method="primal", **kw)
    p2, d2, s2 = encoding.fit_banded_ridge(bands, y, test, method="dual", **kw)
    np.testing.assert_allclose(p1, p2, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(s1, s2, atol=1e-4)
    # the band that carries the signal gets the larger scaling
    assert np.median(d1[0] - d1[1]) > 1


def test_retrieval_ranks_at_the_extremes(rng):
    measured = rng.standard_normal((50, 300))
    # a perfect prediction up to each pattern's own scale and offset (correlation ignores both)
    scaled = measured * rng.uniform(0.5, 2, (50, 1)) + rng.uniform(-10, 10, (50, 1))
    assert (encoding.retrieval_ranks(scaled, measured) == 1).all()
    means = [encoding.retrieval_ranks(rng.standard_normal((50, 300)), measured).mean() for _ in range(40)]
    assert abs(np.mean(means) - 25.5) < 1.5  # (N + 1) / 2


def test_preprocessing_keeps_single_presentations(small_dataset):
    ds = data.preprocess_subject(small_dataset, "sub-01", "fsaverage5", log=lambda *a: None)
    rep = ds["repeats"]
    assert set(ds["presentation_split"].values) == {"test"}
    ids, mod = ds["presentation_stimulus_id"].values, ds["presentation_modality"].values
    for k in np.flatnonzero(ds["split"].values == "test")[:5]:
        sel = (ids == ds["stimulus_id"].values[k]) & (mod == ds["modality"].values[k])
        assert sel.sum() == ds["n_repeats"].values[k] == 2
        np.testing.assert_allclose(rep.values[sel].mean(0), ds["betas"].values[k], rtol=1e-5, atol=1e-5)
    singles, sid = encoding.repeated_presentations(ds, "image")
    assert singles.shape[0] == sid.size == 2 * 30


@pytest.mark.integration
def test_encoder_finds_planted_regions_below_their_ceiling_and_nothing_at_snr_0(default_snr_decoding):
    d = default_snr_decoding
    feats = d["features"]["minilm_gabor"]
    kw = dict(alphas=np.logspace(0, 6, 7), n_iter=10, seed=1, log=lambda *a: None)
    planted = json.loads(data.planted_json(d["root"] / "signal").read_text())["subjects"]["sub-01"]
    sig = encoding.encode_subject(d["betas"]["signal"]["sub-01"], feats, ["vision", "lang"], **kw)
    table, retrieval = encoding.summarize_subject(sig, planted)
    t = table.set_index("region_type")
    # image trials drive the visual and the invariant regions, not the language regions
    # (the Gabor pyramid explains less of the visual regions, which the synthetic brain drives by pixel colour)
    for region, bar in (("visual", 0.04), ("invariant", 0.1)):
        assert t.loc[region, "r_median"] > bar, t
        assert t.loc[region, "r_median"] < t.loc[region, "ceiling_median"], t
    assert abs(t.loc["language", "r_median"]) < 0.03 and abs(t.loc["background", "r_median"]) < 0.03, t
    assert retrieval["top1"] > 10 * retrieval["chance_top1"], retrieval
    null = encoding.encode_subject(d["betas"]["null"]["sub-01"], feats, ["vision", "lang"], **kw)
    r = null["r"].values
    assert abs(np.median(r)) < 0.02
    # with 70 test images, r > 0.198 has p < 0.05 one-sided; smooth noise makes vertices dependent, so allow a range
    assert 0.01 < np.mean(r > 0.198) < 0.1
    null_retrieval = encoding.summarize_subject(null)[1]
    assert abs(null_retrieval["mean_rank"] - null_retrieval["chance_mean_rank"]) < 8  # SD about 2.4
