"""Seconds per TFCE map: amodal against MNE (the installed 1.13.x), same maps, same adjacency, same E/H/dh.

Meshes: fsaverage5 (both hemispheres) and the ico-7 icosahedron from MNE, which has fsaverage7's topology
(163,842 vertices per hemisphere). Maps are smooth random fields with planted peaks, like a t-map.
amodal runs a batch of maps in parallel over the cores (as the group permutations do; an even number of maps,
so that both cores stay busy); it is also timed on one thread. Prints one JSON line of ratios and checks that
the values are equal. `--quick` runs fsaverage5 only (< 1 min).
"""
import argparse
import json
import time

import numba
import numpy as np
from mne.stats.cluster_level import _find_clusters

from amodal.surface import adjacency, ico_mesh, load_mesh, smooth, smoothing_operator
from amodal.stats import tfce


def test_maps(coords, faces, n_maps, seed):
    rng = np.random.default_rng(seed)
    op = smoothing_operator(faces, coords.shape[0])
    maps = []
    for _ in range(n_maps):
        x = smooth(rng.normal(size=coords.shape[0]), op, 10)
        x = x / x.std()
        for c in rng.choice(coords.shape[0], 3, replace=False):
            d = np.linalg.norm(coords - coords[c], axis=1)
            x += rng.uniform(3, 6) * np.exp(-(d / 15) ** 2)
        maps.append(x)
    return np.array(maps)


def bench(name, hemis, n_maps, seed=0):
    ours_t, ours_1t, mne_t, max_rel = 0.0, 0.0, 0.0, 0.0
    n_vertices = 0
    for coords, faces in hemis:
        a = adjacency(faces, coords.shape[0])
        maps = test_maps(coords, faces, n_maps, seed)
        tfce(maps[:1], a)  # compile once (numba caches to disk afterwards)
        t = time.perf_counter()
        ours = tfce(maps, a)
        ours_t += time.perf_counter() - t
        threads = numba.get_num_threads()
        numba.set_num_threads(1)  # the same maps on one thread, as MNE runs
        t = time.perf_counter()
        tfce(maps, a)
        ours_1t += time.perf_counter() - t
        numba.set_num_threads(threads)
        coo = a.tocoo()
        for i, x in enumerate(maps):
            t = time.perf_counter()
            _, ref = _find_clusters(x, dict(start=0, step=0.1, e_power=1.0, h_power=2.0), tail=1, adjacency=coo)
            mne_t += time.perf_counter() - t
            max_rel = max(max_rel, float(np.max(np.abs(ours[i] - ref) / np.maximum(np.abs(ref), 1e-12))))
        n_vertices += coords.shape[0]
    return {"mesh": name, "n_vertices": n_vertices, "n_maps": n_maps, "threads": numba.get_num_threads(),
            "amodal_s_per_map": ours_t / n_maps, "amodal_one_thread_s_per_map": ours_1t / n_maps,
            "mne_s_per_map": mne_t / n_maps, "speedup": mne_t / ours_t, "speedup_one_thread": mne_t / ours_1t,
            "max_rel_diff": max_rel}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fsaverage5 only")
    ap.add_argument("--n-maps", type=int, default=10)
    args = ap.parse_args()
    fs5 = load_mesh("fsaverage5", "inflated")
    results = [bench("fsaverage5 (both hemispheres)", [(fs5[h].coords, fs5[h].faces) for h in ("left", "right")],
                     args.n_maps)]
    if not args.quick:
        rr, tris = ico_mesh(7)
        results.append(bench("ico-7 (fsaverage7 topology, one hemisphere)", [(rr, tris)],
                             2 * max(1, args.n_maps // 3)))
    for r in results:
        assert r["max_rel_diff"] < 1e-6, r
    print(json.dumps({"bench": "tfce", "results": results}))


if __name__ == "__main__":
    main()
