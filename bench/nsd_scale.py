"""The Natural Scenes Dataset at its real size: peak memory and time of preprocessing one subject at fsaverage7
with the nsdgeneral region, to check the rule's memory request (README "Real data").

Writes a tree in NSD's download layout (tests/data/nsd_tree.py at fsaverage7: ``{lh,rh}.betas_sessionSS.mgh`` of
163,842 x 750 float32 values, the design, responses.tsv, the nsdgeneral labels): two subjects with ``--sessions``
sessions each, the second with twice as many, so that the slope per session is measured and the real 40 sessions
(30,000 trials) are extrapolated from two measured points. Then, each in its own process (its peak RSS its own, as
the rules run them), :func:`amodal.data.preprocess_subject` with ``zscore: session``, ``average_repeats: test`` and
``roi: nsdgeneral``, as ``config/nsd.yaml`` runs it, and the store written:

- ``by_file``: through the adapter's reader, which keeps the region's vertices of each session file as it reads;
- ``whole``: the same with whole hemispheres read first and the region applied after (as amodal did before).

Both give the same store (asserted). Prints one JSON line: each point's seconds and peak RSS, and the linear
extrapolation to 40 sessions, marked as such.

    python bench/nsd_scale.py [--sessions 2] [--roi-every 8] [--tmp DIR]
"""
import argparse
import json
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

N_VERTICES = 163_842
REAL_SESSIONS = 40
REPO = Path(__file__).resolve().parents[1]


def step(way: str, root: str, out: str, subject: str, queue) -> None:
    import numpy as np

    from amodal import data
    from amodal.data.adapters import betas_reader, nsd

    reader = betas_reader("nsd", root, subject)
    if way == "whole":  # a plain callable: preprocessing reads whole hemispheres and applies the region after
        whole = reader

        def reader(hemi, trials, n_vertices):
            return whole(hemi, trials, n_vertices)

    t = time.perf_counter()
    roi = nsd.read_nsdgeneral(root, N_VERTICES)
    ds = data.preprocess_subject(out, subject, "fsaverage7", average="test", zscore="session", roi=roi,
                                 read_betas=reader, log=lambda m: None)
    data.write_store(ds, Path(out) / f"{subject}_{way}.zarr")
    seconds = time.perf_counter() - t
    digest = float(np.asarray(ds["betas"].values, np.float64).sum())
    queue.put((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20, ds.sizes["trial"],
               ds.sizes["vertex"], digest))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sessions", type=int, default=2, help="sessions of the first subject (the second: twice)")
    ap.add_argument("--roi-every", type=int, default=8,
                    help="the region is every k-th vertex (8: 12.5%% of the cortex, about nsdgeneral's share)")
    ap.add_argument("--tmp", default=None, help="folder for the tree (2 + 4 sessions take ~5.9 GB)")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from tests.data.nsd_tree import write_captions, write_images, write_tree

    from amodal.data.adapters import nsd

    tmp = Path(tempfile.mkdtemp(dir=args.tmp))
    subjects = {"sub-01": args.sessions, "sub-02": 2 * args.sessions}
    try:
        root, out = tmp / "nsd", tmp / "layout"
        t = time.perf_counter()
        write_tree(root, N_VERTICES, tuple(subjects), sessions=subjects, roi_every=args.roi_every)
        write_images(root)
        nsd.write_layout(root, out, list(subjects), coco_root=write_captions(tmp / "coco"), log=lambda m: None)
        t_write = time.perf_counter() - t
        ctx = multiprocessing.get_context("spawn")
        points = {}
        for subject, n in subjects.items():
            for way in ("by_file", "whole"):
                queue = ctx.Queue()
                child = ctx.Process(target=step, args=(way, str(root), str(out), subject, queue))
                child.start()
                seconds, peak, n_trials, n_kept, digest = queue.get()
                child.join()
                points.setdefault(way, []).append({"sessions": n, "trials": n * 750, "stored_trials": n_trials,
                                                   "vertices_kept": n_kept, "seconds": round(seconds, 1),
                                                   "peak_rss_gib": round(peak, 2), "_digest": digest})
        for a, b in zip(points["by_file"], points["whole"]):
            assert a["_digest"] == b["_digest"] and a["stored_trials"] == b["stored_trials"], (a, b)
        extrapolated = {}
        for way, (p1, p2) in points.items():
            for p in (p1, p2):
                p.pop("_digest")
            span, ahead = p2["sessions"] - p1["sessions"], REAL_SESSIONS - p1["sessions"]
            slope = (p2["peak_rss_gib"] - p1["peak_rss_gib"]) / span
            extrapolated[way] = {"peak_rss_gib": round(p1["peak_rss_gib"] + slope * ahead, 1),
                                 "gib_per_session": round(slope, 3),
                                 "seconds": round(p1["seconds"] + (p2["seconds"] - p1["seconds"]) / span * ahead)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({"bench": "nsd_scale", "n_vertices": 2 * N_VERTICES, "roi_fraction": round(1 / args.roi_every, 3),
                      "tree_written_s": round(t_write, 1), "measured": points,
                      f"extrapolated_to_{REAL_SESSIONS}_sessions": extrapolated}))


if __name__ == "__main__":
    main()
