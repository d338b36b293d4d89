"""Paths of the maps the studies write under the results folder. The rules declare these paths and the library
writes to them, so no script parses a file name back into its parts."""

from __future__ import annotations

from ..surface import HEMI_BIDS, HEMIS

ENCODING_MAP_STATS = ("r", "ceiling", "rnormalized")
"""The voxelwise encoder's maps per subject and model: r, its noise ceiling, and r / ceiling."""
UBE_MAP_STATS = ("r", "cluster")
"""The Universal Brain Encoder's maps per training subject: test r and the k-means cluster of the embeddings."""


def encoding_maps(results, subject: str, model: str, mesh: str) -> dict[tuple[str, str], str]:
    """The voxelwise encoder's GIFTI maps of one subject and feature model.

    Parameters
    ----------
    results : str or Path
        The results folder.
    subject, model : str
        Names, or Snakemake wildcards such as ``"{subject}"``.
    mesh : str

    Returns
    -------
    dict
        ``{(hemi, stat): path}`` for each hemisphere and :data:`ENCODING_MAP_STATS`:
        ``<results>/encoding/<subject>/<model>/<subject>_hemi-<L|R>_space-<mesh>_model-<model>_stat-<stat>_encoding
        .func.gii``.
    """
    return {(h, stat): f"{results}/encoding/{subject}/{model}/{subject}_hemi-{HEMI_BIDS[h]}_space-{mesh}_model-"
                       f"{model}_stat-{stat}_encoding.func.gii" for h in HEMIS for stat in ENCODING_MAP_STATS}


def ube_maps(results, subjects, mesh: str) -> dict[tuple[str, str, str], str]:
    """The Universal Brain Encoder's GIFTI maps of every training subject.

    Parameters
    ----------
    results : str or Path
    subjects : sequence of str
    mesh : str

    Returns
    -------
    dict
        ``{(subject, hemi, stat): path}`` for :data:`UBE_MAP_STATS`:
        ``<results>/ube/maps/<subject>_hemi-<L|R>_space-<mesh>_stat-<stat>_ube.func.gii``.
    """
    return {(s, h, stat): f"{results}/ube/maps/{s}_hemi-{HEMI_BIDS[h]}_space-{mesh}_stat-{stat}_ube.func.gii"
            for s in subjects for h in HEMIS for stat in UBE_MAP_STATS}
