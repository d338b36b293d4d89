"""Searchlight speed: amodal's batched torch searchlight against the reference approach, a per-centre
scikit-learn ``Ridge`` loop, on fsaverage5 (left hemisphere) at radius 10 mm and at k = 750.

Both sides get the same inputs (random betas with the default dataset's shape: 1,000 agnostic train trials,
70 + 70 test trials, 3 imagery trials, 384-d targets) and compute the same scores per centre, as the reference
searchlight does: pairwise accuracy on image and caption test trials, imagery against 3 and against 3 + 70
candidates, and imagery without standardisation. Two comparisons:

- ``speedup``: fit and observed scores only, on both sides;
- ``speedup_including_null``: both sides also score the 100-permutation null. The reference rescores every
  permutation at every vertex (a loop over permutations); amodal scores all of them from one rank matrix.

The reference loop is timed on evenly spaced centres of those amodal runs and scaled to the hemisphere (its cost
per centre does not depend on where the centre is). amodal runs every centre (or, with ``--n-centres``, one
compact shard of about that many, as a sharded job does, scaled to the hemisphere: a lower bound on its speed,
because one-off work is then scaled too). Scores are checked equal on the sampled centres.
Prints one JSON line of ratios. ``--device cuda --mesh fsaverage7 --only k750`` times the GPU case (fetches
fsaverage7; ``--mesh ico7`` uses MNE's icosahedron of the same size instead, offline).
"""
import argparse
import json
import time

import numpy as np
import torch
from scipy.spatial.distance import cdist
from sklearn.linear_model import Ridge

from amodal import searchlight
from amodal.surface import ico_mesh, load_mesh


def fake_data(n_vertices, device, dtype, seed=0):
    g = np.random.default_rng(seed)
    n_tr, n_i, n_c, n_m, q = 1000, 70, 70, 3, 384
    n = n_tr + n_i + n_c + n_m
    x = torch.zeros((n, n_vertices + 1), dtype=dtype, device=device)
    x[:, :-1] = torch.as_tensor(g.standard_normal((n, n_vertices)), dtype=dtype, device=device)
    y = torch.as_tensor(g.standard_normal((n, q)), dtype=dtype, device=device)
    idx = np.arange(n)
    return searchlight.SearchlightData(x=x, train=idx[:n_tr], test_image=idx[n_tr:n_tr + n_i],
                                       test_caption=idx[n_tr + n_i:n_tr + n_i + n_c], imagery=idx[n - n_m:], y=y,
                                       vertex_index=np.arange(n_vertices))


def _acc(p, cand, standardize=True):
    """The reference's pairwise accuracy: StandardScaler on the predictions, cosine distances, row-wise pairs."""
    if standardize:
        p = (p - p.mean(0)) / p.std(0)
    d = cdist(p, cand, "cosine")
    return np.mean([(d[i, i] < np.delete(d[i], i)).mean() for i in range(p.shape[0])])


def reference_loop(data, neigh, centres, perms=None):
    """The reference's per-vertex work: Ridge(alpha=1, no intercept) on the neighbourhood, predict test and
    imagery trials, score every metric; with ``perms``, rescore each permutation of the targets."""
    x = data.x[:, :-1].cpu().double().numpy()
    y = data.y.cpu().double().numpy()
    yi, yc, ym = y[data.test_image], y[data.test_caption], y[data.imagery]
    ev = np.concatenate([data.test_image, data.test_caption, data.imagery])
    n_i, n_c = data.test_image.size, data.test_caption.size
    out = []
    for c in centres:
        nb = neigh[c][neigh[c] >= 0]
        p = Ridge(alpha=1.0, fit_intercept=False).fit(x[data.train][:, nb], y[data.train]).predict(x[ev][:, nb])
        pi, pc, pm = p[:n_i], p[n_i:n_i + n_c], p[n_i + n_c:]
        out.append([_acc(pi, yi), _acc(pc, yc), _acc(pm, ym), _acc(pm, np.concatenate([ym, yi])),
                    _acc(pm, ym, standardize=False)])
        if perms is not None:
            for a, b, m in zip(*perms):
                _acc(pi, yi[a]), _acc(pc, yc[b]), _acc(pm, ym[m]), _acc(pm, np.concatenate([ym[m], yi]))
    return np.array(out)


def case(name, coords, nb_kw, device, dtype, n_ref, n_centres=None):
    data = fake_data(coords.shape[0], device, dtype)
    neigh, sizes = searchlight.neighbourhoods(coords, **nb_kw)
    # amodal runs every centre, or about --n-centres of them as one compact shard (as a sharded job runs them),
    # scaled to the hemisphere
    centres = np.arange(coords.shape[0]) if not n_centres else \
        searchlight.shard_centres(coords, 0, max(1, round(coords.shape[0] / n_centres)))
    scale = coords.shape[0] / centres.size
    perms0 = searchlight.null_permutations(70, 70, 3, 0, 0, "bench")
    perms = searchlight.null_permutations(70, 70, 3, 100, 0, "bench")
    kw = dict(batch_size=512, coords=coords)
    searchlight.run(data, neigh, centres[:64], perms0, **kw)  # warm-up (numba compilation)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    t = time.perf_counter()
    res0 = searchlight.run(data, neigh, centres, perms0, **kw)
    sync()
    ours = (time.perf_counter() - t) * scale
    t = time.perf_counter()
    searchlight.run(data, neigh, centres, perms, **kw)
    sync()
    ours_null = (time.perf_counter() - t) * scale
    sample = centres[np.linspace(0, centres.size - 1, n_ref).astype(int)]  # cost per centre does not vary
    t = time.perf_counter()
    ref = reference_loop(data, neigh, sample)
    ref_total = (time.perf_counter() - t) / n_ref * coords.shape[0]
    n_ref_null = max(2, n_ref // 8)
    t = time.perf_counter()
    reference_loop(data, neigh, sample[:n_ref_null], perms)
    ref_null_total = (time.perf_counter() - t) / n_ref_null * coords.shape[0]
    pos = np.searchsorted(centres, sample)
    ours_scores = np.stack([res0["obs"][k][pos] for k in searchlight.OBS_METRICS], 1)
    diff = float(np.max(np.abs(ref - ours_scores)))
    return {"case": name, "n_centres": int(coords.shape[0]), "timed_centres": int(centres.size),
            "median_size": int(np.median(sizes)), "solver": res0["solver"],
            "amodal_s": round(ours, 2), "amodal_with_100_perm_s": round(ours_null, 2),
            "reference_s_extrapolated": round(ref_total, 1), "reference_sampled_centres": n_ref,
            "reference_with_100_perm_s_extrapolated": round(ref_null_total, 1),
            "reference_with_null_sampled_centres": n_ref_null,
            "speedup": round(ref_total / ours, 1), "speedup_including_null": round(ref_null_total / ours_null, 1),
            "max_abs_diff_all_metrics": diff}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--mesh", default="fsaverage5")
    ap.add_argument("--n-ref", type=int, default=40, help="centres timed in the reference loop")
    ap.add_argument("--n-centres", type=int, default=None,
                    help="time amodal on this many evenly spaced centres and scale (default: every centre)")
    ap.add_argument("--only", choices=["radius", "k750"], default=None, help="run one case")
    args = ap.parse_args()
    device = torch.device(args.device)
    # ico7: MNE's icosahedron with fsaverage7's topology (163,842 vertices), for a GPU run without a download
    coords = ico_mesh(7)[0] if args.mesh == "ico7" else load_mesh(args.mesh, "inflated")["left"].coords
    cases = {"radius": (f"{args.mesh} radius 10 mm", {"radius": 10.0}),
             "k750": (f"{args.mesh} k=750", {"n_neighbors": 750})}
    results = [case(name, coords, kw, device, torch.float32, args.n_ref, args.n_centres)
               for key, (name, kw) in cases.items() if args.only in (None, key)]
    print(json.dumps({"bench": "searchlight", "device": str(device), "threads": torch.get_num_threads(),
                      "results": results}))


if __name__ == "__main__":
    main()
