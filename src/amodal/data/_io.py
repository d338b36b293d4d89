"""Validating readers of the dataset layout (:mod:`amodal.data._layout`), and its writers."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from ..errors import DataError
from ..surface import HEMIS
from ._gifti import write_func_gifti, write_label_gifti
from ._layout import (MODALITIES, SPLITS, STIMULUS_COLUMNS, TRIAL_COLUMNS, atlas_gifti, betas_gifti, stimuli_tsv,
                      trials_tsv)


_FIX = ("Check `dataset.path` in the config, or rerun the dataset rule (for the synthetic dataset: snakemake "
        "generate_synthetic).")


def require_fetched(paths, what: str) -> None:
    """A :class:`DataError` when any of ``paths`` is a link to content that is not there: a DataLad (git-annex)
    file that was never fetched, which is neither missing nor changed, and whose fix is ``datalad get``."""
    unfetched = [Path(p) for p in paths if Path(p).is_symlink() and not Path(p).exists()]
    if unfetched:
        first = unfetched[0]
        raise DataError(f"{first}: {len(unfetched)} of {len(paths)} {what} are links to content that was never "
                        f"fetched (DataLad / git-annex; this one points to {first.readlink()}). Fetch them in the "
                        f"dataset: `datalad get {first.parent}` (or `git annex get`), then run again")


def vertex_count_error(path, n_values: int, n_vertices: int, first: bool, native: str) -> DataError:
    """The error for a map of ``n_values`` vertices where the mesh has ``n_vertices``: a mesh mismatch when the first
    map read is of another fsaverage resolution (the whole download is, most likely), else a truncated or corrupt file.

    Parameters
    ----------
    path : Path
    n_values, n_vertices : int
        The map's size and the configured mesh's vertex count per hemisphere.
    first : bool
        Whether this is the first map of the subject that was read (the others matched the mesh if not).
    native : str
        The dataset's own mesh (``fsaverage7`` for ds007272 and NSD).
    """
    from ..surface import N_VERTICES

    meshes = {n: m for m, n in N_VERTICES.items() if m != "fsaverage"}
    configured = meshes.get(n_vertices, f"{n_vertices} vertices")
    if first and n_values in meshes:
        return DataError(f"{path}: a map on {meshes[n_values]} ({n_values:,} vertices), but `dataset.mesh` is "
                         f"{configured}; this dataset's betas are on {native} as downloaded: set `dataset.mesh: "
                         f"{meshes[n_values]}` to read these files")
    return DataError(f"{path}: {n_values:,} values, but the {configured} mesh (`dataset.mesh`) has {n_vertices:,} per "
                     f"hemisphere" + ("" if first else ", as the other maps read before it have") + ": the file is "
                     "truncated or corrupt; re-download it")


def require_file(path: Path, what: str, fix: str = _FIX) -> Path:
    """``path`` if it is a file, else a :class:`DataError` that names it, what it is, and the fix (for a DataLad file
    never fetched: ``datalad get``)."""
    require_fetched([path], what)
    if not path.is_file():
        raise DataError(f"missing {what}: {path} does not exist. {fix}")
    return path


def stimulus_labels(stimuli: pd.DataFrame) -> dict[str, set[str]] | None:
    """The class labels of each stimulus (the optional ``categories`` column, ``;``-separated), for zero-shot
    classification; None when the table has no such column."""
    if "categories" not in stimuli.columns:
        return None
    return {s: set(filter(None, str(c).split(";"))) for s, c in zip(stimuli["id"], stimuli["categories"])}


def read_stimuli(root) -> pd.DataFrame:
    """Read and check the stimuli table (``id``, ``caption``, ``image_file``); ids are strings.

    Parameters
    ----------
    root : str or Path
        The dataset root.

    Returns
    -------
    pandas.DataFrame
        One row per stimulus.

    Raises
    ------
    DataError
        For a missing file or column, or duplicated ids.
    """
    path = require_file(stimuli_tsv(root), "stimuli table")
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    missing = [c for c in STIMULUS_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; the stimuli table needs {list(STIMULUS_COLUMNS)}")
    dup = df["id"][df["id"].duplicated()].tolist()
    if dup:
        raise DataError(f"{path}: stimulus ids must be unique; duplicated: {dup[:10]}")
    return df


def read_trials(root, subject: str, stimulus_ids=None) -> pd.DataFrame:
    """Read and check a subject's trials table.

    Parameters
    ----------
    root : str or Path
    subject : str
    stimulus_ids : sequence of str, optional
        When given, every trial's ``stimulus_id`` must be among them.

    Returns
    -------
    pandas.DataFrame
        One row per trial (``trial``, ``stimulus_id``, ``modality``, ``split``, ``run``), in file order.

    Raises
    ------
    DataError
        Naming the file and row of a missing column, a bad modality or split, a broken trial count or an unknown
        stimulus.
    """
    path = require_file(trials_tsv(root, subject), f"trials table of {subject}")
    df = pd.read_csv(path, sep="\t", dtype={"stimulus_id": str, "modality": str, "split": str, "run": str,
                                            "session": str}, keep_default_na=False)
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
    """Read one hemisphere's betas and check them against the trials table and the mesh.

    Parameters
    ----------
    root : str or Path
    subject : str
    hemi : {"left", "right"}
    n_trials, n_vertices : int
        The expected shape.

    Returns
    -------
    float32 array of shape (n_trials, n_vertices)

    Raises
    ------
    DataError
        For a missing or unreadable file, or a shape that does not match.
    """
    path = require_file(betas_gifti(root, subject, hemi), f"{hemi} betas of {subject}")
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


# The layout's writers are the GIFTI module's, under the names the layout uses (no wrappers around them).
write_betas = write_func_gifti
write_labels = write_label_gifti


def read_labels(path) -> tuple[np.ndarray, dict[int, str]]:
    """Read a ``.label.gii``.

    Returns
    -------
    labels : int array of shape (n_vertices,)
    names : dict of int to str
        The label table.
    """
    path = require_file(Path(path), "atlas labels")
    img = nib.load(path)
    return np.asarray(img.darrays[0].data).astype(int), {int(lab.key): lab.label for lab in img.labeltable.labels}


def read_atlas(root) -> dict[str, tuple[np.ndarray, dict[int, str]]]:
    """Both hemispheres' atlas labels: ``{hemi: (labels of shape (n_vertices,), {key: name})}``."""
    return {h: read_labels(atlas_gifti(root, h)) for h in HEMIS}


def read_planted(path) -> dict | None:
    """The synthetic ground truth in ``planted.json`` (regions, their types and gains), or None.

    Parameters
    ----------
    path : str, Path, list or None
        The file, or the rule input that names it (a one-element list; empty or None on real data).

    Returns
    -------
    dict or None
        The parsed JSON; None when no file is given (real datasets have no ground truth).
    """
    import json

    if isinstance(path, (list, tuple)):
        path = path[0] if path else None
    if not path:
        return None
    return json.loads(require_file(Path(path), "planted ground truth").read_text())
