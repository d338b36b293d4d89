"""Whole-brain ridge decoder: amodal's against the reference study's, on the same inputs, folds and alphas.

The reference (``ridge_regression_decoding.py``) fits ``GridSearchCV(Ridge(fit_intercept=False), alphas, cv=5,
refit=True)`` on betas standardised with the train rows; its scorer is pairwise accuracy. The reference side here is
that, as a careful user writes it: the betas standardised once, in float64 (scikit-learn's ``StandardScaler``),
``GridSearchCV`` with amodal's folds and an unstandardised pairwise-accuracy scorer (the one amodal's CV uses, so
both choose alpha by the same numbers). amodal's side is :func:`amodal.evaluation.decode`'s path: the train rows
standardised block by block as the ridge reads them (:class:`amodal.standardize.StandardizedRows`) and
:func:`amodal.models.ridge_cv`, which computes the Gram matrix of the train rows once and takes every fold's rows of
it. Both in float64, each in its own process, so that its peak memory (max RSS) is its own; the chosen alphas are
asserted equal and the test predictions equal to 1e-8 (relative).

Default: the embedded default's shape (1,000 train trials, 143 test and imagery trials, every fsaverage5 vertex:
20,484; 768 target dimensions, 9 alphas, 5 folds). ``--vertices N`` sets the number of vertices (ds007272 at
fsaverage7 has 327,684 and about 7,000 train betas, ``--n-train``; there the reference needs about 60 GB, and
``--side amodal`` times amodal's side alone). Each side reports its peak memory (max RSS) and what the inputs
themselves take.

    python bench/decoding.py [--vertices 20484] [--n-train 1000] [--side amodal]
"""
import argparse
import json
import resource
import subprocess
import sys
import time

ALPHAS = [0.1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 1e7]


def inputs(n_train, n_vertices, n_eval=143, q=768, seed=0):
    import numpy as np

    g = np.random.default_rng(seed)
    n = n_train + n_eval
    w = g.standard_normal((64, q)) / 8
    z = g.standard_normal((n, 64))
    # a weak shared signal in noise (CV accuracy about 0.65-0.95, as real decoders range), made in float32 row
    # blocks so that the inputs cost no more memory than the betas they stand for
    load = (0.01 * g.standard_normal((64, n_vertices))).astype(np.float32)
    x = np.empty((n, n_vertices), np.float32)
    for r in range(0, n, 256):
        rows = slice(r, min(r + 256, n))
        x[rows] = z[rows].astype(np.float32) @ load
        x[rows] += g.standard_normal((x[rows].shape[0], n_vertices), dtype=np.float32)
    y = z @ w + g.standard_normal((n, q))
    y = (y - y[:n_train].mean(0)) / y[:n_train].std(0)
    return x, y, np.arange(n_train), np.arange(n_train, n)


def side(which, n_train, n_vertices):
    import numpy as np
    import torch

    from amodal.metrics import pairwise_accuracy
    from amodal.models import kfold

    x, y, train, ev = inputs(n_train, n_vertices)
    folds = kfold(train.size, 5, 0)
    rss_inputs = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20
    t = time.perf_counter()
    if which == "amodal":
        from amodal.models import RidgeDecoder
        from amodal.standardize import StandardizedRows, standardize_with, train_stats

        mean, sd = train_stats(x, train)
        fit = RidgeDecoder(ALPHAS, folds).fit(StandardizedRows(x, train, mean, sd), y[train])
        pred = fit.predict(torch.as_tensor(standardize_with(x, ev, mean, sd))).numpy()
        alpha = fit.alpha_
    else:
        from sklearn.linear_model import Ridge
        from sklearn.metrics import make_scorer
        from sklearn.model_selection import GridSearchCV
        from sklearn.preprocessing import StandardScaler

        def acc(y_true, y_pred):
            return float(pairwise_accuracy(torch.as_tensor(y_pred), torch.as_tensor(y_true), standardize=False))

        scaler = StandardScaler().fit(x[train].astype(np.float64))
        xs = scaler.transform(x.astype(np.float64))
        search = GridSearchCV(Ridge(fit_intercept=False), {"alpha": ALPHAS}, cv=folds, scoring=make_scorer(acc),
                              refit=True).fit(xs[train], y[train])
        pred = search.predict(xs[ev])
        alpha = search.best_params_["alpha"]
    dt = time.perf_counter() - t
    np.save(f"/tmp/amodal_bench_decoding_{which}.npy", pred)
    print(json.dumps({"side": which, "seconds": round(dt, 2), "alpha": alpha,
                      "inputs_gib": round(x.nbytes / 2 ** 30, 2),
                      "peak_rss_after_inputs_gib": round(rss_inputs, 2),
                      "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20, 2)}))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--vertices", type=int, default=20_484)
    ap.add_argument("--n-train", type=int, default=1000)
    ap.add_argument("--side", choices=["amodal", "reference"], default=None,
                    help="run one side only, in this process (amodal: its time and peak memory at a scale where the "
                         "reference does not fit, e.g. --vertices 327684 --n-train 7000)")
    args = ap.parse_args()
    if args.side:
        side(args.side, args.n_train, args.vertices)
        return
    import numpy as np

    res = {}
    for which in ("amodal", "reference"):
        out = subprocess.run([sys.executable, __file__, "--side", which, "--vertices", str(args.vertices),
                              "--n-train", str(args.n_train)], check=True, capture_output=True, text=True).stdout
        res[which] = json.loads(out.strip().splitlines()[-1])
    a, r = (np.load(f"/tmp/amodal_bench_decoding_{w}.npy") for w in ("amodal", "reference"))
    assert res["amodal"]["alpha"] == res["reference"]["alpha"], res
    rel = float(np.abs(a - r).max() / np.abs(r).max())
    assert rel < 1e-8, rel
    print(json.dumps({"bench": "decoding", "n_train": args.n_train, "n_vertices": args.vertices, "n_targets": 768,
                      "n_alphas": len(ALPHAS), "n_folds": 5, "dtype": "float64", **{k: v for k, v in res.items()},
                      "speedup": round(res["reference"]["seconds"] / res["amodal"]["seconds"], 1),
                      "max_relative_difference": rel}))


if __name__ == "__main__":
    main()
