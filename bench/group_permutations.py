"""Time 10,000 Stelzer group permutations with TFCE on fsaverage5 (both hemispheres), 6 subjects, 100 null maps
per subject, for the modality-invariant test map (min of 4 t-maps). Prints one JSON line. Goal: < 2 minutes."""
import argparse
import json
import time

import numpy as np

from amodal import HEMIS, stats
from amodal.surface import adjacency, load_mesh, smooth, smoothing_operator


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n-permutations", type=int, default=10_000)
    args = ap.parse_args()
    mesh = load_mesh("fsaverage5", "inflated")
    nv = mesh["left"].n_vertices
    adj = {h: adjacency(mesh[h].faces, nv) for h in HEMIS}
    op = smoothing_operator(mesh["left"].faces, nv)
    g = np.random.default_rng(0)
    keys = [(m, met) for name, m, met, _ in stats.BASE if name in stats.TEST_MAPS["mod_agnostic_and_cross"]]
    null = {}
    for key in keys:  # smooth null accuracy maps around chance, as a searchlight null produces
        noise = smooth(g.standard_normal((nv, 6 * 100 * 2)), op, 3).T.reshape(6, 100, 2 * nv)
        null[key] = (0.5 + 0.03 * noise / noise.std()).astype(np.float32)
    cols = {h: slice(i * nv, (i + 1) * nv) for i, h in enumerate(HEMIS)}
    kw = {"e_power": 1.0, "h_power": 2.0, "dh": 0.1}
    stats.group_null(null, cols, adj, ["mod_agnostic_and_cross"], 50, 0, kw)  # compile
    t = time.perf_counter()
    maxima = stats.group_null(null, cols, adj, ["mod_agnostic_and_cross"], args.n_permutations, 0, kw)
    dt = time.perf_counter() - t
    print(json.dumps({"bench": "group_permutations", "n_permutations": args.n_permutations, "n_subjects": 6,
                      "n_vertices": 2 * nv, "seconds": round(dt, 1), "goal_seconds": 120,
                      "null_max_median": float(np.median(maxima["mod_agnostic_and_cross"]))}))


if __name__ == "__main__":
    main()
