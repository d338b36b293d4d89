"""The batched searchlight equals nilearn's search_light with scikit-learn Ridge on the same neighbourhoods."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from nilearn.decoding.searchlight import search_light
from sklearn.linear_model import Ridge
from sklearn.model_selection import PredefinedSplit

from amodal import dataset, features, metrics, preprocess, searchlight
from amodal.surface import load_mesh


@pytest.fixture(scope="module")
def inputs(small_dataset):
    b = preprocess.preprocess_subject(small_dataset, "sub-01", "fsaverage5", log=lambda *a: None)
    f = features.extract("minilm", dataset.read_stimuli(small_dataset), small_dataset / "stimuli",
                         log=lambda *a: None)
    return b, f, load_mesh("fsaverage5", "inflated")


def _nilearn(data, neigh, centres, test_rows, alpha):
    x, y = data.x[:, :-1].double().numpy(), data.y.double().numpy()
    rows = np.concatenate([data.train, test_rows])
    fold = np.r_[np.full(data.train.size, -1), np.zeros(test_rows.size)]
    a = sp.lil_matrix((centres.size, x.shape[1]), dtype=bool)
    for i, c in enumerate(centres):
        a[i, neigh[c][neigh[c] >= 0]] = True

    def scorer(est, x_te, y_te):
        return float(metrics.pairwise_accuracy(torch.tensor(est.predict(x_te)), torch.tensor(y_te)))

    return search_light(x[rows], y[rows], Ridge(alpha=alpha, fit_intercept=False), a, scoring=scorer,
                        cv=PredefinedSplit(fold), n_jobs=1).ravel()


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
    for metric, rows in (("acc_image", data.test_image), ("acc_caption", data.test_caption)):
        ref = _nilearn(data, neigh, centres, rows, 1.0)
        atol = 1e-4
        if dtype == torch.float32 and sizes.max() > 100:
            # 250 vertices and 240 training trials: float32 predictions carry ~4e-5 relative error with either
            # solver (measured against float64), enough to flip a near-tie pair now and then; allow two pairs
            atol = 2.0 / (rows.size * (rows.size - 1)) + 1e-9
        np.testing.assert_allclose(res["obs"][metric], ref, atol=atol)


def test_searchlight_subject_store(inputs):
    b, f, mesh = inputs
    ds = searchlight.searchlight_subject(b, f, "lang", "agnostic", "left", mesh["left"].coords, n_neighbors=20,
                                         n_perm=3, shard=(1, 3))
    assert ds["scores"].dims == ("metric", "vertex") and ds["null"].shape[:2] == (3, len(searchlight.NULL_METRICS))
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
    """Each null map equals rescoring the same predictions against permuted targets (no refit)."""
    b, f, mesh = inputs
    data = searchlight.prepare(b, f, "lang", "agnostic", "left", torch.device("cpu"), torch.float64)
    neigh, _ = searchlight.neighbourhoods(mesh["left"].coords[data.vertex_index], 30)
    perms = searchlight.null_permutations(data.test_image.size, data.test_caption.size, data.imagery.size, 4, 0,
                                          "sub-01")
    centres = np.array([0, 500, 4000])
    res = searchlight.run(data, neigh, centres, perms, alpha=1.0)
    img_p = perms[0]
    assert not np.any(img_p == np.arange(img_p.shape[1]))  # derangements
    assert all(sorted(np.roll(np.arange(3), 1).tolist()) == sorted(p.tolist()) for p in perms[2])
    x, y = data.x[:, :-1], data.y
    for j, c in enumerate(centres):
        nb = neigh[c]
        w = torch.linalg.solve(x[data.train][:, nb].T @ x[data.train][:, nb] + torch.eye(nb.size, dtype=x.dtype),
                               x[data.train][:, nb].T @ y[data.train])
        pred = x[data.test_image][:, nb] @ w
        for p in range(img_p.shape[0]):
            expected = float(metrics.pairwise_accuracy(pred, y[data.test_image][img_p[p]]))
            assert res["null"]["acc_image"][p, j] == pytest.approx(expected, abs=1e-6)
        assert res["obs"]["acc_image"][j] == pytest.approx(float(metrics.pairwise_accuracy(pred, y[data.test_image])),
                                                           abs=1e-6)


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
    perms = np.stack([np.random.default_rng(i).permutation(9)[:7] for i in range(4)])
    obs, null = searchlight.win_sums(dist, perms)
    a = searchlight.win_matrix(dist)
    idx = torch.arange(7)
    assert torch.equal(obs, a[:, idx, idx].sum(-1))
    assert torch.equal(null, a[:, idx.unsqueeze(0).expand(4, 7), torch.as_tensor(perms)].sum(-1))
    # and win_matrix is the definition: wins of row i for target t = #{j != t: dist[i, j] > dist[i, t]}
    brute = (dist.unsqueeze(-2) > dist.unsqueeze(-1)).sum(-1)
    assert torch.equal(a, brute)
    empty_obs, empty_null = searchlight.win_sums(dist, perms[:0])
    assert torch.equal(empty_obs, obs) and empty_null.shape == (5, 0)


@pytest.mark.parametrize("solver", ["direct", "shared"])
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
