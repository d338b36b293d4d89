"""The on-disk dataset layout shared by the synthetic generator and real data, with validating readers.

Layout under a dataset root::

    dataset_description.json
    stimuli/stimuli.tsv                 id, caption, image_file (relative to stimuli/)
    stimuli/images/<id>.png
    atlas/atlas_hemi-L.label.gii        ground-truth or parcellation labels per hemisphere
    atlas/atlas_hemi-R.label.gii
    atlas/planted.json                  synthetic data only: planted regions and gains
    sub-XX/sub-XX_trials.tsv            trial, stimulus_id, modality, split, run
    sub-XX/sub-XX_hemi-L_betas.func.gii one data array per trial, in the order of the trials table
    sub-XX/sub-XX_hemi-R_betas.func.gii

A real dataset (for example ds007272's surface betas) is brought into this layout by an adapter; every
later step reads only this layout, so one code path serves synthetic and real data.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from . import HEMI_BIDS, HEMIS
from .errors import DataError

MODALITIES = ("image", "caption", "imagery")
SPLITS = ("train", "test", "imagery")
TRIAL_COLUMNS = ("trial", "stimulus_id", "modality", "split", "run")
STIMULUS_COLUMNS = ("id", "caption", "image_file")


def stimuli_tsv(root) -> Path:
    return Path(root) / "stimuli" / "stimuli.tsv"


def trials_tsv(root, subject: str) -> Path:
    return Path(root) / subject / f"{subject}_trials.tsv"


def betas_gifti(root, subject: str, hemi: str) -> Path:
    return Path(root) / subject / f"{subject}_hemi-{HEMI_BIDS[hemi]}_betas.func.gii"


def atlas_gifti(root, hemi: str) -> Path:
    return Path(root) / "atlas" / f"atlas_hemi-{HEMI_BIDS[hemi]}.label.gii"


def planted_json(root) -> Path:
    return Path(root) / "atlas" / "planted.json"


def _require(path: Path, what: str) -> Path:
    if not path.is_file():
        raise DataError(f"missing {what}: {path} does not exist. Check `dataset.path` in the config, or "
                        f"rerun the dataset rule (for the synthetic dataset: snakemake generate_synthetic).")
    return path


def read_stimuli(root) -> pd.DataFrame:
    """Read and check the stimuli table; ids are strings."""
    path = _require(stimuli_tsv(root), "stimuli table")
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    missing = [c for c in STIMULUS_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; the stimuli table needs {list(STIMULUS_COLUMNS)}")
    dup = df["id"][df["id"].duplicated()].tolist()
    if dup:
        raise DataError(f"{path}: stimulus ids must be unique; duplicated: {dup[:10]}")
    return df


def read_trials(root, subject: str, stimulus_ids=None) -> pd.DataFrame:
    """Read and check a subject's trials table against the stimuli table."""
    path = _require(trials_tsv(root, subject), f"trials table of {subject}")
    df = pd.read_csv(path, sep="\t", dtype={"stimulus_id": str, "modality": str, "split": str, "run": str},
                     keep_default_na=False)
    missing = [c for c in TRIAL_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; the trials table needs {list(TRIAL_COLUMNS)}")
    for col, allowed in (("modality", MODALITIES), ("split", SPLITS)):
        bad = ~df[col].isin(allowed)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{path}, row {row + 2}: {col} {df[col].iloc[row]!r} is not one of {list(allowed)}")
    if not np.array_equal(df["trial"].to_numpy(), np.arange(len(df))):
        raise DataError(f"{path}: column 'trial' must count 0, 1, 2, ... in file order (it indexes the "
                        f"data arrays of the betas GIFTI)")
    if stimulus_ids is not None:
        known = set(stimulus_ids)
        bad = ~df["stimulus_id"].isin(known)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{path}, row {row + 2} (trial {row}): stimulus_id {df['stimulus_id'].iloc[row]!r} is "
                            f"not in the stimuli table {stimuli_tsv(root)}; add it there or drop the trial")
    return df


def read_betas(root, subject: str, hemi: str, n_trials: int, n_vertices: int) -> np.ndarray:
    """Read one hemisphere's betas as (n_trials, n_vertices) float32 and check the shape."""
    path = _require(betas_gifti(root, subject, hemi), f"{hemi} betas of {subject}")
    try:
        img = nib.load(path)
    except Exception as exc:  # nibabel raises several types for corrupt files
        raise DataError(f"{path}: cannot be read as GIFTI ({exc})") from exc
    arrays = [np.asarray(d.data) for d in img.darrays]
    if len(arrays) == 1 and arrays[0].ndim == 2:  # one 2-D array: vertices x trials (nilearn convention)
        data = arrays[0].T
    else:
        sizes = {a.size for a in arrays}
        if len(sizes) != 1:
            raise DataError(f"{path}: data arrays have different lengths {sorted(sizes)}")
        data = np.stack([a.ravel() for a in arrays])
    if data.shape[1] != n_vertices:
        raise DataError(f"{path}: {data.shape[1]} vertices per map, but the {hemi} hemisphere of the mesh has "
                        f"{n_vertices}; check `dataset.mesh` in the config")
    if data.shape[0] != n_trials:
        raise DataError(f"{path}: {data.shape[0]} beta maps, but {trials_tsv(root, subject)} lists {n_trials} "
                        f"trials; there must be one map per trial row, in the same order")
    return data.astype(np.float32, copy=False)


def write_betas(path, data: np.ndarray, hemi: str) -> None:
    """Write (n_trials, n_vertices) betas as a GIFTI with one float32 data array per trial."""
    structure = {"left": "CortexLeft", "right": "CortexRight"}[hemi]
    meta = nib.gifti.GiftiMetaData({"AnatomicalStructurePrimary": structure})
    darrays = [nib.gifti.GiftiDataArray(np.ascontiguousarray(row, dtype=np.float32),
                                        intent="NIFTI_INTENT_ESTIMATE", datatype="NIFTI_TYPE_FLOAT32")
               for row in data]
    nib.save(nib.gifti.GiftiImage(meta=meta, darrays=darrays), str(path))


def write_labels(path, labels: np.ndarray, names: dict[int, str], hemi: str, colours=None) -> None:
    """Write an integer label map as a GIFTI .label.gii with its label table."""
    import matplotlib

    structure = {"left": "CortexLeft", "right": "CortexRight"}[hemi]
    table = nib.gifti.GiftiLabelTable()
    cmap = matplotlib.colormaps["tab10"]
    for key, name in sorted(names.items()):
        lab = nib.gifti.GiftiLabel(key=int(key))
        lab.label = name
        rgba = (0.85, 0.85, 0.85, 0.0) if key == 0 else (colours or {}).get(key, cmap(key % 10))
        lab.red, lab.green, lab.blue, lab.alpha = rgba
        table.labels.append(lab)
    img = nib.gifti.GiftiImage(labeltable=table,
                               meta=nib.gifti.GiftiMetaData({"AnatomicalStructurePrimary": structure}))
    img.add_gifti_data_array(nib.gifti.GiftiDataArray(np.asarray(labels, dtype=np.int32),
                                                      intent="NIFTI_INTENT_LABEL", datatype="NIFTI_TYPE_INT32"))
    nib.save(img, str(path))


def read_labels(path) -> tuple[np.ndarray, dict[int, str]]:
    """Read a .label.gii: the label per vertex and the key → name table."""
    path = _require(Path(path), "atlas labels")
    img = nib.load(path)
    return np.asarray(img.darrays[0].data).astype(int), {int(lab.key): lab.label for lab in img.labeltable.labels}


def read_atlas(root) -> dict[str, tuple[np.ndarray, dict[int, str]]]:
    return {h: read_labels(atlas_gifti(root, h)) for h in HEMIS}
