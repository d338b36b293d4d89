"""Adapters that bring real datasets, as downloaded, into amodal's layout (:mod:`amodal.data._layout`).

``ds007272`` (OpenNeuro ds007272, the reference study) and ``nsd`` (the Natural Scenes Dataset) write the stimuli
table and one trials table per subject; the betas stay in the download and preprocessing reads them through
:func:`betas_reader`. ``freesurfer`` turns an fsaverage annotation into the atlas.
"""

from __future__ import annotations

REAL_SOURCES = ("ds007272", "nsd")
"""``dataset.source`` values read from a download by an adapter here."""

__all__ = ["REAL_SOURCES", "BetasReader", "beta_files", "betas_listing", "betas_reader", "layout_inputs",
           "write_layout"]


def _adapter(source: str):
    if source == "ds007272":
        from . import ds007272 as mod
    elif source == "nsd":
        from . import nsd as mod
    else:
        raise ValueError(f"no adapter for dataset source {source!r}; adapters: {list(REAL_SOURCES)}")
    return mod


class BetasReader:
    """One subject's betas read from a download: ``reader(hemi, trials, n_vertices)`` gives one hemisphere's
    (n_trials, n_vertices) betas in the order of the trials table, and ``reader.file_of(hemi, trial)`` names the file
    that a trials-table row was read from (preprocessing's messages name it)."""

    selects_vertices = True
    """``reader(hemi, trials, n_vertices, vertices=idx)`` reads only those vertices, file by file (an ROI)."""

    def __init__(self, source: str, raw, subject: str):
        self.module, self.raw, self.subject = _adapter(source), raw, subject

    def __call__(self, hemi, trials, n_vertices, vertices=None):
        return self.module.read_betas(self.raw, self.subject, hemi, trials, n_vertices, vertices=vertices)

    def file_of(self, hemi: str, trial) -> str:
        where = str(self.module.beta_path(self.raw, self.subject, hemi, trial["file"]))
        return f"{where} (trial {trial['column']} of the file)" if "column" in trial else where


def betas_reader(source: str, raw, subject: str) -> BetasReader | None:
    """The reader of ``subject``'s betas that preprocessing and QC use (:class:`BetasReader`).

    Parameters
    ----------
    source : str
        ``dataset.source``.
    raw : str or Path or None
        The download's root (``dataset.path``) for a real source.
    subject : str

    Returns
    -------
    BetasReader or None
        None when the betas are in amodal's layout (``synthetic`` and ``path`` sources).
    """
    if source not in REAL_SOURCES:
        return None
    return BetasReader(source, raw, subject)


def beta_files(source: str, raw, subject: str) -> list[str]:
    """Every beta file of ``subject`` that preprocessing reads from the download: its rule's inputs, so that
    replacing, re-downloading or deleting one reruns that subject's preprocessing and what follows.

    Parameters
    ----------
    source : {"ds007272", "nsd"}
    raw : str or Path
        The download's root.
    subject : str

    Returns
    -------
    list of str
        ds007272: every ``beta_NNNNNN.gii`` of both hemispheres; NSD: every ``{lh,rh}.betas_sessionSS.mgh``.

    Raises
    ------
    DataError
        The adapter's message for a missing subject folder or an unexpected file, and for DataLad files that were
        never fetched (``datalad get``).
    """
    from .._io import require_fetched

    files = _adapter(source).beta_files(raw, subject)
    require_fetched(files, f"{subject}'s beta files")
    return [str(f) for f in files]


def betas_listing(source: str, raw, subjects) -> str:
    """A digest of the names of every subject's beta files: the import's parameter, so that adding or removing a
    file reruns the import (whose trials tables list the files) and replacing one does not.

    Parameters
    ----------
    source : {"ds007272", "nsd"}
    raw : str or Path
        The download's root.
    subjects : list of str

    Returns
    -------
    str
        The SHA-256 of the sorted names relative to ``raw``.
    """
    import hashlib
    import os

    names = sorted(os.path.relpath(f, raw) for s in subjects for f in beta_files(source, raw, s))
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


def layout_inputs(source: str, raw, subjects) -> list[str]:
    """Every table of the download that the layout of ``subjects`` is made from (the betas enter through
    :func:`betas_listing` and, for preprocessing, :func:`beta_files`).

    Parameters
    ----------
    source : {"ds007272", "nsd"}
    raw : str or Path
        The download's root.
    subjects : list of str

    Returns
    -------
    list of str

    Raises
    ------
    DataError
        When ``raw`` is not the dataset's root (the adapter's message, before Snakemake's missing-input error).
    """
    mod = _adapter(source)
    mod.check_root(raw)
    if source == "ds007272":
        return [str(mod.stimuli_csv(raw))]
    return [str(mod.expdesign_path(raw)), str(mod.stim_info_path(raw)), str(mod.images_path(raw)),
            *[str(mod.responses_path(raw, s)) for s in subjects]]


def write_layout(source: str, raw, out, subjects, coco_root=None, log=print) -> dict:
    """Write amodal's layout of a download.

    Parameters
    ----------
    source : {"ds007272", "nsd"}
    raw : str or Path
        The download's root.
    out : str or Path
        The layout root to write.
    subjects : list of str
    coco_root : str or Path, optional
        COCO's root (ds007272: images; NSD: caption annotations).
    log : callable

    Returns
    -------
    dict
        What :func:`amodal.data.adapters.ds007272.write_layout` or :func:`amodal.data.adapters.nsd.write_layout`
        returns.
    """
    return _adapter(source).write_layout(raw, out, subjects, coco_root=coco_root, log=log)
