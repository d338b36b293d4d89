"""A tiny ds007272 tree in the exact layout of the download (derivatives/betas/surface/..., stimuli/stimuli.csv),
with maps on a small mesh so that tests run in seconds. Each map's values encode which beta it is, so tests can
check that rows are aligned by stimulus and modality, never by file order."""
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from amodal.data.adapters import ds007272

TRAIN = {"sub-01": (list(range(900001, 900013)), list(range(900008, 900020))),  # images, captions (overlap 5)
         "sub-07": (list(range(910001, 910011)), list(range(910001, 910011)))}


def beta_values(subject, hemi, split, modality, stimulus, n_vertices):
    """The map written for one beta (a stable function of what the beta is)."""
    key = f"{subject}|{hemi}|{split}|{modality}|{stimulus}"
    return np.random.default_rng(zlib.crc32(key.encode())).standard_normal(n_vertices).astype(np.float32)


def write_gifti(path, values):
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.gifti.GiftiImage(darrays=[nib.gifti.GiftiDataArray(values.astype(np.float32))]), path)


def write_tree(root, n_vertices=642, subjects=("sub-01", "sub-07"), train=None):
    """The tree under ``root``: for each subject its train betas (``train``: subject → (image ids, caption ids);
    default :data:`TRAIN`), the test ids in both modalities, its imagery betas and a blank beta, on both
    hemispheres of ``n_vertices`` vertices (bench/ds007272_scale.py writes the real size with it)."""
    root = Path(root)
    train = TRAIN if train is None else train
    scenes = ds007272.imagery_scenes()
    ids = set(ds007272.test_ids()) | set(scenes["stimulus_id"])
    for s in subjects:
        ids |= {str(i) for part in train[s] for i in part}
    rows = [{"cocoid": int(i), "img_path": f"images\\train2017\\{int(i):012d}.jpg", "caption": f"caption of {i}",
             "used": True} for i in sorted(ids, key=int)]
    rows.append({"cocoid": 999999, "img_path": "images\\val2017\\000000999999.jpg", "caption": "never shown",
                 "used": False})
    (root / "stimuli").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).set_index("cocoid").to_csv(root / "stimuli" / "stimuli.csv")
    for s in subjects:
        images, captions = train[s]
        sub_scenes = scenes[scenes["subject"] == s]
        for hemi in ("left", "right"):
            base = ds007272.surface_dir(root, hemi, s)
            for split, modality, stimuli in (("train", "image", images), ("train", "caption", captions),
                                             ("test", "image", ds007272.test_ids()),
                                             ("test", "caption", ds007272.test_ids())):
                for i in stimuli:
                    write_gifti(base / f"betas_{split}_{modality}" / f"beta_{int(i):06d}.gii",
                                beta_values(s, hemi, split, modality, str(i), n_vertices))
            for _, sc in sub_scenes.iterrows():
                write_gifti(base / "betas_imagery" / f"beta_{int(sc['scene']):06d}.gii",
                            beta_values(s, hemi, "imagery", "imagery", sc["stimulus_id"], n_vertices))
            write_gifti(base / "betas_blank" / "beta_blank.gii", np.zeros(n_vertices, np.float32))
    return root


def write_coco(coco_root, stimulus_ids):
    """Small PNG-encoded files at COCO's paths for the given ids."""
    from PIL import Image

    for i in stimulus_ids:
        path = Path(coco_root) / "images" / "train2017" / f"{int(i):012d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 8), (int(i) % 255, 0, 0)).save(path, format="JPEG")
