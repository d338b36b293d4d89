"""Searchlight speed: amodal's batched torch searchlight against the reference approach, a per-centre
scikit-learn ``Ridge`` loop, on fsaverage5 (left hemisphere) at radius 10 mm and at k = 750.

Both sides get the same inputs (random betas with the default dataset's shape: 1,000 agnostic train trials,
70 + 70 test trials, 3 imagery trials, 384-d targets) in the same dtype (``--dtype``, float32 as the pipeline's
default), run on the same centres, and compute the same scores per centre, as the reference searchlight does:
pairwise accuracy on image and caption test trials, imagery against 3 and 3 + 70 candidates, with and without
standardisation. The reference side is written as a careful user would write it: the train and evaluation rows
are sliced once, not per centre; pairwise accuracy is vectorised (scikit-learn's StandardScaler, scipy's cosine
distances). Two comparisons:

- ``speedup``: fit and observed scores only, on both sides;
- ``speedup_including_null``: both sides also score the null (100 derangements per block, all 6 imagery
  orderings). The reference rescores every permutation at every centre (the predictions are standardised once);
  amodal scores all of them from one rank matrix.

Both sides run one compact shard of about ``--n-centres`` centres (as a sharded job runs them) and both are
scaled to the hemisphere by the same factor (one-off work on amodal's side is then scaled too, a lower bound on
its speed); the reference's null loop runs on the first ``--n-ref-null`` of those centres and is scaled likewise.
The scores of every centre are asserted equal: exactly in float64, to within one pair per metric in float32
(near-ties can flip between two float32 solvers). Prints one JSON line. ``--device cuda --mesh fsaverage7 --only
k750`` times the GPU case (fetches fsaverage7; ``--mesh ico7`` uses MNE's icosahedron of the same size instead).
``--scale`` times amodal alone with its null on one shard of ``--n-centres`` (scaled to the hemisphere), as a
job runs it, and reports its peak memory: the figures for planning fsaverage7 jobs (``--mesh ico7 --only k750
--scale``).
"""
import argparse
import json
import resource
import time

import numpy as np
import torch
from scipy.spatial.distance import cdist
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

from amodal import searchlight
from amodal.surface import ico_mesh, load_mesh


def fake_data(n_vertices, device, dtype, seed=0, n_tr=1000):
    g = np.random.default_rng(seed)
    n_i, n_c, n_m, q = 70, 70, 3, 384
    n = n_tr + n_i + n_c + n_m
    x = torch.zeros((n, n_vertices + 1), dtype=dtype, device=device)
    for r in range(0, n, 256):  # the same draws as all at once, without a float64 copy of every row (ds007272 size)
        rows = slice(r, min(r + 256, n))
        x[rows, :-1] = torch.as_tensor(g.standard_normal((rows.stop - r, n_vertices)), dtype=dtype, device=device)
    y = torch.as_tensor(g.standard_normal((n, q)), dtype=dtype, device=device)
    idx = np.arange(n)
    return searchlight.SearchlightData(x=x, train=idx[:n_tr], test_image=idx[n_tr:n_tr + n_i],
                                       test_caption=idx[n_tr + n_i:n_tr + n_i + n_c], imagery=idx[n - n_m:], y=y,
                                       vertex_index=np.arange(n_vertices))


def _acc(p, cand, standardize=True):
    """The reference's pairwise accuracy, vectorised: StandardScaler on the predictions, cosine distances,
    prediction i against every candidate j != i (ties are wrong)."""
    if standardize:
        p = StandardScaler().fit_transform(p)
    d = cdist(p, cand, "cosine")
    n = p.shape[0]
    diag = d[np.arange(n), np.arange(n)][:, None]
    return float((d > diag).sum() / (n * (d.shape[1] - 1)))


def reference_loop(data, neigh, centres, perms=None):
    """The reference's per-centre work: Ridge(alpha=1, no intercept) on the neighbourhood, predict test and
    imagery trials, score every metric; with ``perms``, rescore each permutation of the targets."""
    x = data.x[:, :-1].cpu().numpy()
    y = data.y.cpu().numpy()
    ev = np.concatenate([data.test_image, data.test_caption, data.imagery])
    x_train, y_train, x_ev = x[data.train], y[data.train], x[ev]  # rows sliced once, as a careful user would
    yi, yc, ym = y[data.test_image], y[data.test_caption], y[data.imagery]
    n_i, n_c = data.test_image.size, data.test_caption.size
    out = []
    for c in centres:
        nb = neigh[c][neigh[c] >= 0]
        p = Ridge(alpha=1.0, fit_intercept=False).fit(x_train[:, nb], y_train).predict(x_ev[:, nb])
        pi, pc, pm = p[:n_i], p[n_i:n_i + n_c], p[n_i + n_c:]
        out.append([_acc(pi, yi), _acc(pc, yc), _acc(pm, ym), _acc(pm, np.concatenate([ym, yi])),
                    _acc(pm, ym, False), _acc(pm, np.concatenate([ym, yi]), False)])
        if perms is not None:
            img_p, cap_p, ima_p = perms
            si, sc, sm = (StandardScaler().fit_transform(v) for v in (pi, pc, pm))
            for a, b in zip(img_p, cap_p):
                # permutation a gives trial i the target of stimulus a[i]
                _acc(si, yi[a], False), _acc(sc, yc[b], False)
            for m in ima_p:
                _acc(sm, ym[m], False), _acc(sm, np.concatenate([ym[m], yi]), False)
                _acc(pm, ym[m], False), _acc(pm, np.concatenate([ym[m], yi]), False)
    return np.array(out)


METRICS = ("acc_image", "acc_caption", "acc_imagery", "acc_imagery_73", "acc_imagery_unstd", "acc_imagery_73_unstd")


def case(name, coords, nb_kw, device, dtype, n_centres, n_ref_null):
    data = fake_data(coords.shape[0], device, dtype)
    neigh, sizes = searchlight.neighbourhoods(coords, **nb_kw)
    centres = np.arange(coords.shape[0]) if not n_centres else \
        searchlight.shard_centres(coords, 0, max(1, round(coords.shape[0] / n_centres)))
    scale = coords.shape[0] / centres.size  # both sides run these centres and are scaled by this one factor
    perms0 = searchlight.null_permutations(70, 70, 3, 0, 0, "bench")
    perms = searchlight.null_permutations(70, 70, 3, 100, 0, "bench")
    kw = dict(batch_size=512, coords=coords)
    searchlight.run(data, neigh, centres[:64], perms, **kw)  # warm-up (numba compilation)
    reference_loop(data, neigh, centres[:2], perms)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    t = time.perf_counter()
    res0 = searchlight.run(data, neigh, centres, perms0, **kw)
    sync()
    ours = (time.perf_counter() - t) * scale
    t = time.perf_counter()
    searchlight.run(data, neigh, centres, perms, **kw)
    sync()
    ours_null = (time.perf_counter() - t) * scale
    t = time.perf_counter()
    ref = reference_loop(data, neigh, centres)
    ref_total = (time.perf_counter() - t) * scale
    n_ref_null = min(n_ref_null, centres.size)
    t = time.perf_counter()
    reference_loop(data, neigh, centres[:n_ref_null], perms)
    ref_null_total = (time.perf_counter() - t) / n_ref_null * coords.shape[0]
    ours_scores = np.stack([res0["obs"][k] for k in METRICS], 1)
    diff = np.abs(ref - ours_scores).max(axis=0)
    pair = np.array([1 / (70 * 69), 1 / (70 * 69), 1 / (3 * 2), 1 / (3 * 72), 1 / (3 * 2), 1 / (3 * 72)])
    tol = pair + 1e-9 if dtype == torch.float32 else np.full(len(METRICS), 1e-9)
    assert np.all(diff <= tol), dict(zip(METRICS, diff))
    flips = int(np.sum(np.abs(ref - ours_scores) > 1e-9))
    return {"case": name, "n_centres": int(coords.shape[0]), "timed_centres": int(centres.size),
            "median_size": int(np.median(sizes)), "solver": res0["solver"], "dtype": str(dtype).split(".")[-1],
            "amodal_s": round(ours, 2), "amodal_with_null_s": round(ours_null, 2),
            "reference_s": round(ref_total, 1), "reference_with_null_s": round(ref_null_total, 1),
            "reference_null_timed_centres": n_ref_null,
            "speedup": round(ref_total / ours, 1), "speedup_including_null": round(ref_null_total / ours_null, 1),
            "max_abs_diff_per_metric": dict(zip(METRICS, diff.round(12).tolist())),
            "centre_metrics_differing_by_one_pair": flips}


def scale_run(name, coords, nb_kw, device, dtype, n_perm, n_centres, n_train=1000):
    """amodal alone, as one searchlight job runs it, with its null: the time a job of that mesh needs for the whole
    hemisphere (timed on one compact shard of about ``n_centres`` centres and scaled, or on every centre with 0) and
    the peak memory of a shard job (no reference side, no ratio)."""
    t = time.perf_counter()
    data = fake_data(coords.shape[0], device, dtype, n_tr=n_train)
    neigh, sizes = searchlight.neighbourhoods(coords, **nb_kw)
    t_setup = time.perf_counter() - t
    perms = searchlight.null_permutations(70, 70, 3, n_perm, 0, "bench")
    n_shards = 1 if not n_centres else max(1, round(coords.shape[0] / n_centres))
    centres = searchlight.shard_centres(coords, 0, n_shards)
    searchlight.run(data, neigh, centres[:64], perms, batch_size=512, coords=coords)  # warm-up (numba)
    t = time.perf_counter()
    res = searchlight.run(data, neigh, centres, perms, batch_size=512, coords=coords)
    if device.type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t
    out = {"case": name, "n_centres": int(coords.shape[0]), "timed_centres": int(centres.size),
           "median_size": int(np.median(sizes)), "n_train": n_train, "n_null": n_perm, "solver": res["solver"],
           "gram": res["gram"],
           "dtype": str(dtype).split(".")[-1], "setup_s": round(t_setup, 1), "timed_s": round(dt, 1),
           "hemisphere_with_null_s": round(dt * coords.shape[0] / centres.size, 1),
           "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20, 2)}
    if device.type == "cuda":
        out["peak_cuda_gib"] = round(torch.cuda.max_memory_allocated() / 2 ** 30, 2)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--mesh", default="fsaverage5")
    ap.add_argument("--n-centres", type=int, default=600,
                    help="both sides run one compact shard of about this many centres, scaled to the hemisphere "
                         "(0: every centre)")
    ap.add_argument("--n-ref-null", type=int, default=60, help="centres of the reference's null loop")
    ap.add_argument("--only", choices=["radius", "k750"], default=None, help="run one case")
    ap.add_argument("--scale", action="store_true",
                    help="time amodal alone with 100 null maps on a shard of --n-centres, scaled to the hemisphere, "
                         "and its peak memory (to plan jobs at fsaverage7: --mesh ico7 --only k750 --scale)")
    ap.add_argument("--n-train", type=int, default=1000,
                    help="train trials of the fake data with --scale (1,000 as the default dataset; ds007272 has "
                         "about 7,000 per subject)")
    args = ap.parse_args()
    device = torch.device(args.device)
    # ico7: MNE's icosahedron with fsaverage7's topology (163,842 vertices), for a GPU run without a download
    coords = ico_mesh(7)[0] if args.mesh == "ico7" else load_mesh(args.mesh, "inflated")["left"].coords
    cases = {"radius": (f"{args.mesh} radius 10 mm", {"radius": 10.0}),
             "k750": (f"{args.mesh} k=750", {"n_neighbors": 750})}
    if args.scale:
        results = [scale_run(name, coords, kw, device, getattr(torch, args.dtype), 100, args.n_centres,
                             args.n_train)
                   for key, (name, kw) in cases.items() if args.only in (None, key)]
    else:
        results = [case(name, coords, kw, device, getattr(torch, args.dtype), args.n_centres, args.n_ref_null)
                   for key, (name, kw) in cases.items() if args.only in (None, key)]
    print(json.dumps({"bench": "searchlight", "device": str(device), "threads": torch.get_num_threads(),
                      "results": results}))


if __name__ == "__main__":
    main()
