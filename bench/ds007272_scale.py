"""The reference study's data at its real size: time and peak memory of reading and preprocessing one subject of
OpenNeuro ds007272 at fsaverage7, to plan a workstation or cluster run (README "Real data").

Writes a tree in ds007272's download layout (``stimuli/stimuli.csv``, ``derivatives/betas/surface/<hemi>/sub-01/
betas_<split>/beta_NNNNNN.gii``, one GIFTI map of 163,842 float32 values per beta, as the study publishes them):
``--n-train`` train betas (half images, half captions), the 70 test ids in both modalities and the 3 imagery
betas. Then, each in its own process so that its peak memory (max RSS) is its own, as the rules run them:

- ``import``: :func:`amodal.data.adapters.ds007272.write_layout` (lists and checks every file, writes the tables);
- ``preprocess``: :func:`amodal.data.preprocess_subject` through the adapter's reader, and the Zarr store written.

Prints one JSON line with each step's seconds and peak RSS, the betas' size in float32 and on disk. The real
subjects have about 7,000 betas; time and memory grow linearly with the count (the run at 2,000 gives the slope).

    python bench/ds007272_scale.py [--n-train 2000] [--tmp DIR]
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
REPO = Path(__file__).resolve().parents[1]


def write_tree(root: Path, n_train: int) -> None:
    """The test suite's tree writer (tests/data/ds007272_tree.py) at the real size, for sub-01 only: ``n_train``
    train betas, half images and half captions, a quarter of the stimuli seen in both modalities."""
    sys.path.insert(0, str(REPO))
    from tests.data.ds007272_tree import write_tree as write_ds007272

    images = list(range(900001, 900001 + n_train // 2))
    captions = list(range(900001 + n_train // 4, 900001 + n_train // 4 + n_train - n_train // 2))  # overlap
    write_ds007272(root, N_VERTICES, ("sub-01",), {"sub-01": (images, captions)})


def step(name: str, root: str, out: str, queue) -> None:
    from amodal import data
    from amodal.data.adapters import betas_reader, ds007272

    t = time.perf_counter()
    if name == "import":
        ds007272.write_layout(root, out, ["sub-01"], log=lambda m: None)
    else:
        ds = data.preprocess_subject(out, "sub-01", "fsaverage7", log=lambda m: None,
                                     read_betas=betas_reader("ds007272", root, "sub-01"))
        data.write_store(ds, Path(out) / "sub-01_betas.zarr")
    queue.put((time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n-train", type=int, default=2000)
    ap.add_argument("--tmp", default=None, help="folder for the tree (2,000 train betas take ~3.4 GB)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(dir=args.tmp))
    try:
        root, out = tmp / "ds007272", tmp / "layout"
        t = time.perf_counter()
        write_tree(root, args.n_train)
        t_write = time.perf_counter() - t
        n_betas = args.n_train + 143
        res = {}
        ctx = multiprocessing.get_context("spawn")
        for name in ("import", "preprocess"):
            queue = ctx.Queue()
            child = ctx.Process(target=step, args=(name, str(root), str(out), queue))
            child.start()
            dt, peak = queue.get()
            child.join()
            res[name] = {"seconds": round(dt, 1), "peak_rss_gib": round(peak, 2)}
        disk = sum(f.stat().st_size for f in root.rglob("*.gii")) / 2 ** 30
        store = sum(f.stat().st_size for f in (out / "sub-01_betas.zarr").rglob("*") if f.is_file()) / 2 ** 30
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({"bench": "ds007272_scale", "n_betas_per_hemisphere": n_betas, "n_vertices": 2 * N_VERTICES,
                      "betas_float32_gib": round(n_betas * 2 * N_VERTICES * 4 / 2 ** 30, 2),
                      "gifti_on_disk_gib": round(disk, 2), "store_on_disk_gib": round(store, 2),
                      "tree_written_s": round(t_write, 1), **res}))


if __name__ == "__main__":
    main()
