"""A tiny NSD download in its exact layout and formats (MGH betas of 750 trials per session, the MATLAB design,
responses.tsv, the stimulus CSV, an HDF5 imgBrick, COCO caption JSON, nsdgeneral MGZ), on a small mesh, written by
the library's NSD writer (:mod:`amodal.data.adapters.nsd`). Each beta's values encode which trial it is, so tests
can check the trial -> image mapping and the alignment."""
import json
import zlib
from pathlib import Path

import numpy as np

from amodal.data.adapters import nsd
from amodal.surface import HEMIS

N_SESSIONS = 2
N_TEN_K = 1100          # the fixture's "10k" list per subject: 1000 shared, then 100 subject-specific
N_IMAGES = 3000         # the fixture's "73k" images


def trial_values(subject, hemi, trial, n_vertices):
    key = f"{subject}|{hemi}|{trial}"
    return np.random.default_rng(zlib.crc32(key.encode())).standard_normal(n_vertices).astype(np.float32)


def design(seed=0, n_sessions=N_SESSIONS):
    rng = np.random.default_rng(seed)
    # trials 0..1499: 60 shared images three times, and the 100 subject-specific images as often as fits
    shared = np.repeat(np.arange(1, 61), 3)
    own = np.resize(np.arange(1001, N_TEN_K + 1), n_sessions * 750 - shared.size)
    order = rng.permutation(np.concatenate([shared, own]))
    subjectim = np.zeros((8, N_TEN_K), dtype=np.int64)
    shared_ids = rng.choice(np.arange(1, N_IMAGES + 1), 1000, replace=False)
    rest = np.setdiff1d(np.arange(1, N_IMAGES + 1), shared_ids)
    for s in range(8):
        subjectim[s, :1000] = shared_ids
        subjectim[s, 1000:] = rng.choice(rest, N_TEN_K - 1000, replace=False)
    return {"masterordering": order[None, :], "subjectim": subjectim}


def coco_split():
    return np.where(np.arange(N_IMAGES) % 7, "train2017", "val2017")


def write_tree(root, n_vertices=642, subjects=("sub-01", "sub-02"), sessions=None, roi_every=3):
    """The tree under ``root``; ``sessions``: subject -> number of sessions on disk (default :data:`N_SESSIONS`, the
    design covers the largest); the nsdgeneral region is every ``roi_every``-th vertex (bench/nsd_scale.py writes
    the real size with it)."""
    root = Path(root)
    sessions = {s: (sessions or {}).get(s, N_SESSIONS) for s in subjects}
    d = design(n_sessions=max(sessions.values()))
    nsd.write_design(root, d["masterordering"], d["subjectim"])
    nsd.write_stim_info(root, 100000 + np.arange(N_IMAGES), coco_split())
    for subject in subjects:
        nsd.write_responses(root, subject, d["masterordering"], d["subjectim"], sessions[subject])
        for hemi in HEMIS:
            for k in range(1, sessions[subject] + 1):
                data = np.stack([trial_values(subject, hemi, int(i), n_vertices)
                                 for i in range((k - 1) * 750, k * 750)], axis=1)
                nsd.write_session_betas(root, subject, hemi, k, data)
    nsd.write_nsdgeneral(root, {h: np.arange(n_vertices) % roi_every == 0 for h in HEMIS})
    return root


def write_images(root, size=16):
    """NSD's nsd_stimuli.hdf5 (imgBrick), with small images."""
    rng = np.random.default_rng(1)
    nsd.write_images(root, rng.integers(0, 255, (N_IMAGES, size, size, 3), dtype=np.uint8))


def write_captions(coco_root):
    """COCO caption files; each file's annotations are reversed, so that an image's lowest annotation id (the caption
    the reader takes) is not the first in the file, as in COCO's own files."""
    nsd.write_coco_captions(coco_root, 100000 + np.arange(N_IMAGES), coco_split(),
                            [[f"first caption {k} ", f"second caption {k}"] for k in range(N_IMAGES)])
    for path in (Path(coco_root) / "annotations").glob("captions_*.json"):
        path.write_text(json.dumps({"annotations": json.loads(path.read_text())["annotations"][::-1]}))
    return coco_root
