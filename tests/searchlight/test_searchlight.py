"""The batched searchlight equals nilearn's search_light with scikit-learn Ridge on the same neighbourhoods."""
import itertools

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from nilearn.decoding.searchlight import search_light
from sklearn.linear_model import Ridge
from scipy.spatial.distance import cdist
from sklearn.model_selection import PredefinedSplit
from sklearn.preprocessing import StandardScaler

from amodal import data as amodal_data
from amodal import features, searchlight
from amodal.surface import load_mesh


@pytest.fixture(scope="module")
def inputs(small_dataset):
    b = amodal_data.preprocess_subject(small_dataset, "sub-01", "fsaverage5", log=lambda *a: None)
    f = features.extract("minilm", amodal_data.read_stimuli(small_dataset), small_dataset / "stimuli",
                         log=lambda *a: None)
    return b, f, load_mesh("fsaverage5", "inflated")


def ref_accuracy(pred, cand, standardize=True):
    """An independent pairwise accuracy (scikit-learn's StandardScaler, scipy's cosine distance, a loop over
    rows): prediction i's target is candidate i; the other candidates are its wrong ones; ties are wrong."""
    if standardize:
        pred = StandardScaler().fit_transform(pred)
    d = cdist(pred, cand, "cosine")
    return float(np.mean([(d[i, i] < np.delete(d[i], i)).mean() for i in range(pred.shape[0])]))


def _nilearn(data, neigh, centres, test_rows, alpha, extra_cand=None, standardize=True):
    """nilearn's search_light with scikit-learn Ridge and :func:`ref_accuracy` (candidates: the test rows'
    targets, then ``extra_cand``)."""
    x, y = data.x[:, :-1].double().numpy(), data.y.double().numpy()
    rows = np.concatenate([data.train, test_rows])
    fold = np.r_[np.full(data.train.size, -1), np.zeros(test_rows.size)]
    a = sp.lil_matrix((centres.size, x.shape[1]), dtype=bool)
    for i, c in enumerate(centres):
        a[i, neigh[c][neigh[c] >= 0]] = True

    def scorer(est, x_te, y_te):
        cand = y_te if extra_cand is None else np.concatenate([y_te, extra_cand])
        return ref_accuracy(est.predict(x_te), cand, standardize)

    return search_light(x[rows], y[rows], Ridge(alpha=alpha, fit_intercept=False), a, scoring=scorer,
                        cv=PredefinedSplit(fold), n_jobs=1).ravel()


_NILEARN_SCORES = {}  # (mode, hemi, neighbourhood, solver, metric) -> nilearn's scores, for both dtypes


@pytest.mark.parametrize("mode, hemi, nb, solver", [("agnostic", "left", {"n_neighbors": 40}, "direct"),
                                                    ("images", "right", {"radius": 12.0}, "direct"),
                                                    ("captions", "left", {"n_neighbors": 25}, "direct"),
                                                    ("agnostic", "right", {"n_neighbors": 250}, "shared"),
                                                    ("agnostic", "right", {"n_neighbors": 250}, "direct"),
                                                    ("images", "left", {"radius": 12.0}, "shared")])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_matches_nilearn_search_light(inputs, mode, hemi, nb, solver, dtype):
    b, f, mesh = inputs
    coords = mesh[hemi].coords
    data = searchlight.prepare(b, f, "lang", mode, hemi, torch.device("cpu"), torch.float64)
    neigh, sizes = searchlight.neighbourhoods(coords[data.vertex_index], nb.get("n_neighbors"), nb.get("radius"))
    if "radius" in nb:
        assert sizes.min() < sizes.max()  # padded neighbourhoods of different sizes are exercised
    centres = np.arange(0, neigh.shape[0], 311)
    if solver == "shared":  # a dense patch too, so that groups share most of their neighbourhoods
        near = np.argsort(np.linalg.norm(coords[data.vertex_index] - coords[data.vertex_index][100], axis=1))
        centres = np.union1d(centres, near[:40])
    ours_data = searchlight.prepare(b, f, "lang", mode, hemi, torch.device("cpu"), dtype)
    perms = searchlight.null_permutations(data.test_image.size, data.test_caption.size, data.imagery.size, 5, 0,
                                          "sub-01")
    res = searchlight.run(ours_data, neigh, centres, perms, alpha=1.0, batch_size=8, solver=solver,
                          coords=coords[data.vertex_index], group_size=8)
    assert res["solver"] == solver
    y_img = data.y[data.test_image].double().numpy()
    for metric, rows, extra, std in (("acc_image", data.test_image, None, True),
                                     ("acc_caption", data.test_caption, None, True),
                                     ("acc_imagery", data.imagery, None, True),
                                     ("acc_imagery_unstd", data.imagery, None, False),
                                     ("acc_imagery_73", data.imagery, y_img, True),
                                     ("acc_imagery_73_unstd", data.imagery, y_img, False)):
        key = (mode, hemi, tuple(nb.items()), solver, metric)
        if key not in _NILEARN_SCORES:  # the reference is float64 whatever the dtype under test: computed once
            _NILEARN_SCORES[key] = _nilearn(data, neigh, centres, rows, 1.0, extra, std)
        ref = _NILEARN_SCORES[key]
        m = rows.size + (0 if extra is None else extra.shape[0])
        atol = 1e-9
        if dtype == torch.float32:
            # float32 predictions carry ~1e-6 (25 vertices) to ~4e-5 (250 vertices and 240 training trials)
            # relative error with either solver (measured against float64), enough to flip a near-tie pair now
            # and then; allow one pair, two for the large neighbourhoods
            atol = (2.0 if sizes.max() > 100 else 1.0) / (rows.size * (m - 1)) + 1e-9
        np.testing.assert_allclose(res["obs"][metric], ref, atol=atol, err_msg=metric)


def test_searchlight_subject_store(inputs):
    b, f, mesh = inputs
    ds = searchlight.searchlight_subject(b, f, "lang", "agnostic", "left", mesh["left"].coords, n_neighbors=20,
                                         n_perm=3, shard=(1, 3))
    assert ds["scores"].dims == ("metric", "vertex") and ds["null"].shape[:2] == (3, len(searchlight.NULL_METRICS))
    # 3 null maps requested, fewer than the 6 orderings of the 3 imagery targets: 3 drawn from all of them
    assert ds["null_imagery"].shape[:2] == (3, len(searchlight.IMAGERY_NULL_METRICS))
    assert ds.attrs["imagery_null_exhaustive"] == "0"
    full = searchlight.searchlight_subject(b, f, "lang", "agnostic", "left", mesh["left"].coords, n_neighbors=20,
                                           n_perm=6, shard=(1, 3))
    assert full["null_imagery"].shape[0] == 6 and full.attrs["imagery_null_exhaustive"] == "1"
    np.testing.assert_array_equal(full["imagery_perms"].values[0], [0, 1, 2])
    n_left = int((b["hemi"].values == "left").sum())
    expected = searchlight.shard_centres(mesh["left"].coords[b["vertex_index"].values[b["hemi"].values == "left"]],
                                         1, 3)
    assert ds.sizes["vertex"] == expected.size and abs(expected.size - n_left / 3) <= 1
    assert np.isfinite(ds["scores"].values).all()


def test_shards_are_compact_partition():
    """Shards cover every centre once, differ in size by at most one, and are compact patches: far tighter than
    runs of the vertex numbering, which on fsaverage is a coarse lattice over the whole hemisphere."""
    coords = load_mesh("fsaverage5", "inflated")["left"].coords
    shards = [searchlight.shard_centres(coords, k, 4) for k in range(4)]
    allc = np.concatenate(shards)
    assert allc.size == coords.shape[0] and np.unique(allc).size == coords.shape[0]
    assert max(s.size for s in shards) - min(s.size for s in shards) <= 1
    assert all(np.all(np.diff(s) > 0) for s in shards)

    def spread(c):
        return np.linalg.norm(coords[c] - coords[c].mean(0), axis=1).mean()

    by_index = np.array_split(np.arange(coords.shape[0]), 4)
    assert max(spread(s) for s in shards) < 0.75 * min(spread(s) for s in by_index)
    with pytest.raises(ValueError, match="shard 4"):
        searchlight.shard_centres(coords, 4, 4)


def test_null_is_permuted_targets(inputs):
    """Each null map equals rescoring the same predictions against permuted targets (no refit), checked with an
    independent implementation (scikit-learn Ridge, scipy distances) for the image block and every imagery
    metric. The imagery null is every ordering of the 3 imagery targets, identity first: the identity's null
    value is the observed one."""
    b, f, mesh = inputs
    data = searchlight.prepare(b, f, "lang", "agnostic", "left", torch.device("cpu"), torch.float64)
    neigh, _ = searchlight.neighbourhoods(mesh["left"].coords[data.vertex_index], 30)
    perms = searchlight.null_permutations(data.test_image.size, data.test_caption.size, data.imagery.size, 6, 0,
                                          "sub-01")
    centres = np.array([0, 500, 4000])
    res = searchlight.run(data, neigh, centres, perms, alpha=1.0)
    img_p, _, ima_p = perms
    assert not np.any(img_p == np.arange(img_p.shape[1]))  # derangements
    assert ima_p.tolist() == [list(p) for p in itertools.permutations(range(3))]  # all 6, identity first
    x, y = data.x[:, :-1].numpy(), data.y.numpy()
    yi, ym = y[data.test_image], y[data.imagery]
    for j, c in enumerate(centres):
        nb = neigh[c]
        ridge = Ridge(alpha=1.0, fit_intercept=False).fit(x[data.train][:, nb], y[data.train])
        pred = ridge.predict(x[data.test_image][:, nb])
        pm = ridge.predict(x[data.imagery][:, nb])
        assert res["obs"]["acc_image"][j] == pytest.approx(ref_accuracy(pred, yi), abs=1e-9)
        for p in range(img_p.shape[0]):
            # permutation p gives trial i the target of stimulus img_p[p, i]
            assert res["null"]["acc_image"][p, j] == pytest.approx(ref_accuracy(pred, yi[img_p[p]]), abs=1e-6)
        for p in range(ima_p.shape[0]):
            ymp = ym[ima_p[p]]
            expected = {"acc_imagery": ref_accuracy(pm, ymp), "acc_imagery_unstd": ref_accuracy(pm, ymp, False),
                        "acc_imagery_73": ref_accuracy(pm, np.concatenate([ymp, yi])),
                        "acc_imagery_73_unstd": ref_accuracy(pm, np.concatenate([ymp, yi]), False)}
            for metric, value in expected.items():
                assert res["null"][metric][p, j] == pytest.approx(value, abs=1e-6), (metric, p)
                if p == 0:
                    assert res["obs"][metric][j] == pytest.approx(value, abs=1e-9), metric


def test_imagery_null_holds_every_ordering():
    for n_perm in (6, 100):
        ima = searchlight.null_permutations(70, 70, 3, n_perm, 5, "sub-01")[2]
        assert ima.shape == (6, 3) and searchlight.imagery_null_is_exhaustive(ima)
        assert {tuple(r) for r in ima.tolist()} == set(itertools.permutations(range(3)))
    # fewer null maps than orderings: drawn uniformly from all of them, identity included
    ima = searchlight.null_permutations(70, 70, 4, 20_000, 5, "sub-01")[2]
    assert ima.shape == (24, 4)
    drawn = searchlight.imagery_orderings(3, 5, np.random.default_rng(0))
    assert drawn.shape == (5, 3) and not searchlight.imagery_null_is_exhaustive(drawn)
    many = np.concatenate([searchlight.imagery_orderings(3, 5, np.random.default_rng(i)) for i in range(2000)])
    counts = np.unique(many, axis=0, return_counts=True)[1]
    assert counts.size == 6 and counts.min() > 1450 and counts.max() < 1900  # identity too, each about 1/6


def test_same_permutations_for_every_decoder():
    a = searchlight.null_permutations(70, 70, 3, 10, 5, "sub-01")
    b = searchlight.null_permutations(70, 70, 3, 10, 5, "sub-01")
    c = searchlight.null_permutations(70, 70, 3, 10, 5, "sub-02")
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])


def test_local_gram_equals_full_gram(inputs):
    b, f, mesh = inputs
    data = searchlight.prepare(b, f, "lang", "images", "right", torch.device("cpu"), torch.float64)
    neigh, _ = searchlight.neighbourhoods(mesh["right"].coords[data.vertex_index], radius=8.0)
    perms = searchlight.null_permutations(data.test_image.size, data.test_caption.size, data.imagery.size, 3, 0, "s")
    centres = np.arange(0, neigh.shape[0], 97)
    full = searchlight.run(data, neigh, centres, perms, gram="full")
    local = searchlight.run(data, neigh, centres, perms, gram="local")
    assert full["gram"] == "full" and local["gram"] == "local"
    for k in searchlight.OBS_METRICS:
        np.testing.assert_allclose(local["obs"][k], full["obs"][k], atol=1e-9)
    for k in searchlight.NULL_METRICS:
        np.testing.assert_allclose(local["null"][k], full["null"][k], atol=1e-6)


@pytest.fixture(scope="module")
def left_k250(inputs):
    b, f, mesh = inputs
    data = searchlight.prepare(b, f, "lang", "agnostic", "left", torch.device("cpu"), torch.float64)
    coords = mesh["left"].coords[data.vertex_index]
    neigh, _ = searchlight.neighbourhoods(coords, 250)
    perms = searchlight.null_permutations(data.test_image.size, data.test_caption.size, data.imagery.size, 6, 0, "s")
    centres = np.sort(np.argsort(np.linalg.norm(coords - coords[2000], axis=1))[:150])
    return b, f, data, coords, neigh, perms, centres


@pytest.mark.parametrize("gram", ["full", "local"])
def test_shared_solver_equals_direct(left_k250, gram):
    # the block elimination is exact: in float64 every score of every centre equals the direct solve's
    _, _, data, coords, neigh, perms, centres = left_k250
    direct = searchlight.run(data, neigh, centres, perms, solver="direct", gram=gram)
    plan = searchlight.shared_plan(neigh, centres, coords, 16)
    assert len({(s.size, r.size) for s, r in zip(plan.shared, plan.rest)}) > 1  # several padded shapes
    assert np.median([s.size for s in plan.shared]) > 100  # the groups do share most of their vertices
    shared = searchlight.run(data, neigh, centres, perms, solver="shared", coords=coords, group_size=16, gram=gram)
    assert shared["solver"] == "shared"
    for k in searchlight.OBS_METRICS:
        np.testing.assert_array_equal(shared["obs"][k], direct["obs"][k])
    for k in searchlight.NULL_METRICS:
        np.testing.assert_array_equal(shared["null"][k], direct["null"][k])


def test_shared_solver_does_not_depend_on_batch_size(left_k250):
    b, f, data, coords, neigh, perms, centres = left_k250
    data32 = searchlight.prepare(b, f, "lang", "agnostic", "left", torch.device("cpu"), torch.float32)
    runs = [searchlight.run(data32, neigh, centres, perms, solver="shared", coords=coords, group_size=16,
                            batch_size=bs) for bs in (16, 48, 1000)]
    for k in searchlight.OBS_METRICS:
        for other in runs[1:]:
            np.testing.assert_array_equal(other["obs"][k], runs[0]["obs"][k])


def test_take_block_and_rows_equal_indexing():
    g = torch.Generator().manual_seed(0)
    src = torch.randn(3, 40, 40, generator=g)
    which = torch.tensor([2, 0, 2, 1])
    idx = torch.randint(0, 40, (4, 11), generator=g)
    expected = src[which.view(-1, 1, 1), idx.unsqueeze(-1), idx.unsqueeze(-2)]
    assert torch.equal(searchlight.take_block(src, which, idx), expected)
    assert torch.equal(searchlight.take_block(src[1], None, idx), src[1][idx.unsqueeze(-1), idx.unsqueeze(-2)])
    assert torch.equal(searchlight.take_rows(src, which, idx), src[which.view(-1, 1), idx])
    assert torch.equal(searchlight.take_rows(src[0], None, idx), src[0][idx])


def test_centre_groups_partition_and_stay_compact():
    coords = load_mesh("fsaverage5", "inflated")["left"].coords
    groups = searchlight.centre_groups(coords, 32)
    allc = np.concatenate(groups)
    assert np.array_equal(np.sort(allc), np.arange(coords.shape[0])) and max(g.size for g in groups) <= 32
    spread = np.median([np.ptp(coords[g], axis=0).max() for g in groups])
    assert spread < 0.1 * np.ptp(coords, axis=0).max()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_win_sums_kernel_equals_win_matrix(dtype):
    # the CPU kernel and the torch path (used on CUDA) count the same wins, ties included (ties are wrong)
    g = torch.Generator().manual_seed(1)
    dist = torch.randint(0, 6, (5, 7, 9), generator=g).to(dtype) / 5  # many exact ties
    targets = np.stack([np.random.default_rng(i).permutation(9)[:7] for i in range(4)])
    sums = searchlight.win_sums(dist, targets)
    a = searchlight.win_matrix(dist)
    idx = torch.arange(7)
    assert torch.equal(sums, a[:, idx.unsqueeze(0).expand(4, 7), torch.as_tensor(targets)].sum(-1))
    # and win_matrix is the definition: wins of row i for target t = #{j != t: dist[i, j] > dist[i, t]}
    brute = (dist.unsqueeze(-2) > dist.unsqueeze(-1)).sum(-1)
    assert torch.equal(a, brute)
    assert torch.equal(searchlight.win_sums_torch(dist, targets), sums)  # the CUDA path, run on the CPU


def test_target_assignments_never_map_onto_a_repeat():
    """With repeats kept as trials, a derangement of the unique stimuli moves every trial (and all its repeats)
    onto another stimulus."""
    target = np.array([0, 1, 2, 0, 1, 2, 3])  # 4 stimuli, 3 of them presented twice
    perms = np.stack([searchlight.derangement(4, np.random.default_rng(i)) for i in range(50)])
    asg = searchlight.target_assignments(target, perms)
    np.testing.assert_array_equal(asg[0], target)
    assert not np.any(asg[1:] == target)


def test_the_schema_offers_every_registered_solver():
    import yaml

    from amodal import config

    schema = yaml.safe_load(config.SCHEMA_PATH.read_text())
    assert schema["properties"]["searchlight"]["properties"]["solver"]["enum"] == ["auto", *searchlight.SOLVERS]
    with pytest.raises(ValueError, match="must be one of"):
        searchlight.choose_solver("cholesky", np.zeros((3, 2), int), None)


@pytest.mark.parametrize("solver", list(searchlight.SOLVERS))
def test_out_of_memory_halves_the_batch_and_goes_on(left_k250, monkeypatch, solver):
    _, _, data, coords, neigh, perms, centres = left_k250
    expected = searchlight.run(data, neigh, centres, perms, solver=solver, coords=coords, group_size=16)
    real = torch.linalg.cholesky

    def small_memory(g, *a, **kw):  # a device that cannot hold more than 20 matrices of a batch
        if g.shape[0] > 20:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(g, *a, **kw)

    monkeypatch.setattr(torch.linalg, "cholesky", small_memory)
    logged = []
    res = searchlight.run(data, neigh, centres, perms, solver=solver, coords=coords, group_size=16,
                          batch_size=512, log=logged.append)
    assert res["batch_size"] < 512 // (16 if solver == "shared" else 1)
    assert any("batch halved" in m for m in logged)
    for k in searchlight.OBS_METRICS:
        np.testing.assert_array_equal(res["obs"][k], expected["obs"][k])


def test_region_summary_over_all_and_each_region():
    scores = np.array([0.5, 0.6, 0.7, 0.9, 1.0])
    region = np.array(["b", "a", "b", "a", "b"])
    rows = searchlight.region_summary(scores, region)
    assert [r[0] for r in rows] == ["all", "a", "b"]
    np.testing.assert_allclose([r[1] for r in rows], [0.74, 0.75, 0.7333333333333333])
    np.testing.assert_allclose(rows[1][2], np.quantile([0.6, 0.9], 0.99))


def test_size_sweep_table_equals_the_searchlight_it_summarises(inputs, small_dataset):
    b, f, mesh = inputs
    atlas = amodal_data.read_atlas(small_dataset)
    table = searchlight.size_sweep(b, f, "lang", [12], atlas, "fsaverage5", "sub-01", alpha=1.0, seed=3,
                                   device="cpu", dtype=torch.float32, batch_size=512)
    assert list(table.columns) == ["subject", "n_neighbors", "hemi", "metric", "region", "mean", "p99"]
    assert set(table.hemi) == {"left", "right"} and set(table.metric) == {"acc_image", "acc_caption"}
    ds = searchlight.searchlight_subject(b, f, "lang", "agnostic", "right", mesh["right"].coords, n_neighbors=12,
                                         n_perm=0, seed=3, dtype=torch.float32)
    labels, names = atlas["right"]
    region = np.array([names[int(v)] for v in labels[ds["vertex_index"].values]])
    acc = ds["scores"].sel(metric="acc_caption").values
    row = table[(table.hemi == "right") & (table.metric == "acc_caption")]
    assert row.iloc[0]["region"] == "all" and row.iloc[0]["mean"] == pytest.approx(acc.mean())
    some = sorted(set(region))[0]
    assert row[row.region == some]["mean"].item() == pytest.approx(acc[region == some].mean())
    assert len(row) == 1 + len(set(region))
