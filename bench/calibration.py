"""FWER calibration (see amodal.stats.simulate_fwer): pure-noise datasets through the pipeline's own searchlight
scoring, permutations and group stage. Prints one JSON line with the false-positive rate at p <= 0.05 of the invariant
(mod_agnostic_and_cross) and the imagery map, over the mesh and at a single vertex.

Default: 1,600 simulations of 6 subjects on ico-3 (1,284 vertices), 100 null maps per subject, 1,000 group
permutations over the mesh, and at the single vertex 46,656 (= 6^6, so the imagery null there is the exact
enumeration of every subject's 6 orderings). ``--jobs`` runs the simulations in that many processes (the rates do not
depend on it); ``--start`` numbers the first simulation, to extend an earlier run; ``--hits FILE`` keeps every
simulation's outcome, to pool runs over disjoint ranges."""
import argparse
import json
import time

from amodal.stats import simulate_fwer


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n-sims", type=int, default=1600)
    ap.add_argument("--n-perm", type=int, default=1000)
    ap.add_argument("--n-perm-single", type=int, default=46_656)
    ap.add_argument("--n-null", type=int, default=100, help="null maps per subject (the pipeline's default: 100)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--hits", default=None,
                    help="write the whole result, with every simulation's outcome, to this JSON")
    args = ap.parse_args()
    t = time.perf_counter()
    res = simulate_fwer(n_sims=args.n_sims, n_null=args.n_null, n_perm=args.n_perm, n_perm_single=args.n_perm_single,
                        seed=args.seed, start=args.start, n_jobs=args.jobs, log=lambda m: print(m, flush=True))
    res["seed"] = args.seed
    res["seconds"] = round(time.perf_counter() - t, 1)
    if args.hits:
        with open(args.hits, "w") as fh:
            json.dump(res, fh)
    res.pop("hits")
    print(json.dumps({"bench": "calibration", **res}))


if __name__ == "__main__":  # the worker processes (--jobs) import this file
    main()
