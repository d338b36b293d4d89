"""Cortical parcellations for real data: a FreeSurfer annotation of fsaverage (Desikan-Killiany, ``aparc``, by
default) written as amodal's atlas label GIFTIs, so that the cluster table names real regions.

FreeSurfer ships ``<subjects>/<fsaverage folder>/label/{lh,rh}.<name>.annot`` for fsaverage (= fsaverage7) and
fsaverage3-6. They are looked for in ``dataset.freesurfer_subjects_dir`` when set, then ``$SUBJECTS_DIR``, then
``$FREESURFER_HOME/subjects``; nilearn ships no Desikan-Killiany surface atlas, so there is no download to fall
back on. Without them the rule stops at once with a message naming the files and where to put them.
"""

from __future__ import annotations

import os
from pathlib import Path

import nibabel as nib
import numpy as np

from ...errors import DataError
from ...surface import HEMIS, N_VERTICES
from .._gifti import write_label_gifti

FS_HEMI = {"left": "lh", "right": "rh"}


_NO_FOLDER = "any folder (none of dataset.freesurfer_subjects_dir, $SUBJECTS_DIR, $FREESURFER_HOME is set)"

def fsaverage_folder(mesh: str) -> str:
    """FreeSurfer's subject folder of a mesh: ``fsaverage`` for fsaverage7, else the mesh name."""
    return "fsaverage" if mesh in ("fsaverage7", "fsaverage") else mesh


def candidate_dirs(subjects_dir=None) -> list[Path]:
    """Where annotation files are looked for, in order."""
    dirs = [subjects_dir, os.environ.get("SUBJECTS_DIR")]
    if os.environ.get("FREESURFER_HOME"):
        dirs.append(Path(os.environ["FREESURFER_HOME"]) / "subjects")
    return [Path(d) for d in dirs if d]


def find_annotations(mesh: str, name: str = "aparc", subjects_dir=None) -> dict[str, Path]:
    """The ``{hemi: path}`` of ``{lh,rh}.<name>.annot`` for ``mesh``.

    Parameters
    ----------
    mesh : str
        ``fsaverage3`` ... ``fsaverage7``.
    name : str
        The annotation (``aparc``: Desikan-Killiany; ``aparc.a2009s``: Destrieux).
    subjects_dir : str or Path, optional
        Looked in first.

    Raises
    ------
    DataError
        When no folder holds both files; the message names them and where they may go.
    """
    folder = fsaverage_folder(mesh)
    tried = []
    for base in candidate_dirs(subjects_dir):
        paths = {h: base / folder / "label" / f"{FS_HEMI[h]}.{name}.annot" for h in HEMIS}
        if all(p.is_file() for p in paths.values()):
            return paths
        tried.append(str(base / folder / "label"))
    raise DataError(f"no {name} annotation for {mesh}: lh.{name}.annot and rh.{name}.annot were not found in "
                    f"{tried or _NO_FOLDER}. "
                    f"Install FreeSurfer (its subjects/{folder}/label/ holds them) and set $FREESURFER_HOME, or copy "
                    f"{folder}/label/lh.{name}.annot and rh.{name}.annot into a folder <dir>/{folder}/label/ and set "
                    f"`dataset.freesurfer_subjects_dir: <dir>`")


def read_annotation(path, n_vertices: int) -> tuple[np.ndarray, dict[int, str]]:
    """One hemisphere's annotation as ``(labels, {key: name})``; unlabelled vertices (-1) get key 0, "unknown".

    Raises
    ------
    DataError
        For an unreadable file, or another vertex count than the mesh's.
    """
    try:
        labels, _, names = nib.freesurfer.read_annot(str(path))
    except Exception as exc:  # nibabel raises several types for corrupt files
        raise DataError(f"{path}: cannot be read as a FreeSurfer annotation ({exc})") from exc
    if labels.size != n_vertices:
        raise DataError(f"{path}: {labels.size} vertices, but the mesh has {n_vertices}; use the annotation of the "
                        f"fsaverage that matches `dataset.mesh`")
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in names]
    # keys 1..K for the K structures; 0 for unlabelled (-1) vertices, named as FreeSurfer names its key 0
    keys = np.where(labels < 0, 0, labels + 1).astype(np.int32)
    table = {0: "unknown"} | {k + 1: n for k, n in enumerate(names) if n != "unknown"}
    keys[np.isin(keys, [k + 1 for k, n in enumerate(names) if n == "unknown"])] = 0
    return keys, table


def write_atlas(mesh: str, out_paths, name: str = "aparc", subjects_dir=None, log=print) -> dict[str, Path]:
    """Write ``mesh``'s ``name`` annotation as the layout's atlas label GIFTIs (left, then right).

    Returns
    -------
    dict
        The annotation files that were read, by hemisphere.
    """
    paths = find_annotations(mesh, name, subjects_dir)
    for hemi, out in zip(HEMIS, out_paths):
        keys, table = read_annotation(paths[hemi], N_VERTICES[mesh])
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        write_label_gifti(out, keys, table, hemi)
        log(f"{hemi}: {len(table) - 1} {name} regions from {paths[hemi]}")
    return paths


def annotation_path(subjects_dir, mesh: str, hemi: str, name: str) -> Path:
    """Where FreeSurfer keeps ``hemi``'s ``name`` annotation of ``mesh``: ``<subjects_dir>/<folder>/label/``."""
    return Path(subjects_dir) / fsaverage_folder(mesh) / "label" / f"{FS_HEMI[hemi]}.{name}.annot"


def write_annotation(path, labels, names) -> Path:
    """Write one hemisphere's annotation in FreeSurfer's format (the inverse of :func:`read_annotation`).

    Parameters
    ----------
    path : str or Path
    labels : array of int, shape (n_vertices,)
        Each vertex's index into ``names``.
    names : list of str
        The structures; one named ``"unknown"`` is read back as unlabelled (key 0).
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.min() < 0 or labels.max() >= len(names):
        raise ValueError(f"labels must be one index into the {len(names)} names per vertex, got shape {labels.shape} "
                         f"and values {labels.min()}..{labels.max()}")
    # FreeSurfer's colour table, one RGBA row per structure: a vertex's stored value is its structure's colour, so
    # the colours must differ (red and green count the structures; blue only makes them visible)
    k = np.arange(len(names))
    ctab = np.column_stack([k % 256, k // 256 % 256, np.full(len(names), 160), np.zeros(len(names), int)])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.freesurfer.write_annot(str(path), labels.astype(np.int32), ctab, [str(n) for n in names], fill_ctab=True)
    return path
