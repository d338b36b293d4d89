"""Confidence intervals over subjects and trials: the hierarchical bootstrap of METHOD §4."""

from __future__ import annotations

import numpy as np


def hierarchical_bootstrap(values: list[np.ndarray], n_boot: int = 10_000, seed: int = 0,
                           ci: float = 0.95) -> tuple[float, float, float]:
    """Mean over subjects of per-subject means, with a two-level bootstrap CI (METHOD §4).

    Each resample draws subjects with replacement, then each drawn subject's trials with replacement.

    Parameters
    ----------
    values : list of arrays
        ``values[s]`` holds subject s's per-trial scores, shape (n_trials_s,).
    n_boot : int
    seed : int
    ci : float
        Coverage of the percentile interval.

    Returns
    -------
    mean, ci_low, ci_high : float
    """
    gen = np.random.default_rng(seed)
    n_sub = len(values)
    means = np.empty((n_boot, n_sub))
    for s, v in enumerate(values):
        v = np.asarray(v, dtype=np.float64)
        idx = gen.integers(0, v.size, size=(n_boot, v.size))
        means[:, s] = v[idx].mean(axis=1)
    pick = gen.integers(0, n_sub, size=(n_boot, n_sub))
    boot = np.take_along_axis(means, pick, axis=1).mean(axis=1)
    point = float(np.mean([np.mean(v) for v in values]))
    lo, hi = np.quantile(boot, [(1 - ci) / 2, 1 - (1 - ci) / 2])
    return point, float(lo), float(hi)
