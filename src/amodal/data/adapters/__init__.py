"""Adapters that bring real datasets, as downloaded, into amodal's layout (:mod:`amodal.data._layout`).

``ds007272`` (OpenNeuro ds007272, the reference study) and ``nsd`` (the Natural Scenes Dataset) write the stimuli
table and one trials table per subject; the betas stay in the download and preprocessing reads them through
:func:`betas_reader`. ``freesurfer`` turns an fsaverage annotation into the atlas.
"""

from __future__ import annotations

REAL_SOURCES = ("ds007272", "nsd")
"""``dataset.source`` values read from a download by an adapter here."""

__all__ = ["REAL_SOURCES", "betas_reader", "layout_inputs", "raw_betas_dirs", "write_layout"]


def _adapter(source: str):
    if source == "ds007272":
        from . import ds007272 as mod
    elif source == "nsd":
        from . import nsd as mod
    else:
        raise ValueError(f"no adapter for dataset source {source!r}; adapters: {list(REAL_SOURCES)}")
    return mod


def betas_reader(source: str, raw, subject: str):
    """The ``read_betas(hemi, trials, n_vertices)`` callable that preprocessing and QC use for ``subject``.

    Parameters
    ----------
    source : str
        ``dataset.source``.
    raw : str or Path or None
        The download's root (``dataset.path``) for a real source.
    subject : str

    Returns
    -------
    callable or None
        None when the betas are in amodal's layout (``synthetic`` and ``path`` sources).
    """
    if source not in REAL_SOURCES:
        return None
    mod = _adapter(source)

    def read(hemi, trials, n_vertices):
        return mod.read_betas(raw, subject, hemi, trials, n_vertices)

    return read


def raw_betas_dirs(source: str, raw, subject: str) -> list[str]:
    """The folders of the download that hold ``subject``'s betas (the rules' inputs).

    Parameters
    ----------
    source : {"ds007272", "nsd"}
    raw : str or Path
        The download's root.
    subject : str

    Returns
    -------
    list of str
        ds007272: the left and right surface folders; NSD: the fsaverage betas folder.
    """
    if source == "ds007272":
        from .ds007272 import surface_dir

        return [str(surface_dir(raw, h, subject)) for h in ("left", "right")]
    return [str(_adapter(source).betas_dir(raw, subject))]


def layout_inputs(source: str, raw, subjects) -> list[str]:
    """Every file and folder of the download that the layout of ``subjects`` is made from.

    Parameters
    ----------
    source : {"ds007272", "nsd"}
    raw : str or Path
        The download's root.
    subjects : list of str

    Returns
    -------
    list of str
    """
    if source == "ds007272":
        from .ds007272 import stimuli_csv

        files = [str(stimuli_csv(raw))]
    else:
        from . import nsd

        files = [str(nsd.expdesign_path(raw)), str(nsd.stim_info_path(raw)), str(nsd.images_path(raw)),
                 *[str(nsd.responses_path(raw, s)) for s in subjects]]
    return files + [d for s in subjects for d in raw_betas_dirs(source, raw, s)]


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
