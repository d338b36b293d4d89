"""Each decoder standardises its betas with its own train rows (METHOD §10), whole-brain and searchlight alike;
repeated test presentations are scored against each unique stimulus once."""
import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

from amodal import data as amodal_data
from amodal import evaluation, features, metrics, searchlight
from amodal.standardize import standardize_train, train_stats
from amodal.surface import load_mesh

ALPHAS = [10.0 ** k for k in range(0, 6)]
QUIET = {"log": lambda *a: None}


@pytest.fixture(scope="module")
def subject(small_dataset):
    b = amodal_data.preprocess_subject(small_dataset, "sub-01", "fsaverage5", **QUIET)
    f = features.extract("minilm", amodal_data.read_stimuli(small_dataset), small_dataset / "stimuli", **QUIET)
    return b, f


def with_caption_offset(b, seed=0):
    """The store preprocessing would write had every caption trial a constant offset per vertex (a main effect of
    modality, as real data have): the offset is added before preprocessing's z-scoring with all train trials."""
    raw = b["betas"].values.astype(np.float64)
    offset = np.random.default_rng(seed).normal(0.0, 2.0, raw.shape[1])
    cap = b["modality"].values == "caption"
    shifted = raw + np.where(cap[:, None], offset, 0.0)
    z, _, _ = amodal_data.zscore_train(shifted, b["split"].values == "train")
    return b.assign(betas=(("trial", "vertex"), z)), shifted


def test_train_stats():
    x = np.array([[1.0, 5.0], [3.0, 5.0], [100.0, 0.0]])
    mean, sd = train_stats(x, np.array([0, 1]))
    np.testing.assert_allclose(mean, [2.0, 5.0])
    np.testing.assert_allclose(sd, [1.0, 1.0])  # a constant column keeps SD 1: it is only centred
    np.testing.assert_allclose(standardize_train(x, np.array([True, True, False]))[2], [98.0, -5.0])
    with pytest.raises(ValueError, match="constant over the train rows"):
        train_stats(x, np.array([0, 1]), constant="raise")


def test_block_wise_standardising_is_exact(monkeypatch):
    """Statistics and standardised values are computed one column block at a time (no float64 copy of the betas),
    bit for bit as on the whole matrix, in float64 and straight into float32."""
    from amodal import standardize
    from amodal.standardize import StandardizedRows, standardize_with

    g = np.random.default_rng(0)
    x = (g.normal(size=(50, 103)) * g.uniform(0.1, 5, 103) + g.normal(size=103) * 10).astype(np.float32)
    rows = np.sort(g.choice(50, 35, replace=False))
    full = x[rows].astype(np.float64)
    mean, sd = full.mean(0), full.std(0)
    whole = (x.astype(np.float64) - mean) / sd
    monkeypatch.setattr(standardize, "BLOCK_BYTES", 35 * 8 * 10)  # 10 columns per block
    assert len(standardize.column_blocks((35, 103))) == 11
    m, s = train_stats(x, rows)
    np.testing.assert_array_equal(m, mean)
    np.testing.assert_array_equal(s, sd)
    np.testing.assert_array_equal(standardize_train(x, rows), whole)
    np.testing.assert_array_equal(standardize_train(x, rows, dtype=np.float32), whole.astype(np.float32))
    np.testing.assert_array_equal(np.asarray(StandardizedRows(x, rows, m, s)), whole[rows])
    np.testing.assert_array_equal(StandardizedRows(x, rows, m, s).columns(slice(7, 31)), whole[rows, 7:31])
    np.testing.assert_array_equal(standardize_with(x, slice(3, 9), m, s), whole[3:9])


def test_images_decoder_ignores_a_caption_offset(subject):
    b, f = subject
    shifted, _ = with_caption_offset(b)
    mod = b["modality"].values
    runs = [evaluation.decode(bb, f, ["lang"], "images", alphas=ALPHAS, seed=1, **QUIET) for bb in (b, shifted)]
    (p0, s0, i0), (p1, s1, i1) = runs
    assert i0["feature_sets"]["lang"]["alpha"] == i1["feature_sets"]["lang"]["alpha"]
    not_cap = p0["modality"].values != "caption"
    np.testing.assert_allclose(p1["pred_lang"].values[not_cap], p0["pred_lang"].values[not_cap], atol=1e-5)
    # caption-trial predictions move by one constant vector, which the z-scoring before scoring removes
    diff = p1["pred_lang"].values[~not_cap] - p0["pred_lang"].values[~not_cap]
    np.testing.assert_allclose(diff, np.broadcast_to(diff.mean(0), diff.shape), atol=1e-4)
    keep = ~((s0.eval_modality == "caption") & s0.metric.str.endswith("unstd"))
    np.testing.assert_allclose(s1.value[keep].to_numpy(), s0.value[keep].to_numpy(), atol=1e-12)
    assert (mod == "caption").any()


def test_agnostic_decoder_follows_the_reference_scheme(subject):
    """The agnostic decoder standardises with all its train rows (both modalities), as the reference's
    StandardScaler + Ridge(fit_intercept=False) does on the same data."""
    b, f = subject
    shifted, raw = with_caption_offset(b)
    preds, _, info = evaluation.decode(shifted, f, ["lang"], "agnostic", alphas=ALPHAS, seed=1, **QUIET)
    alpha = info["feature_sets"]["lang"]["alpha"]
    split = b["split"].values
    train = split == "train"
    ev = np.concatenate([np.flatnonzero(split == "test"), np.flatnonzero(split == "imagery")])  # decode's order
    y = features.targets_for(f, "lang", b["stimulus_id"].values)
    sx, sy = StandardScaler().fit(raw[train]), StandardScaler().fit(y[train])
    ref = Ridge(alpha=alpha, fit_intercept=False).fit(sx.transform(raw[train]), sy.transform(y[train]))
    np.testing.assert_allclose(preds["pred_lang"].values, ref.predict(sx.transform(raw[ev])), rtol=1e-4, atol=1e-4)


def test_searchlight_standardises_per_mode(subject):
    b, f = subject
    shifted, _ = with_caption_offset(b)
    coords = load_mesh("fsaverage5", "inflated")["left"].coords
    out = []
    for bb in (b, shifted):
        data = searchlight.prepare(bb, f, "lang", "images", "left", torch.device("cpu"), torch.float64)
        neigh, _ = searchlight.neighbourhoods(coords[data.vertex_index], 30)
        perms = searchlight.null_permutations(data.cand_image.size, data.cand_caption.size, data.cand_imagery.size,
                                              6, 0, "sub-01")
        out.append(searchlight.run(data, neigh, np.arange(0, neigh.shape[0], 500), perms))
    for k in searchlight.OBS_METRICS:
        np.testing.assert_allclose(out[1]["obs"][k], out[0]["obs"][k], atol=1e-12, err_msg=k)
    for k in out[0]["null"]:
        np.testing.assert_allclose(out[1]["null"][k], out[0]["null"][k], atol=1e-6, err_msg=k)


@pytest.fixture(scope="module")
def single_trials(small_dataset, subject):
    return amodal_data.preprocess_subject(small_dataset, "sub-01", "fsaverage5", average=False, **QUIET), subject[1]


def _unique_accuracy(pred, target_rows, sid, y):
    """Independent: each trial against every unique stimulus of its block once (scipy, StandardScaler)."""
    ids = list(dict.fromkeys(sid[target_rows]))
    cand = np.stack([y[target_rows[sid[target_rows] == s][0]] for s in ids])
    t = np.array([ids.index(s) for s in sid[target_rows]])
    d = cdist(StandardScaler().fit_transform(pred), cand, "cosine")
    return np.array([(d[i, t[i]] < np.delete(d[i], t[i])).mean() for i in range(len(t))])


def test_repeats_are_scored_against_unique_stimuli(single_trials):
    b, f = single_trials
    sid = b["stimulus_id"].values.astype(str)
    test_img = np.flatnonzero((b["split"].values == "test") & (b["modality"].values == "image"))
    assert np.unique(sid[test_img]).size < test_img.size  # repeats are kept as trials
    preds, scores, _ = evaluation.decode(b, f, ["lang"], "agnostic", alphas=ALPHAS, seed=1, **QUIET)
    rows = np.flatnonzero((preds["split"].values == "test") & (preds["modality"].values == "image"))
    y = preds["target_lang"].values
    expected = _unique_accuracy(preds["pred_lang"].values[rows], rows, preds["stimulus_id"].values.astype(str), y)
    got = scores[(scores.eval_modality == "image") & (scores.metric == "pairwise_acc")].value.to_numpy()
    np.testing.assert_allclose(got, expected, atol=1e-12)
    # perfect predictions of repeated stimuli are perfect: a repeat is never a wrong candidate
    cand_rows, target = metrics.unique_candidates(rows, preds["stimulus_id"].values.astype(str))
    perfect = torch.as_tensor(y[rows])
    assert float(metrics.pairwise_accuracy(perfect, torch.as_tensor(y[cand_rows]), target=target)) == 1.0


def test_searchlight_scores_repeats_against_unique_stimuli(single_trials):
    b, f = single_trials
    coords = load_mesh("fsaverage5", "inflated")["left"].coords
    data = searchlight.prepare(b, f, "lang", "agnostic", "left", torch.device("cpu"), torch.float64)
    assert data.cand_image.size < data.test_image.size
    neigh, _ = searchlight.neighbourhoods(coords[data.vertex_index], 30)
    perms = searchlight.null_permutations(data.cand_image.size, data.cand_caption.size, data.cand_imagery.size, 5,
                                          0, "sub-01")
    centres = np.array([10, 3000])
    res = searchlight.run(data, neigh, centres, perms)
    x, y = data.x[:, :-1].numpy(), data.y.numpy()
    sid = b["stimulus_id"].values.astype(str)
    for j, c in enumerate(centres):
        ridge = Ridge(alpha=1.0, fit_intercept=False).fit(x[data.train][:, neigh[c]], y[data.train])
        pred = ridge.predict(x[data.test_image][:, neigh[c]])
        expected = _unique_accuracy(pred, data.test_image, sid, y).mean()
        assert res["obs"]["acc_image"][j] == pytest.approx(expected, abs=1e-9)
