"""FWER calibration run (see amodal.calibration): prints one JSON line. Default: 400 simulations on ico-3."""
import argparse
import json
import time

from amodal.calibration import simulate_fwer

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--n-sims", type=int, default=400)
ap.add_argument("--n-perm", type=int, default=1000)
args = ap.parse_args()
t = time.perf_counter()
res = simulate_fwer(n_sims=args.n_sims, n_perm=args.n_perm)
res["seconds"] = round(time.perf_counter() - t, 1)
print(json.dumps({"bench": "calibration", **res}))
