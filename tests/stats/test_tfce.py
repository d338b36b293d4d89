"""TFCE equals MNE's values on the same adjacency and E/H/dh, on random and planted maps."""
import zlib

import numpy as np
import pytest
from mne.stats.cluster_level import _find_clusters

from amodal.surface import adjacency, load_mesh, smooth, smoothing_operator
from amodal.stats._tfce import tfce


@pytest.fixture(scope="module")
def mesh():
    m = load_mesh("fsaverage5", "inflated")["left"]
    return m, adjacency(m.faces, m.n_vertices), smoothing_operator(m.faces, m.n_vertices)


def mne_tfce(x, a, e, h, dh):
    # MNE's TFCE (the installed 1.13.x): thresholds np.arange(0, max, dh), clusters of x > threshold
    _, scores = _find_clusters(x, dict(start=0, step=dh, e_power=e, h_power=h), tail=1, adjacency=a.tocoo())
    return scores


def _planted(m, op, rng):
    x = smooth(rng.normal(size=m.n_vertices), op, 3)
    x /= x.std()
    sphere = load_mesh("fsaverage5", "sphere")["left"].coords
    for centre, amp in ((0, 4.0), (5000, 3.0), (9000, 6.5)):
        d = np.linalg.norm(sphere - sphere[centre], axis=1)
        x += amp * np.exp(-(d / 15.0) ** 2)
    return x


@pytest.mark.parametrize("e, h, dh", [(1.0, 2.0, 0.1), (0.5, 2.0, 0.1), (1.0, 2.0, 0.05), (2.0, 1.0, 0.2)])
@pytest.mark.parametrize("kind", ["random", "planted", "white"])
def test_tfce_equals_mne(mesh, kind, e, h, dh):
    m, a, op = mesh
    # a seed that is the same in every process (hash() of strings is salted per process), so a failure reproduces
    rng = np.random.default_rng([zlib.crc32(kind.encode()), int(e * 100), int(h * 100), int(dh * 1000)])
    if kind == "random":
        x = smooth(rng.normal(size=m.n_vertices), op, 8)
        x = x / x.std() * 1.5
    elif kind == "white":
        x = rng.normal(size=m.n_vertices) * 2
    else:
        x = _planted(m, op, rng)
    ours = tfce(x, a, e_power=e, h_power=h, dh=dh)
    ref = mne_tfce(x, a, e, h, dh)
    assert ref.max() > 0
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-9 * ref.max())


def test_tfce_batch_nan_and_negative(mesh):
    m, a, op = mesh
    rng = np.random.default_rng(3)
    maps = np.stack([smooth(rng.normal(size=m.n_vertices), op, 5) * 8 for _ in range(4)])
    maps[1] = -np.abs(maps[1])  # nothing positive: zero everywhere
    maps[2, :50] = np.nan
    out = tfce(maps, a)
    for i in (0, 3):
        np.testing.assert_allclose(out[i], mne_tfce(maps[i], a, 1.0, 2.0, 0.1), rtol=1e-6)
    assert np.all(out[1] == 0)
    assert np.all(out[2, :50] == 0)
    x2 = np.where(np.isnan(maps[2]), -np.inf, maps[2])
    np.testing.assert_allclose(out[2], mne_tfce(np.nan_to_num(x2, neginf=-1e9), a, 1.0, 2.0, 0.1), rtol=1e-6)


def test_tfce_reference_tie_convention():
    # a 3-vertex path with a value exactly on a threshold: '>' (MNE) excludes it at that level, '>=' includes it
    import scipy.sparse as sp

    a = sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], float))
    x = np.array([0.2, 0.25, 0.05])
    gt = tfce(x, a, dh=0.1, strict=True)
    ge = tfce(x, a, dh=0.1, strict=False)
    # '>': h=0.1 -> cluster {0,1} (size 2); h=0.2 -> {1}; so v0 = 2*0.01*0.1, v1 = 2*0.01*0.1 + 1*0.04*0.1
    np.testing.assert_allclose(gt, [0.002, 0.006, 0.0])
    # '>=': h=0.2 also includes v0 (0.2 >= 0.2): cluster {0,1} of size 2 at h=0.2
    np.testing.assert_allclose(ge, [0.002 + 2 * 0.004, 0.002 + 2 * 0.004, 0.0])


@pytest.mark.parametrize("dh", [0.1, 0.05, 0.3])
def test_tfce_values_on_thresholds_equal_mne(mesh, dh):
    # values that sit exactly on thresholds (as np.arange makes them) and one ulp either side: the integer level
    # computed in the kernel must agree with MNE's comparisons against np.arange's thresholds
    m, a, op = mesh
    rng = np.random.default_rng(7)
    x = smooth(rng.normal(size=m.n_vertices), op, 8)
    x = x / x.std() * 2
    th = np.arange(0.0, x.max(), dh)
    snap = rng.random(m.n_vertices) < 0.5
    k = np.clip(np.round(x / dh).astype(int), 0, th.size - 1)
    x = np.where(snap, th[k], x)
    nudge = rng.integers(-1, 2, m.n_vertices)
    x = np.where(rng.random(m.n_vertices) < 0.3, x + nudge * np.spacing(np.abs(x)), x)
    np.testing.assert_allclose(tfce(x, a, dh=dh), mne_tfce(x, a, 1.0, 2.0, dh), rtol=1e-6, atol=1e-12)


def test_threshold_count_is_arange_length():
    from amodal.stats._tfce import _n_thresholds

    rng = np.random.default_rng(0)
    for dh in (0.1, 0.05, 0.3, 0.07):
        maxima = np.concatenate([rng.uniform(0.01, 30, 300), np.arange(1, 200) * dh, [1e-9, 0.0, -1.0]])
        for strict in (True, False):
            got = _n_thresholds(maxima[:, None], dh, strict)
            want = [max(0, np.arange(0.0, mx if strict else mx + dh, dh).size - 1) if mx > 0 else 0
                    for mx in maxima]
            np.testing.assert_array_equal(got, want)


def test_tfce_rejects_inf_and_bad_step(mesh):
    m, a, _ = mesh
    x = np.zeros(m.n_vertices)
    x[3] = np.inf
    with pytest.raises(ValueError, match="inf"):
        tfce(x, a)
    with pytest.raises(ValueError, match="dh"):
        tfce(np.ones(m.n_vertices), a, dh=0.0)
