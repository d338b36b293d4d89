"""Time the group stage as the ``group_stats`` rule runs it: 6 subjects x 3 training modes x 2 hemispheres of
searchlight stores on fsaverage5 (100 null maps per subject, 6 imagery orderings), the default test maps and the
default 10,000 group permutations; loading the stores, t-maps, TFCE, the Stelzer null, p-values, clusters, the
cluster table and every GIFTI map with its sidecar. The stores are written first (not timed), from smooth null
accuracy maps around chance, as a searchlight null produces. Prints one JSON line. Goal: under 2 minutes.

``--mesh ico7`` runs the same stage at fsaverage7 size (163,842 vertices per hemisphere) on MNE's icosahedron,
which has fsaverage7's topology and ships offline (the fsaverage7 surfaces need a download; the group stage's time
and memory depend only on the vertex count and the mesh adjacency). The group stage then runs in a child process,
whose peak resident memory is reported (``peak_rss_gib``), to plan the ``group_stats`` job's memory.

Side by side (``null_*``): the group null alone (test maps of every permutation, TFCE, maxima over hemispheres) as
amodal computes it (one compiled pass per permutation over the null maps, permutations on every core) and as the
same steps written with numpy arrays (gather each batch's null maps, t-maps, minima; amodal's form before), on the
same loaded stores and ``--reference-permutations`` configurations, TFCE the same on both sides; the maxima are
asserted equal."""
import argparse
import json
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from amodal import data, searchlight, stats
from amodal.surface import HEMIS, group_surfaces, ico_mesh, smooth, smoothing_operator

REPO = Path(__file__).resolve().parents[1]


def surfaces(mesh: str) -> dict:
    """``{hemi: (faces, coords)}`` for :func:`amodal.stats.group_analysis`: fsaverage5's inflated faces and pial
    coordinates, or MNE's icosahedron of grade 7 for both hemispheres."""
    if mesh == "ico7":
        coords, faces = ico_mesh(7)
        return {h: (faces, coords) for h in HEMIS}
    return group_surfaces(mesh)


def write_stores(root: Path, n_subjects: int, n_null: int, faces: np.ndarray, nv: int, seed: int = 0) -> dict:
    op = smoothing_operator(faces, nv)
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


def small_mesh():
    faces, coords = surfaces("fsaverage5")["left"]
    return faces, coords.shape[0]


def quiet(*_):
    pass


def timed_group(kw: dict, stats_cfg: dict, out: Path, queue) -> None:
    """The group stage once, timed (in a child process for the peak memory of that stage alone)."""
    t = time.perf_counter()
    summary = stats.group_analysis(cfg=stats_cfg, out_dir=out, **kw)
    dt = time.perf_counter() - t
    queue.put((dt, {k: v["null_scheme"] for k, v in summary.items()},
               resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20))


def numpy_group_null(null, picks, names, cols, adj, tfce_kw, batch_bytes=640 * 2 ** 20):
    """The reference: the group null's steps as numpy array operations, batched by the gathered bytes."""
    from amodal.stats import _permutations as perm

    subj = np.arange(picks.shape[1])
    per_perm = sum(picks.shape[1] * a.shape[2] * a.itemsize for a in null.values())
    size = int(np.clip(batch_bytes // per_perm, 1, perm.MAX_BATCH))
    out = {n: np.zeros(picks.shape[0]) for n in names}
    for start in range(0, picks.shape[0], size):
        sel = picks[start: start + size]
        # (b, S, V) per key, gathered; then the functions of the observed maps
        ts = perm.t_maps(perm.base_values({k: a[subj[None, :], sel] for k, a in null.items()}), axis=1)
        for n in names:
            tm = stats.test_map(ts, n)
            out[n][start: start + sel.shape[0]] = np.max(
                [stats.tfce(tm[:, c], adj[h], **tfce_kw).max(axis=1) for h, c in cols.items()], axis=0)
    return out


def timed_null(paths, subjects, surf, stats_cfg, n_perm, queue) -> None:
    """amodal's group null and the numpy reference on the same stores and configurations, maxima asserted equal."""
    from amodal.stats import _group, _permutations as perm
    from amodal.surface import adjacency

    nv = surf["left"][1].shape[0]
    _, null = _group.load_stores(paths, subjects, ("images", "captions", "agnostic"), nv)
    adj = {h: adjacency(surf[h][0], nv) for h in HEMIS}
    cols = {h: slice(i * nv, (i + 1) * nv) for i, h in enumerate(HEMIS)}
    kw = {"e_power": stats_cfg["tfce_e"], "h_power": stats_cfg["tfce_h"], "dh": stats_cfg["tfce_dh"], "strict": True}
    res = {}
    by_family = {}
    for name in stats_cfg["test_maps"]:
        by_family.setdefault(perm.family_of(name), []).append(name)
    for fam, fam_names in by_family.items():
        keys = {k for n in fam_names for c in stats.TEST_MAPS[n] for k in perm._keys_of(c)}
        fam_null = {k: null[k] for k in null if k in keys}
        n_sub, n_null = next(iter(fam_null.values())).shape[:2]
        picks, _ = stats.group_configurations(n_null, n_sub, n_perm, 0, fam)
        t = time.perf_counter()
        ours = stats.group_null(fam_null, cols, adj, fam_names, n_perm, 0, kw)
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        ref = numpy_group_null(fam_null, picks, fam_names, cols, adj, kw)
        t_ref = time.perf_counter() - t
        for n in fam_names:
            np.testing.assert_array_equal(ours[n], ref[n])
        res[fam] = {"amodal_s": round(t_ours, 2), "numpy_s": round(t_ref, 2), "ratio": round(t_ref / t_ours, 1)}
    queue.put(res)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n-permutations", type=int, default=None, help="default: the config's (10,000)")
    ap.add_argument("--mesh", choices=["fsaverage5", "ico7"], default="fsaverage5")
    ap.add_argument("--reference-permutations", type=int, default=None,
                    help="group permutations of the side-by-side null comparison (default: as the stage; 0: skip)")
    ap.add_argument("--tmp", default=None, help="folder for the stores (default: a temporary one; ico7 needs ~6 GB)")
    args = ap.parse_args()
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    stats_cfg = dict(cfg["stats"])
    if args.n_permutations:
        stats_cfg["n_permutations"] = args.n_permutations
    surf = surfaces(args.mesh)
    nv = surf["left"][1].shape[0]
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        paths = write_stores(tmp / "stores", 6, cfg["searchlight"]["n_permutations"], surf["left"][0], nv)
        t_write = time.perf_counter() - t
        subjects = sorted({k[0] for k in paths})
        kw = dict(paths=paths, subjects=subjects, modes=("images", "captions", "agnostic"), mesh=args.mesh,
                  atlas=None, seed=0, searchlight_params={}, log=quiet, surfaces=surf)
        # numba compiles its kernels into its disk cache for the child; on small stores, so that the parent does not
        # hold a second copy of large ones
        warm = write_stores(tmp / "warm_stores", 2, 20, *small_mesh())
        stats.group_analysis(cfg=dict(stats_cfg, n_permutations=20), out_dir=tmp / "warm",
                             **dict(kw, paths=warm, subjects=sorted({k[0] for k in warm}), surfaces=None,
                                    mesh="fsaverage5"))
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        child = ctx.Process(target=timed_group, args=(kw, stats_cfg, tmp / "group", queue))
        child.start()
        dt, schemes, peak = queue.get()
        child.join()
        n_files = len(list((tmp / "group").iterdir()))
        n_ref = stats_cfg["n_permutations"] if args.reference_permutations is None else args.reference_permutations
        side = None
        if n_ref:
            child = ctx.Process(target=timed_null, args=(paths, subjects, surf, stats_cfg, n_ref, queue))
            child.start()
            child.join()
            if child.exitcode:
                raise SystemExit(f"the side-by-side null comparison failed (exit {child.exitcode})")
            side = queue.get()
    print(json.dumps({"bench": "group_stage", "mesh": args.mesh, "n_permutations": stats_cfg["n_permutations"],
                      "n_subjects": 6, "test_maps": stats_cfg["test_maps"], "n_vertices": 2 * nv,
                      "seconds": round(dt, 1), "peak_rss_gib": round(peak, 2),
                      "stores_written_s": round(t_write, 1), "goal_seconds": 120, "files_written": n_files,
                      "null_schemes": schemes, "null_side_by_side": side and {"n_permutations": n_ref, **side}}))


if __name__ == "__main__":
    main()
