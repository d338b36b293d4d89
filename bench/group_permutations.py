"""Time the group stage as the ``group_stats`` rule runs it: 6 subjects x 3 training modes x 2 hemispheres of
searchlight stores on fsaverage5 (100 null maps per subject, 6 imagery orderings), the default test maps and the
default 10,000 group permutations; loading the stores, t-maps, TFCE, the Stelzer null, p-values, clusters, the
cluster table and every GIFTI map with its sidecar. The stores are written first (not timed), from smooth null
accuracy maps around chance, as a searchlight null produces. Prints one JSON line. Goal: under 2 minutes."""
import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from amodal import data, searchlight, stats
from amodal.surface import HEMIS, load_mesh, smooth, smoothing_operator

REPO = Path(__file__).resolve().parents[1]


def write_stores(root: Path, n_subjects: int, n_null: int, seed: int = 0) -> dict:
    mesh = load_mesh("fsaverage5", "inflated")
    nv = mesh["left"].n_vertices
    op = smoothing_operator(mesh["left"].faces, nv)
    g = np.random.default_rng(seed)
    ima = searchlight.imagery_orderings(3, n_null, g)
    paths = {}

    def field(n):  # (n, nv) smooth maps around chance
        f = smooth(g.standard_normal((nv, n)), op, 3).T
        return (0.5 + 0.03 * f / f.std()).astype(np.float32)

    for s in range(n_subjects):
        subject = f"sub-{s + 1:02d}"
        for mode in ("images", "captions", "agnostic"):
            for hemi in HEMIS:
                res = {"obs": {k: field(1)[0] for k in searchlight.OBS_METRICS},
                       "null": {k: field(n_null) for k in searchlight.NULL_METRICS}}
                res["null"].update({k: field(ima.shape[0]) for k in searchlight.IMAGERY_NULL_METRICS})
                ds = searchlight.to_dataset(res, np.arange(nv), {"subject": subject, "training_mode": mode,
                                                                 "hemi": hemi}, imagery_perms=ima)
                path = root / f"{subject}_{mode}_{hemi}.zarr"
                data.write_store(ds, path)
                paths[(subject, mode, hemi)] = [path]
    return paths


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n-permutations", type=int, default=None, help="default: the config's (10,000)")
    args = ap.parse_args()
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    stats_cfg = dict(cfg["stats"])
    if args.n_permutations:
        stats_cfg["n_permutations"] = args.n_permutations
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = write_stores(tmp / "stores", 6, cfg["searchlight"]["n_permutations"])
        subjects = sorted({k[0] for k in paths})
        kw = dict(paths=paths, subjects=subjects, modes=("images", "captions", "agnostic"), mesh="fsaverage5",
                  atlas=None, seed=0, searchlight_params={}, log=lambda *a: None)
        stats.group_analysis(cfg=dict(stats_cfg, n_permutations=20), out_dir=tmp / "warm", **kw)  # compile
        t = time.perf_counter()
        summary = stats.group_analysis(cfg=stats_cfg, out_dir=tmp / "group", **kw)
        dt = time.perf_counter() - t
        n_files = len(list((tmp / "group").iterdir()))
    print(json.dumps({"bench": "group_stage", "n_permutations": stats_cfg["n_permutations"], "n_subjects": 6,
                      "test_maps": stats_cfg["test_maps"], "n_vertices": 20484, "seconds": round(dt, 1),
                      "goal_seconds": 120, "files_written": n_files,
                      "null_schemes": {k: v["null_scheme"] for k, v in summary.items()}}))


if __name__ == "__main__":
    main()
