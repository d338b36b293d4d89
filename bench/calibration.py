"""FWER calibration (see amodal.stats.simulate_fwer): pure-noise datasets through the pipeline's own searchlight
scoring, permutations and group stage. Prints one JSON line with the false-positive rate at p <= 0.05 of the invariant
(mod_agnostic_and_cross) and the imagery map, over the mesh and at a single vertex.

Default: 400 simulations of 6 subjects on ico-3 (1,284 vertices), 100 null maps per subject, 1,000 group
permutations over the mesh, and at the single vertex 46,656 (= 6^6, so the imagery null there is the exact
enumeration of every subject's 6 orderings)."""
import argparse
import json
import time

from amodal.stats import simulate_fwer

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--n-sims", type=int, default=400)
ap.add_argument("--n-perm", type=int, default=1000)
ap.add_argument("--n-perm-single", type=int, default=46_656)
ap.add_argument("--seed", type=int, default=0)
args = ap.parse_args()
t = time.perf_counter()
res = simulate_fwer(n_sims=args.n_sims, n_perm=args.n_perm, n_perm_single=args.n_perm_single, seed=args.seed,
                    log=lambda m: print(m, flush=True))
res["seed"] = args.seed
res["seconds"] = round(time.perf_counter() - t, 1)
print(json.dumps({"bench": "calibration", **res}))
