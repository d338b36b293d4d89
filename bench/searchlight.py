"""Searchlight speed: amodal's batched torch searchlight against the reference approach, a per-centre
scikit-learn ``Ridge`` loop, on fsaverage5 (left hemisphere) at radius 10 mm and at k = 750.

Both sides get the same inputs (random betas with the default dataset's shape: 1,000 agnostic train trials,
70 + 70 test trials, 3 imagery trials, 384-d targets) and compute the same observed scores (pairwise accuracy on
image and caption test trials). The reference loop is timed on a sample of centres and scaled to the
hemisphere; amodal runs the whole hemisphere, once without and once with the 100-permutation null.
Prints one JSON line of ratios. ``--device cuda --mesh fsaverage7`` times the GPU case (needs fsaverage7).
"""
import argparse
import json
import time

import numpy as np
import torch
from scipy.spatial.distance import cdist
from sklearn.linear_model import Ridge

from amodal import searchlight
from amodal.surface import load_mesh


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


def reference_loop(data, neigh, centres):
    """The reference's per-vertex fit: Ridge(alpha=1, no intercept), StandardScaler + cosine pairwise accuracy."""
    x = data.x[:, :-1].cpu().double().numpy()
    y = data.y.cpu().double().numpy()
    out = []
    for c in centres:
        nb = neigh[c][neigh[c] >= 0]
        est = Ridge(alpha=1.0, fit_intercept=False).fit(x[data.train][:, nb], y[data.train])
        for rows in (data.test_image, data.test_caption):
            p = est.predict(x[rows][:, nb])
            p = (p - p.mean(0)) / p.std(0)
            d = cdist(p, y[rows], "cosine")
            out.append(np.mean([(d[i, i] < np.delete(d[i], i)).mean() for i in range(d.shape[0])]))
    return np.array(out).reshape(len(centres), 2)


def case(name, coords, nb_kw, device, dtype, n_ref, n_centres=None):
    data = fake_data(coords.shape[0], device, dtype)
    neigh, sizes = searchlight.neighbourhoods(coords, **nb_kw)
    # amodal runs every centre, or an evenly spaced subset scaled to the hemisphere (--n-centres)
    centres = np.arange(coords.shape[0]) if not n_centres else \
        np.linspace(0, coords.shape[0] - 1, n_centres).astype(int)
    scale = coords.shape[0] / centres.size
    perms0 = searchlight.null_permutations(70, 70, 3, 0, 0, "bench")
    perms = searchlight.null_permutations(70, 70, 3, 100, 0, "bench")
    searchlight.run(data, neigh, centres[:64], perms0, batch_size=64)  # warm-up
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    t = time.perf_counter()
    res0 = searchlight.run(data, neigh, centres, perms0, batch_size=128 if sizes.max() > 300 else 512)
    sync()
    ours = (time.perf_counter() - t) * scale
    t = time.perf_counter()
    searchlight.run(data, neigh, centres, perms, batch_size=128 if sizes.max() > 300 else 512)
    sync()
    ours_null = (time.perf_counter() - t) * scale
    sample = np.linspace(0, coords.shape[0] - 1, n_ref).astype(int)
    t = time.perf_counter()
    ref = reference_loop(data, neigh, sample)
    ref_per_centre = (time.perf_counter() - t) / n_ref
    ref_total = ref_per_centre * coords.shape[0]
    pos = np.searchsorted(centres, sample)
    ok = centres[np.minimum(pos, centres.size - 1)] == sample
    diff = float(np.max(np.abs(ref[ok] - np.stack([res0["obs"]["acc_image"][pos[ok]],
                                                    res0["obs"]["acc_caption"][pos[ok]]], 1)))) if ok.any() else None
    return {"case": name, "n_centres": int(coords.shape[0]), "timed_centres": int(centres.size),
            "median_size": int(np.median(sizes)),
            "amodal_s": round(ours, 2), "amodal_with_100_perm_s": round(ours_null, 2),
            "reference_s_extrapolated": round(ref_total, 1), "reference_sampled_centres": n_ref,
            "speedup": round(ref_total / ours, 1), "speedup_including_null": round(ref_total / ours_null, 1),
            "max_abs_diff": diff}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--mesh", default="fsaverage5")
    ap.add_argument("--n-ref", type=int, default=40, help="centres timed in the reference loop")
    ap.add_argument("--n-centres", type=int, default=None,
                    help="time amodal on this many evenly spaced centres and scale (default: every centre)")
    args = ap.parse_args()
    device = torch.device(args.device)
    coords = load_mesh(args.mesh, "inflated")["left"].coords
    results = [case(f"{args.mesh} radius 10 mm", coords, {"radius": 10.0}, device, torch.float32, args.n_ref,
                    args.n_centres),
               case(f"{args.mesh} k=750", coords, {"n_neighbors": 750}, device, torch.float32, args.n_ref,
                    args.n_centres)]
    print(json.dumps({"bench": "searchlight", "device": str(device), "threads": torch.get_num_threads(),
                      "results": results}))


if __name__ == "__main__":
    main()
