"""Pairwise accuracy, retrieval ranks and the bootstrap: known answers and the reference's definition."""
import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

from amodal import metrics


def test_pairwise_accuracy_known_answer():
    cand = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], dtype=torch.float64)
    pred = torch.tensor([[1.0, 0.1], [1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    # row 0: d00 < d01, d00 < d02 -> 2/2; row 1: d11 = 1 > d10 = 0, d11 < d12 = 2 -> 1/2;
    # row 2: d22 = 1 ties d20 = 1 (a tie is wrong), d22 > d21 = 0 -> 0/2
    rows = metrics.pairwise_accuracy_rows(pred, cand, standardize=False)
    np.testing.assert_allclose(rows.numpy(), [1.0, 0.5, 0.0])
    assert float(metrics.pairwise_accuracy(pred, cand, standardize=False)) == pytest.approx(0.5)
    np.testing.assert_array_equal(metrics.retrieval_ranks(pred, cand, standardize=False).numpy(), [1, 2, 3])
    np.testing.assert_array_equal(metrics.top_k(pred, cand, 2, standardize=False).numpy()[0], [0, 1])


def _reference(pred, cand, standardize):
    """The reference study's eval.py, re-expressed with numpy/scipy: StandardScaler on predictions, cdist
    cosine, row-wise strict comparison over n*m - n pairs."""
    if standardize:
        pred = (pred - pred.mean(0)) / pred.std(0)
    d = cdist(pred, cand, "cosine")
    n = d.shape[0]
    wins = sum((d[i, i] < d[i, j]) for i in range(n) for j in range(d.shape[1]) if j != i)
    return wins / (n * d.shape[1] - n)


@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("m_extra", [0, 70])
def test_pairwise_accuracy_matches_reference_definition(standardize, m_extra, rng):
    target = rng.normal(size=(70, 12))
    pred = target[:, :] + rng.normal(scale=2.0, size=(70, 12))
    cand = np.vstack([target, rng.normal(size=(m_extra, 12))])
    ours = float(metrics.pairwise_accuracy(torch.tensor(pred), torch.tensor(cand), standardize))
    assert ours == pytest.approx(_reference(pred, cand, standardize), abs=1e-12)


def test_batched_equals_loop(rng):
    pred = torch.tensor(rng.normal(size=(5, 20, 8)))
    cand = torch.tensor(rng.normal(size=(20, 8)))
    batched = metrics.pairwise_accuracy(pred, cand)
    loop = torch.stack([metrics.pairwise_accuracy(p, cand) for p in pred])
    torch.testing.assert_close(batched, loop)


def test_chance_is_half(rng):
    accs = [float(metrics.pairwise_accuracy(torch.tensor(rng.normal(size=(70, 16))),
                                            torch.tensor(rng.normal(size=(70, 16))))) for _ in range(200)]
    assert abs(np.mean(accs) - 0.5) < 0.01


def test_hierarchical_bootstrap():
    vals = [np.full(50, 0.6), np.full(50, 0.8)]
    mean, lo, hi = metrics.hierarchical_bootstrap(vals, n_boot=2000, seed=1)
    assert mean == pytest.approx(0.7)
    assert 0.6 <= lo < 0.7 < hi <= 0.8
    same = metrics.hierarchical_bootstrap(vals, n_boot=2000, seed=1)
    assert same == (mean, lo, hi)
