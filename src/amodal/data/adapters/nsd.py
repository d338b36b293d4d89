"""The Natural Scenes Dataset (Allen et al. 2022) read as it is downloaded from its S3 bucket.

What is read (``<root>`` holds ``nsddata/``, ``nsddata_betas/`` and ``nsddata_stimuli/``)::

    nsddata/experiments/nsd/nsd_expdesign.mat        masterordering (trial -> 10k index), subjectim (-> 73k id)
    nsddata/experiments/nsd/nsd_stim_info_merged.csv nsdId, cocoId, cocoSplit
    nsddata/ppdata/subjNN/behav/responses.tsv        SESSION, RUN, TRIAL, 73KID per trial (a cross-check)
    nsddata_betas/ppdata/subjNN/fsaverage/betas_fithrf_GLMdenoise_RR/{lh,rh}.betas_sessionSS.mgh
                                                     fsaverage betas in percent signal change, 750 trials each
    nsddata_stimuli/stimuli/nsd/nsd_stimuli.hdf5     imgBrick (73000, 425, 425, 3) uint8
    nsddata/freesurfer/fsaverage/label/{lh,rh}.nsdgeneral.mgz   the nsdgeneral region (0/1)
    <coco_root>/annotations/captions_{train,val}2017.json        COCO captions (NSD ships none)

amodal's subject ``sub-NN`` is NSD's ``subjNN``. Trial t of a subject (0-based, chronological, 750 per session) shows
the 73k image ``subjectim[s, masterordering[t] - 1] - 1``; it is a test trial when its 10k index is below 1000 (the
shared images, which sit first in every subject's list), else a train trial. Every trial stays a row (single
trials: Mind Reader trains on them); preprocessing z-scores within session and, with ``preprocess.average_repeats:
test`` (``config/nsd.yaml``), averages the test repeats only.

Checks (each a :class:`~amodal.errors.DataError` that names the file, the subject and the fix): the same sessions
for both hemispheres; each session file holds 750 trials of the mesh's vertex count; ``responses.tsv`` agrees with
the design on every trial's image; every image is in the stimulus table, and has a caption when captions are asked
for.

The writers at the end (``write_design``, ``write_responses``, ``write_session_betas``, ...) are the readers' inverse:
they write a tree in the same formats, so that a synthetic NSD is read through this adapter like the real download.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from ...errors import DataError
from ...surface import HEMIS
from .._io import require_file, vertex_count_error
from .freesurfer import FS_HEMI

TRIALS_PER_SESSION = 750
N_SHARED = 1000
SESSION_FILE = re.compile(r"^(lh|rh)\.betas_session(\d{2})\.mgh$")
BETAS_VERSION = "betas_fithrf_GLMdenoise_RR"


def nsd_subject(subject: str) -> str:
    """NSD's name of an amodal subject: ``sub-01`` -> ``subj01``."""
    m = re.fullmatch(r"sub-(\d{2})", subject)
    if not m or not 1 <= int(m.group(1)) <= 8:
        raise DataError(f"{subject!r} is not an NSD subject: NSD has sub-01..sub-08 (subj01..subj08); check "
                        f"`dataset.subjects`")
    return f"subj{m.group(1)}"


def subjects() -> list[str]:
    """NSD's eight subjects, as amodal names them."""
    return [f"sub-{k:02d}" for k in range(1, 9)]


def expdesign_path(root) -> Path:
    return Path(root) / "nsddata" / "experiments" / "nsd" / "nsd_expdesign.mat"


def stim_info_path(root) -> Path:
    return Path(root) / "nsddata" / "experiments" / "nsd" / "nsd_stim_info_merged.csv"


def responses_path(root, subject: str) -> Path:
    return Path(root) / "nsddata" / "ppdata" / nsd_subject(subject) / "behav" / "responses.tsv"


def betas_dir(root, subject: str) -> Path:
    """``nsddata_betas/ppdata/subjNN/fsaverage/betas_fithrf_GLMdenoise_RR``."""
    return Path(root) / "nsddata_betas" / "ppdata" / nsd_subject(subject) / "fsaverage" / BETAS_VERSION


def beta_path(root, subject: str, hemi: str, name: str) -> Path:
    """One session's betas on one hemisphere: ``name`` is a trials table's ``file`` (``betas_sessionSS.mgh``)."""
    return betas_dir(root, subject) / f"{FS_HEMI[hemi]}.{name}"


def images_path(root) -> Path:
    return Path(root) / "nsddata_stimuli" / "stimuli" / "nsd" / "nsd_stimuli.hdf5"


def nsdgeneral_path(root, hemi: str) -> Path:
    return Path(root) / "nsddata" / "freesurfer" / "fsaverage" / "label" / f"{FS_HEMI[hemi]}.nsdgeneral.mgz"


_DOWNLOAD = "Download it from s3://natural-scenes-dataset/ into `dataset.path`, keeping NSD's folders"


def read_design(root) -> dict:
    """``masterordering`` (1-based 10k indices, one per trial) and ``subjectim`` (8 x 10k, 1-based 73k ids)."""
    from scipy.io import loadmat

    path = require_file(expdesign_path(root), "NSD's experimental design", _DOWNLOAD)
    try:
        mat = loadmat(path)
    except Exception as exc:  # scipy raises several types for corrupt or v7.3 files
        raise DataError(f"{path}: cannot be read by scipy.io.loadmat ({exc}); re-download it") from exc
    missing = [k for k in ("masterordering", "subjectim") if k not in mat]
    if missing:
        raise DataError(f"{path}: no {missing}; this is not NSD's nsd_expdesign.mat, re-download it")
    return {"masterordering": np.asarray(mat["masterordering"]).ravel().astype(np.int64),
            "subjectim": np.asarray(mat["subjectim"]).astype(np.int64)}


def read_stim_info(root) -> pd.DataFrame:
    """NSD's stimulus table indexed by ``nsdId`` (0-based 73k id), with ``cocoId`` and ``cocoSplit``."""
    path = require_file(stim_info_path(root), "NSD's stimulus table", _DOWNLOAD)
    df = pd.read_csv(path, index_col=0)
    missing = [c for c in ("nsdId", "cocoId", "cocoSplit") if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; re-download nsd_stim_info_merged.csv")
    return df.set_index("nsdId", drop=False)


def sessions(root, subject: str) -> list[int]:
    """The sessions whose betas are on disk for both hemispheres (1-based)."""
    base = betas_dir(root, subject)
    if not base.is_dir():
        raise DataError(f"{base} does not exist: no fsaverage betas for {subject} ({nsd_subject(subject)}). "
                        f"{_DOWNLOAD}, or remove {subject} from `dataset.subjects`")
    found = {"lh": set(), "rh": set()}
    for f in base.iterdir():
        m = SESSION_FILE.match(f.name)
        if m:
            found[m.group(1)].add(int(m.group(2)))
    if not found["lh"] and not found["rh"]:
        raise DataError(f"{base}: no {{lh,rh}}.betas_sessionSS.mgh files for {subject}. {_DOWNLOAD}")
    for h, other in (("lh", "rh"), ("rh", "lh")):
        lacking = sorted(found[h] - found[other])
        if lacking:
            raise DataError(f"{base}: {h}.betas_session{lacking[0]:02d}.mgh of {subject} has no {other} counterpart "
                            f"({len(lacking)} session(s)); both hemispheres need the same sessions. Download "
                            f"{other}.betas_session{lacking[0]:02d}.mgh")
    return sorted(found["lh"])


def beta_files(root, subject: str) -> list[Path]:
    """Every session file of ``subject``'s betas on both hemispheres (the sessions of :func:`sessions`)."""
    return [beta_path(root, subject, hemi, f"betas_session{k:02d}.mgh") for hemi in HEMIS
            for k in sessions(root, subject)]


def check_root(root) -> Path:
    """NSD's design file under ``root``, or a :class:`DataError` saying that `dataset.path` must be NSD's root."""
    path = expdesign_path(root)
    if not path.is_file():
        raise DataError(f"{path} does not exist: `dataset.path` must be NSD's root (the folder that holds nsddata/, "
                        f"nsddata_betas/ and nsddata_stimuli/). {_DOWNLOAD}")
    return path


def index_subject(root, subject: str, design: dict | None = None) -> pd.DataFrame:
    """One row per trial of the sessions on disk, in chronological order.

    Parameters
    ----------
    root : str or Path
        The NSD root.
    subject : str
        ``sub-01`` ... ``sub-08``.
    design : dict, optional
        :func:`read_design`'s result (read when not given).

    Returns
    -------
    pandas.DataFrame
        ``trial``, ``stimulus_id`` (0-based 73k id, as a string), ``modality`` (``image``), ``split`` (``test`` for
        the shared 1,000, else ``train``), ``run`` (``ses-SS_run-RR``), ``session``, ``file`` (the session's betas,
        without the hemisphere prefix) and ``column`` (the trial's index in that file).

    Raises
    ------
    DataError
        When the design and ``responses.tsv`` disagree, or the design is too short for the sessions on disk.
    """
    design = design or read_design(root)
    s = int(nsd_subject(subject)[4:])
    sess = sessions(root, subject)
    order, subjectim = design["masterordering"], design["subjectim"]
    t = np.concatenate([np.arange((k - 1) * TRIALS_PER_SESSION, k * TRIALS_PER_SESSION) for k in sess])
    if t.max() >= order.size or subjectim.shape[0] < s:
        raise DataError(f"{expdesign_path(root)}: the design covers {order.size // TRIALS_PER_SESSION} sessions of "
                        f"{subjectim.shape[0]} subjects, but {subject} has session {sess[-1]} on disk; re-download "
                        f"nsd_expdesign.mat")
    k10 = order[t] - 1
    img73 = subjectim[s - 1, k10] - 1
    path = require_file(responses_path(root, subject), f"{subject}'s behavioural responses",
                    f"{_DOWNLOAD} (nsddata/ppdata/{nsd_subject(subject)}/behav/)")
    resp = pd.read_csv(path, sep="\t")
    missing = [c for c in ("SESSION", "RUN", "TRIAL", "73KID") if c not in resp.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; re-download responses.tsv")
    resp = resp[resp["SESSION"].isin(sess)].sort_values(["SESSION", "RUN", "TRIAL"], kind="stable")
    if len(resp) != t.size:
        raise DataError(f"{path}: {len(resp)} trials in sessions {sess[0]}..{sess[-1]}, but {subject}'s betas hold "
                        f"{t.size} ({TRIALS_PER_SESSION} per session); the responses and the betas must be of the same "
                        f"NSD release")
    bad = np.flatnonzero(resp["73KID"].to_numpy() - 1 != img73)
    if bad.size:
        r = resp.iloc[bad[0]]
        raise DataError(f"{path}: session {r['SESSION']} run {r['RUN']} trial {r['TRIAL']} of {subject} shows 73k id "
                        f"{r['73KID']} (1-based), but nsd_expdesign.mat gives {img73[bad[0]] + 1} ({bad.size} "
                        f"trials disagree); the design and the responses must be of the same NSD release")
    session = t // TRIALS_PER_SESSION + 1
    return pd.DataFrame({
        "trial": np.arange(t.size), "stimulus_id": img73.astype(str), "modality": "image",
        "split": np.where(k10 < N_SHARED, "test", "train"),
        "run": [f"ses-{a:02d}_run-{b:02d}" for a, b in zip(resp["SESSION"], resp["RUN"])],
        "session": [f"{a:02d}" for a in session], "file": [f"betas_session{a:02d}.mgh" for a in session],
        "column": t % TRIALS_PER_SESSION})


def read_betas(root, subject: str, hemi: str, trials: pd.DataFrame, n_vertices: int, vertices=None) -> np.ndarray:
    """One hemisphere's betas in the order of ``trials`` (its ``file`` and ``column``), float32, in percent signal
    change as NSD stores them on fsaverage (no scaling): (n_trials, n_vertices), or (n_trials, len(vertices)) with
    only the ``vertices`` (an ROI's indices), taken from each session file as it is read, so that a whole hemisphere
    of every session is never in memory at once.

    Raises
    ------
    DataError
        For a missing or unreadable file, or one whose shape is not (n_vertices, 1, 1, 750).
    """
    for col in ("file", "column"):
        if col not in trials.columns:
            raise DataError(f"the trials table of {subject} has no {col!r} column: it was not written by the NSD "
                            f"adapter; rerun the dataset rule")
    out = np.empty((len(trials), n_vertices if vertices is None else len(vertices)), dtype=np.float32)
    for k, (name, rows) in enumerate(trials.groupby("file", sort=False).indices.items()):
        path = beta_path(root, subject, hemi, name)
        require_file(path, f"{subject}'s {hemi} betas", "The dataset changed since its trials table was written: rerun "
                 "the dataset rule, or download the file")
        try:
            data = np.asarray(nib.load(path).dataobj, dtype=np.float32)
        except Exception as exc:  # nibabel raises several types for corrupt files
            raise DataError(f"{path}: cannot be read as MGH ({exc}); re-download it") from exc
        data = data.reshape(data.shape[0], -1)
        if data.shape[0] != n_vertices:
            raise vertex_count_error(path, data.shape[0], n_vertices, first=k == 0, native="fsaverage7")
        if data.shape[1] != TRIALS_PER_SESSION:
            raise DataError(f"{path}: shape {data.shape} (vertices x trials), but NSD sessions hold "
                            f"{TRIALS_PER_SESSION} trials: the file is truncated or of another release; re-download it")
        if vertices is not None:
            data = data[vertices]
        out[rows] = data[:, trials["column"].to_numpy()[rows]].T
        del data
    return out


def read_nsdgeneral(root, n_vertices: int) -> dict[str, np.ndarray]:
    """The nsdgeneral region on fsaverage, ``{hemi: bool array (n_vertices,)}`` (values 1 are in it)."""
    out = {}
    for hemi in HEMIS:
        path = require_file(nsdgeneral_path(root, hemi), "the nsdgeneral region", _DOWNLOAD)
        data = np.asarray(nib.load(path).dataobj).ravel()
        if data.size != n_vertices:
            raise DataError(f"{path}: {data.size} vertices, but the mesh has {n_vertices}; set `dataset.mesh: "
                            f"fsaverage7`")
        out[hemi] = data == 1
    return out


def read_captions(coco_roots, coco_ids: dict[str, int], splits: dict[str, str]) -> dict[str, str]:
    """The first COCO caption (lowest annotation id) of each image, ``{stimulus: caption}``.

    Parameters
    ----------
    coco_roots : list of Path
        Folders holding ``annotations/captions_<split>.json``, tried in order.
    coco_ids, splits : dict
        Per stimulus, its COCO id and COCO split (``train2017`` or ``val2017``).
    """
    captions, by_split = {}, {}
    for split in sorted(set(splits.values())):
        tried = [Path(r) / "annotations" / f"captions_{split}.json" for r in coco_roots]
        path = next((p for p in tried if p.is_file()), None)
        if path is None:
            raise DataError(f"no COCO captions for {split}: tried {[str(p) for p in tried]}. NSD ships no captions: "
                            f"download COCO's annotations_trainval2017.zip and unpack it into `dataset.coco_root` "
                            f"(or into nsddata_stimuli/stimuli/nsd/)")
        first: dict[int, tuple[int, str]] = {}
        for a in json.loads(path.read_text())["annotations"]:
            if a["image_id"] not in first or a["id"] < first[a["image_id"]][0]:
                first[a["image_id"]] = (a["id"], a["caption"].strip())
        by_split[split] = (path, first)
    for stim, cid in coco_ids.items():
        path, first = by_split[splits[stim]]
        if int(cid) not in first:
            raise DataError(f"{path}: no caption for COCO image {cid} (NSD stimulus {stim}); use COCO 2017's own "
                            f"caption files")
        captions[stim] = first[int(cid)][1]
    return captions


def write_layout(root, out, subject_list, coco_root=None, log=print) -> dict:
    """Write amodal's layout for NSD: one trials table per subject, the stimuli table with COCO captions, the
    images from ``nsd_stimuli.hdf5`` as PNGs (only the stimuli the listed subjects saw).

    Parameters
    ----------
    root : str or Path
        The NSD root.
    out : str or Path
        The layout root to write.
    subject_list : list of str
    coco_root : str or Path, optional
        Where ``annotations/captions_{train,val}2017.json`` are; NSD's own ``nsddata_stimuli/stimuli/nsd`` is tried
        after it.
    log : callable

    Returns
    -------
    dict
        Trials per subject and split, and the number of stimuli.
    """
    import h5py
    from PIL import Image

    from .._layout import stimuli_tsv, trials_tsv

    root, out = Path(root), Path(out)
    design, info = read_design(root), read_stim_info(root)
    counts, seen = {}, set()
    for subject in subject_list:
        trials = index_subject(root, subject, design)
        path = trials_tsv(out, subject)
        path.parent.mkdir(parents=True, exist_ok=True)
        trials.to_csv(path, sep="\t", index=False)
        seen.update(trials["stimulus_id"])
        counts[subject] = {k: int(v) for k, v in trials["split"].value_counts().sort_index().items()}
        log(f"{subject}: {len(trials)} trials in {trials['session'].nunique()} sessions, {counts[subject]}")
    ids = sorted(seen, key=int)
    unknown = [i for i in ids if int(i) not in info.index]
    if unknown:
        raise DataError(f"{stim_info_path(root)}: 73k ids {unknown[:5]} ({len(unknown)} in all) shown to "
                        f"{subject_list} are not in the stimulus table; re-download it")
    rows = info.loc[[int(i) for i in ids]]
    captions = read_captions([p for p in (coco_root, root / "nsddata_stimuli" / "stimuli" / "nsd") if p],
                             dict(zip(ids, rows["cocoId"])), dict(zip(ids, rows["cocoSplit"])))
    images = stimuli_tsv(out).parent / "images"
    images.mkdir(parents=True, exist_ok=True)
    path = require_file(images_path(root), "NSD's images", _DOWNLOAD)
    with h5py.File(path, "r") as f:
        if "imgBrick" not in f:
            raise DataError(f"{path}: no dataset 'imgBrick'; re-download nsd_stimuli.hdf5")
        brick = f["imgBrick"]
        if brick.ndim != 4 or brick.shape[-1] != 3 or brick.shape[0] <= int(ids[-1]):
            raise DataError(f"{path}: imgBrick has shape {brick.shape}, not (73000, height, width, 3); re-download it")
        for i in ids:
            Image.fromarray(np.asarray(brick[int(i)], dtype=np.uint8)).save(images / f"{i}.png")
    table = pd.DataFrame({"id": ids, "caption": [captions[i] for i in ids],
                          "image_file": [f"images/{i}.png" for i in ids], "coco_id": rows["cocoId"].to_numpy()})
    table.to_csv(stimuli_tsv(out), sep="\t", index=False)
    (out / "dataset_description.json").write_text(json.dumps(
        {"Name": "Natural Scenes Dataset in amodal's layout", "DatasetType": "derivative",
         "GeneratedBy": [{"Name": "amodal.data.adapters.nsd"}],
         "SourceDatasets": [{"URL": str(root.resolve()), "DOI": "10.1038/s41593-021-00962-x"}]}, indent=2))
    log(f"{len(ids)} stimuli seen by {len(subject_list)} subject(s) written to {stimuli_tsv(out)} (captions: the "
        f"first COCO caption of each image)")
    return {"subjects": counts, "n_stimuli": len(ids)}


# --- Writing a tree in NSD's download format -------------------------------------------------------------------------
# The readers' inverse, so that a synthetic NSD (and the tests' tiny one) is read through the same adapter as the real
# download. Only the fields the readers use are written; the formats (MATLAB v5, MGH, HDF5, COCO JSON) are NSD's.

RUN_LENGTHS = (63, 62) * 6
"""Trials per run in one NSD session: twelve runs, the odd ones of 63 trials and the even ones of 62 (750 in all)."""


def write_design(root, masterordering, subjectim) -> Path:
    """Write ``nsd_expdesign.mat`` (MATLAB v5, as NSD ships it).

    Parameters
    ----------
    root : str or Path
        The tree's root.
    masterordering : array of int
        The 10k index (1-based) of each trial, in chronological order, the same for every subject.
    subjectim : array of int, (n_subjects, n_10k)
        Each subject's 73k ids (1-based); the first :data:`N_SHARED` columns (the shared images) the same in every
        row. ``sharedix`` is written from them.

    Raises
    ------
    ValueError
        When the shared columns differ between subjects, or ``masterordering`` is not 1-based into ``subjectim``.
    """
    from scipy.io import savemat

    order, subjectim = np.asarray(masterordering, np.int64).ravel(), np.asarray(subjectim, np.int64)
    if not (subjectim[:, :N_SHARED] == subjectim[:1, :N_SHARED]).all():
        raise ValueError(f"subjectim's first {N_SHARED} columns must be the same for every subject (NSD's shared "
                         f"images)")
    if order.min() < 1 or order.max() > subjectim.shape[1]:
        raise ValueError(f"masterordering holds 1-based indices into subjectim's {subjectim.shape[1]} columns")
    path = expdesign_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    savemat(path, {"masterordering": order[None, :], "subjectim": subjectim,
                   "sharedix": subjectim[:1, :N_SHARED]})
    return path


def write_stim_info(root, coco_ids, coco_splits) -> Path:
    """Write ``nsd_stim_info_merged.csv``: one row per 73k image (``nsdId`` 0-based).

    Parameters
    ----------
    root : str or Path
    coco_ids : array of int
        Each image's ``cocoId``.
    coco_splits : array of str
        Each image's ``cocoSplit`` (``train2017`` or ``val2017``).
    """
    path = stim_info_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"cocoId": np.asarray(coco_ids), "cocoSplit": np.asarray(coco_splits),
                  "nsdId": np.arange(len(coco_ids))}).to_csv(path)
    return path


def session_runs() -> tuple[np.ndarray, np.ndarray]:
    """Run (1-based) and trial within the run (1-based) of each of a session's 750 trials (:data:`RUN_LENGTHS`)."""
    run = np.repeat(np.arange(1, len(RUN_LENGTHS) + 1), RUN_LENGTHS)
    start = np.cumsum((0,) + RUN_LENGTHS[:-1])
    return run, np.arange(TRIALS_PER_SESSION) - start[run - 1] + 1


def write_responses(root, subject: str, masterordering, subjectim, n_sessions: int) -> Path:
    """Write ``subject``'s ``responses.tsv``: SUBJECT, SESSION, RUN, TRIAL, 73KID and 10KID (1-based, as NSD writes
    them) of each trial, in the design's order (runs of :data:`RUN_LENGTHS`).

    Parameters
    ----------
    root : str or Path
    subject : str
        ``sub-01`` ... ``sub-08``.
    masterordering, subjectim : array of int
        The design, as given to :func:`write_design`.
    n_sessions : int
        The subject's first ``n_sessions`` sessions.
    """
    s = int(nsd_subject(subject)[4:])
    t = np.arange(n_sessions * TRIALS_PER_SESSION)
    k10 = np.asarray(masterordering, np.int64).ravel()[t]
    run, trial = session_runs()
    path = responses_path(root, subject)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"SUBJECT": s, "SESSION": t // TRIALS_PER_SESSION + 1, "RUN": np.tile(run, n_sessions),
                  "TRIAL": np.tile(trial, n_sessions), "73KID": np.asarray(subjectim)[s - 1, k10 - 1],
                  "10KID": k10}).to_csv(path, sep="\t", index=False)
    return path


def write_session_betas(root, subject: str, hemi: str, session: int, betas) -> Path:
    """Write one session's betas on one hemisphere as NSD's float32 MGH of shape (n_vertices, 1, 1, 750).

    Parameters
    ----------
    root : str or Path
    subject : str
    hemi : {"left", "right"}
    session : int
        1-based.
    betas : array, (n_vertices, 750)
        The session's trials in chronological order.
    """
    betas = np.asarray(betas, dtype=np.float32)
    if betas.ndim != 2 or betas.shape[1] != TRIALS_PER_SESSION:
        raise ValueError(f"a session's betas are (n_vertices, {TRIALS_PER_SESSION}), got {betas.shape}")
    path = beta_path(root, subject, hemi, f"betas_session{session:02d}.mgh")
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.MGHImage(betas[:, None, None, :], np.eye(4)), path)
    return path


def write_nsdgeneral(root, masks: dict) -> None:
    """``{lh,rh}.nsdgeneral.mgz`` from ``{hemi: bool array (n_vertices,)}`` (1 inside, 0 outside)."""
    for hemi in HEMIS:
        path = nsdgeneral_path(root, hemi)
        path.parent.mkdir(parents=True, exist_ok=True)
        nib.save(nib.MGHImage(np.asarray(masks[hemi], np.float32)[:, None, None], np.eye(4)), path)


def write_images(root, images) -> Path:
    """``nsd_stimuli.hdf5`` with ``imgBrick``: ``images`` (n_images, height, width, 3) uint8, in 73k order."""
    import h5py

    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"imgBrick is (n_images, height, width, 3) uint8, got {images.shape} {images.dtype}")
    path = images_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.create_dataset("imgBrick", data=images)
    return path


def write_coco_captions(coco_root, coco_ids, coco_splits, captions) -> Path:
    """Write COCO's ``annotations/captions_{split}.json`` for the images given.

    Parameters
    ----------
    coco_root : str or Path
        The folder that will hold ``annotations/``.
    coco_ids : array of int
    coco_splits : array of str
        Each image's COCO id and split: its captions go to that split's file.
    captions : list of list of str
        Each image's captions; annotation ids rise in list order, so the first is the one :func:`read_captions`
        takes.
    """
    ann = Path(coco_root) / "annotations"
    ann.mkdir(parents=True, exist_ok=True)
    by_split: dict[str, list] = {}
    next_id = 1
    for cid, split, caps in zip(coco_ids, coco_splits, captions):
        by_split.setdefault(str(split), []).extend(
            {"image_id": int(cid), "id": next_id + j, "caption": c} for j, c in enumerate(caps))
        next_id += len(caps)
    for split, anns in by_split.items():
        (ann / f"captions_{split}.json").write_text(json.dumps({"annotations": anns}))
    return Path(coco_root)
