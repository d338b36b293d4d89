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
