"""A tiny NSD download in its exact layout and formats (MGH betas of 750 trials per session, the MATLAB design,
responses.tsv, the stimulus CSV, an HDF5 imgBrick, COCO caption JSON, nsdgeneral MGZ), on a small mesh. Each
beta's values encode which trial it is, so tests can check the trial -> image mapping and the alignment."""
import json
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from scipy.io import savemat

from amodal.data.adapters import nsd

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
    return {"masterordering": order[None, :], "subjectim": subjectim, "sharedix": shared_ids[None, :]}


def write_tree(root, n_vertices=642, subjects=("sub-01", "sub-02"), sessions=None, roi_every=3):
    """The tree under ``root``; ``sessions``: subject -> number of sessions on disk (default :data:`N_SESSIONS`, the
    design covers the largest); the nsdgeneral region is every ``roi_every``-th vertex (bench/nsd_scale.py writes
    the real size with it)."""
    root = Path(root)
    sessions = {s: (sessions or {}).get(s, N_SESSIONS) for s in subjects}
    d = design(n_sessions=max(sessions.values()))
    exp = nsd.expdesign_path(root)
    exp.parent.mkdir(parents=True, exist_ok=True)
    savemat(exp, d)
    info = pd.DataFrame({"cocoId": 100000 + np.arange(N_IMAGES), "cocoSplit": np.where(np.arange(N_IMAGES) % 7,
                         "train2017", "val2017"), "nsdId": np.arange(N_IMAGES)})
    info.to_csv(nsd.stim_info_path(root))
    for subject in subjects:
        s = int(subject[-2:])
        t = np.arange(sessions[subject] * 750)
        img73 = d["subjectim"][s - 1, d["masterordering"][0, t] - 1]  # 1-based
        resp = pd.DataFrame({"SUBJECT": s, "SESSION": t // 750 + 1, "RUN": (t % 750) // 63 + 1,
                             "TRIAL": (t % 750) % 63 + 1, "73KID": img73, "10KID": d["masterordering"][0, t]})
        p = nsd.responses_path(root, subject)
        p.parent.mkdir(parents=True, exist_ok=True)
        resp.to_csv(p, sep="\t", index=False)
        base = nsd.betas_dir(root, subject)
        base.mkdir(parents=True, exist_ok=True)
        for hemi, fh in nsd.FS_HEMI.items():
            for k in range(1, sessions[subject] + 1):
                data = np.stack([trial_values(subject, hemi, int(i), n_vertices)
                                 for i in range((k - 1) * 750, k * 750)], axis=1)
                nib.save(nib.MGHImage(data[:, None, None, :], np.eye(4)), base / f"{fh}.betas_session{k:02d}.mgh")
    for hemi in nsd.FS_HEMI:
        p = nsd.nsdgeneral_path(root, hemi)
        p.parent.mkdir(parents=True, exist_ok=True)
        mask = (np.arange(n_vertices) % roi_every == 0).astype(np.float32)
        nib.save(nib.MGHImage(mask[:, None, None], np.eye(4)), p)
    return root


def write_images(root, size=16):
    """NSD's nsd_stimuli.hdf5 (imgBrick), with small images."""
    import h5py

    p = nsd.images_path(root)
    p.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    with h5py.File(p, "w") as f:
        f.create_dataset("imgBrick", data=rng.integers(0, 255, (N_IMAGES, size, size, 3), dtype=np.uint8))


def write_captions(coco_root):
    ann = Path(coco_root) / "annotations"
    ann.mkdir(parents=True, exist_ok=True)
    for split in ("train2017", "val2017"):
        anns = []
        for k in range(N_IMAGES):
            if (split == "train2017") == bool(k % 7):
                anns += [{"image_id": 100000 + k, "id": 10 * k + 2, "caption": f"second caption {k}"},
                         {"image_id": 100000 + k, "id": 10 * k + 1, "caption": f"first caption {k} "}]
        (ann / f"captions_{split}.json").write_text(json.dumps({"annotations": anns}))
    return coco_root
