"""The torch ridge solver equals scikit-learn's Ridge and RidgeCV on the same inputs and folds."""
import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge, RidgeCV

from amodal.models import kfold, ridge_cv, ridge_fit


@pytest.mark.parametrize("n, p", [(80, 300), (200, 40)])  # dual (p > n) and primal (p <= n) forms
@pytest.mark.parametrize("alpha", [0.1, 10.0, 1e4])
def test_ridge_fit_matches_sklearn(n, p, alpha, rng):
    x, y = rng.normal(size=(n, p)), rng.normal(size=(n, 7))
    ours = ridge_fit(torch.tensor(x), torch.tensor(y), alpha).numpy()
    ref = Ridge(alpha=alpha, fit_intercept=False).fit(x, y).coef_.T
    np.testing.assert_allclose(ours, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("n, p", [(120, 500), (300, 30)])
def test_ridge_cv_matches_sklearn_ridgecv(n, p, rng):
    w = rng.normal(size=(p, 5))
    x = rng.normal(size=(n, p))
    y = x @ w * 0.1 + rng.normal(size=(n, 5))
    alphas = [10.0 ** k for k in range(-1, 8)]
    folds = kfold(n, 5, seed=3)
    ours = ridge_cv(x, y, alphas, folds, scorer="neg_mse")
    ref = RidgeCV(alphas=alphas, fit_intercept=False, cv=folds, scoring="neg_mean_squared_error").fit(x, y)
    assert ours.alpha == ref.alpha_
    np.testing.assert_allclose(ours.coef.numpy(), ref.coef_.T, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(ours.predict(torch.tensor(x)).numpy(), ref.predict(x), atol=1e-5)


def test_ridge_cv_r2_matches_sklearn(rng):
    x, y = rng.normal(size=(150, 60)), rng.normal(size=(150, 3))
    y += x[:, :3]
    alphas = [1.0, 10.0, 100.0, 1000.0]
    folds = kfold(150, 5, seed=0)
    ours = ridge_cv(x, y, alphas, folds, scorer="r2")
    ref = RidgeCV(alphas=alphas, fit_intercept=False, cv=folds, scoring="r2").fit(x, y)
    assert ours.alpha == ref.alpha_


def test_kfold_partitions_and_groups():
    folds = kfold(23, 5, seed=1)
    allv = np.sort(np.concatenate([v for _, v in folds]))
    np.testing.assert_array_equal(allv, np.arange(23))
    for tr, va in folds:
        assert not set(tr) & set(va)
    assert [v.tolist() for _, v in folds] == [v.tolist() for _, v in kfold(23, 5, seed=1)]
    groups = np.repeat(np.arange(10), 4)
    for tr, va in kfold(40, 5, seed=0, groups=groups):
        assert not set(groups[tr]) & set(groups[va])


def test_ridge_cv_on_standardised_blocks_equals_the_materialised_fit(rng, monkeypatch):
    """The whole-brain decoder's path (dual form: the Gram matrix once, from column blocks of train rows that are
    standardised as they are read) gives scikit-learn's RidgeCV on the standardised matrix, whatever the block
    size, and never builds the standardised matrix itself."""
    from sklearn.preprocessing import StandardScaler

    from amodal import standardize
    from amodal.standardize import StandardizedRows, standardize_with, train_stats

    n, p = 90, 400
    x = (rng.normal(size=(n + 20, p)) * rng.uniform(0.5, 3, p) + rng.normal(size=p)).astype(np.float32)
    y = x[:, :5].astype(np.float64) * 0.3 + rng.normal(size=(n + 20, 5))
    train, ev = np.arange(n), np.arange(n, n + 20)
    alphas = [10.0 ** k for k in range(-1, 6)]
    folds = kfold(n, 5, seed=2)
    scaler = StandardScaler().fit(x[train].astype(np.float64))
    ref = RidgeCV(alphas=alphas, fit_intercept=False, cv=folds, scoring="neg_mean_squared_error").fit(
        scaler.transform(x[train].astype(np.float64)), y[train])
    mean, sd = train_stats(x, train)
    blocks = []
    real = standardize.standardize_with
    monkeypatch.setattr(standardize, "standardize_with", lambda *a, **k: blocks.append(a[-1] if len(a) > 5 else
                                                                                          k.get("columns")) or
                        real(*a, **k))
    for block_bytes, n_blocks in ((n * 8 * 7, 58), (standardize.BLOCK_BYTES, 1)):  # 7 columns per block, or all
        monkeypatch.setattr(standardize, "BLOCK_BYTES", block_bytes)
        blocks.clear()
        ours = ridge_cv(StandardizedRows(x, train, mean, sd), y[train], alphas, folds, scorer="neg_mse")
        assert ours.alpha == ref.alpha_
        np.testing.assert_allclose(ours.coef.numpy(), ref.coef_.T, rtol=1e-6, atol=1e-9)
        xe = standardize_with(x, ev, mean, sd)
        np.testing.assert_allclose(xe, scaler.transform(x[ev].astype(np.float64)), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ours.predict(torch.tensor(xe)).numpy(), ref.predict(xe), rtol=1e-6, atol=1e-9)
        assert all(b != slice(None) for b in blocks)  # only column blocks were ever standardised
        assert len(blocks) == 2 * n_blocks  # the Gram matrix, then xᵀA
