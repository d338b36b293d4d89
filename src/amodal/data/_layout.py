"""The on-disk dataset layout shared by the synthetic generator and real data (readers in :mod:`amodal.data._io`).

Layout under a dataset root::

    dataset_description.json
    stimuli/stimuli.tsv                 id, caption, image_file (relative to stimuli/); optional: categories
                                        (";"-separated class labels, for zero-shot classification)
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

from ..errors import DataError
from ..surface import HEMI_BIDS, hemi_from_bids

MODALITIES = ("image", "caption", "imagery")
SPLITS = ("train", "test", "imagery")
TRIAL_COLUMNS = ("trial", "stimulus_id", "modality", "split", "run")
STIMULUS_COLUMNS = ("id", "caption", "image_file")
TRAINING_MODES = ("images", "captions", "agnostic")
"""The decoders' training modes (METHOD §3): trained on image trials, on caption trials, or on both."""
MODE_MODALITIES = {"images": ("image",), "captions": ("caption",), "agnostic": ("image", "caption")}
"""The trial modalities each training mode trains on."""
DECODER_FAMILIES = ("ridge", "brainclip_linear", "brainclip_vae", "mindreader")
"""The decoders into the contrastive image–text space: ridge, then the families of
:data:`amodal.models.CONTRASTIVE_FAMILIES` (the ``decoder`` wildcard of ``results/contrastive/``)."""


def stimuli_tsv(root) -> Path:
    """Path of the stimuli table of the dataset at ``root`` (``<root>/stimuli/stimuli.tsv``)."""
    return Path(root) / "stimuli" / "stimuli.tsv"


def trials_tsv(root, subject: str) -> Path:
    """Path of the trials table of ``subject`` (``<root>/<subject>/<subject>_trials.tsv``)."""
    return Path(root) / subject / f"{subject}_trials.tsv"


def betas_gifti(root, subject: str, hemi: str) -> Path:
    """Path of the betas of ``subject`` on ``hemi`` ("left" or "right").

    Parameters
    ----------
    root : str or Path
    subject : str
    hemi : {"left", "right"}

    Returns
    -------
    Path
        ``<root>/<subject>/<subject>_hemi-<L|R>_betas.func.gii``.
    """
    return Path(root) / subject / f"{subject}_hemi-{HEMI_BIDS[hemi]}_betas.func.gii"


def atlas_gifti(root, hemi: str) -> Path:
    """Path of the atlas labels of ``hemi``: ``<root>/atlas/atlas_hemi-<L|R>.label.gii``."""
    return Path(root) / "atlas" / f"atlas_hemi-{HEMI_BIDS[hemi]}.label.gii"


def planted_json(root) -> Path:
    """Path of the synthetic ground truth (``<root>/atlas/planted.json``; real datasets have none)."""
    return Path(root) / "atlas" / "planted.json"


def subject_ids(n: int) -> list[str]:
    """The BIDS subject labels of a dataset numbered from 1: ``["sub-01", ..., "sub-<n>"]``."""
    return [f"sub-{k:02d}" for k in range(1, n + 1)]


def dataset_files(root, subject: str) -> dict:
    """Every input file of one subject, as the workflow's rules declare them.

    Returns
    -------
    dict
        ``stimuli`` (path), ``trials`` (path) and ``betas`` (list of the left and right GIFTI paths), all as
        strings.
    """
    from ..surface import HEMIS

    return {"stimuli": str(stimuli_tsv(root)), "trials": str(trials_tsv(root, subject)),
            "betas": [str(betas_gifti(root, subject, h)) for h in HEMIS]}


def dataset_root(path) -> str:
    """The dataset root of a file one folder inside it (``<root>/<folder>/<file>``)."""
    return str(Path(path).parents[1])


# results, as the workflow writes them

def shard_label(k: int, n: int) -> str:
    """The ``shard`` wildcard of the ``k``-th (1-based) of ``n`` searchlight shards: ``"<k>of<n>"``."""
    return f"{k}of{n}"


def parse_shard(label: str) -> tuple[int, int]:
    """``(k - 1, n)`` (0-based) of a :func:`shard_label`, as :func:`amodal.searchlight.shard_centres` takes it."""
    k, n = (int(v) for v in str(label).split("of"))
    return k - 1, n


def searchlight_store_path(results, subject: str, mode: str, h: str, shard: str) -> str:
    """``<results>/searchlight/<subject>/<subject>_mode-<mode>_hemi-<h>_shard-<shard>.zarr``.

    Parameters
    ----------
    results : str or Path
        The results folder.
    subject : str
    mode : {"images", "captions", "agnostic"}
    h : {"L", "R"}
        BIDS hemisphere letter (or a Snakemake wildcard such as ``"{h}"``).
    shard : str
        ``"<k>of<n>"`` (or a wildcard).
    """
    return f"{results}/searchlight/{subject}/{subject}_mode-{mode}_hemi-{h}_shard-{shard}.zarr"


def group_searchlight_stores(paths) -> dict[tuple[str, str, str], list[str]]:
    """Group searchlight store paths by ``(subject, mode, hemisphere)``, shards in the given order.

    Parameters
    ----------
    paths : iterable of str
        Store paths named as :func:`searchlight_store_path` names them.

    Returns
    -------
    dict
        ``{(subject, mode, "left" | "right"): [path of each shard]}``.
    """
    stores: dict[tuple[str, str, str], list[str]] = {}
    for path in paths:
        name = Path(path).name
        if not name.endswith(".zarr") or "_mode-" not in name or "_hemi-" not in name:
            raise DataError(f"{path}: not a searchlight store name (<subject>_mode-<mode>_hemi-<L|R>_shard-<k>of<n>"
                            f".zarr)")
        parts = dict(x.split("-", 1) for x in name[: -len(".zarr")].split("_")[1:])
        subject = name.split("_")[0]
        stores.setdefault((subject, parts["mode"], hemi_from_bids(parts["hemi"])), []).append(str(path))
    return stores
