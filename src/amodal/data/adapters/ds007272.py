"""OpenNeuro ds007272 (SemReps-8K, the reference study's data) read as it is downloaded.

What is read (``<root>`` is the dataset root, as ``openneuro-py`` or DataLad leave it)::

    stimuli/stimuli.csv                         COCO id (first column), caption, img_path, used
    derivatives/betas/surface/<left|right>/sub-XX/betas_<train_image|train_caption|test_image|test_caption|imagery>/
        beta_NNNNNN.gii                         one fsaverage7 map (darray 0) per stimulus and modality

The study's GLM pooled every presentation of a stimulus in a modality into one beta, so each file is one row of
amodal's trials table. Its modality and split come from the folder name, its stimulus from the file name (for
``betas_imagery``, ``beta_00000k`` is scene k, mapped to a COCO id by the table shipped with amodal,
``ds007272_imagery.tsv``: the events files give only the scene number). Rows are aligned across hemispheres by
(split, modality, stimulus), never by file order.

Checks (each stops with a :class:`~amodal.errors.DataError` naming the file, the subject and the fix): the 70
test ids of each test folder equal the study's list (``ds007272_test_ids.txt``), hence identical across
subjects and modalities; exactly the 3 imagery betas; no test id among the train ids; every id in the stimuli
table (rows with ``used``); the same files in the left and right folders; every map with the mesh's vertex count
(163,842 on fsaverage7).

The beta folders are a derivative with their own naming (``beta_NNNNNN.gii``, split in the folder name), which
pybids does not index as BIDS entities, so they are listed directly; the list is checked as above.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from ...errors import DataError
from ...surface import HEMIS
from .._io import require_fetched, vertex_count_error

FOLDERS = {  # folder -> (split, modality)
    "betas_train_image": ("train", "image"),
    "betas_train_caption": ("train", "caption"),
    "betas_test_image": ("test", "image"),
    "betas_test_caption": ("test", "caption"),
    "betas_imagery": ("imagery", "imagery"),
}
IGNORED_FOLDERS = ("betas_blank",)  # the fixation-baseline beta: not a stimulus
N_TEST = 70
N_IMAGERY = 3
BETA_FILE = re.compile(r"^beta_(\d{6})\.gii$")
# Row order of the trials table, as the reference loads them: train captions, then train images; test images,
# then test captions; imagery; ids ascending within each block.
_ORDER = {("train", "caption"): 0, ("train", "image"): 1, ("test", "image"): 2, ("test", "caption"): 3,
          ("imagery", "imagery"): 4}


def _package_file(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text()


def imagery_scenes() -> pd.DataFrame:
    """The imagery scenes each subject memorised: ``subject``, ``scene`` (1-3), ``stimulus_id`` (COCO id, as a
    string) and ``caption``, from the table shipped with amodal."""
    from io import StringIO

    return pd.read_csv(StringIO(_package_file("ds007272_imagery.tsv")), sep="\t", comment="#",
                       dtype={"stimulus_id": str, "subject": str})


def test_ids() -> list[str]:
    """The study's 70 test COCO ids (strings, ascending)."""
    lines = [ln.strip() for ln in _package_file("ds007272_test_ids.txt").splitlines()]
    return sorted((ln for ln in lines if ln and not ln.startswith("#")), key=int)


def subjects() -> list[str]:
    """The subjects of ds007272 (there is no sub-06)."""
    return sorted(imagery_scenes()["subject"].unique())


def stimuli_csv(root) -> Path:
    """``<root>/stimuli/stimuli.csv``."""
    return Path(root) / "stimuli" / "stimuli.csv"


def surface_dir(root, hemi: str, subject: str) -> Path:
    """``<root>/derivatives/betas/surface/<hemi>/<subject>``: one subject's beta folders on one hemisphere."""
    return Path(root) / "derivatives" / "betas" / "surface" / hemi / subject


def beta_path(root, subject: str, hemi: str, name: str) -> Path:
    """The file of one beta: ``name`` is a trials table's ``file`` (``<folder>/<beta file>``)."""
    return surface_dir(root, hemi, subject) / name


def _is_true(values: pd.Series) -> np.ndarray:
    text = values.astype(str).str.strip().str.lower()
    bad = ~text.isin(["true", "false", "1", "0", "1.0", "0.0"])
    if bad.any():
        raise DataError(f"column 'used' holds {values[bad].iloc[0]!r}, not True/False")
    return text.isin(["true", "1", "1.0"]).to_numpy()


def read_stimuli(root) -> pd.DataFrame:
    """The stimuli that were shown: rows of ``stimuli/stimuli.csv`` with ``used``.

    Parameters
    ----------
    root : str or Path
        The ds007272 root.

    Returns
    -------
    pandas.DataFrame
        ``id`` (COCO id, as a string), ``caption`` (the text shown in the scanner) and ``coco_file`` (the image's
        path under the COCO root, with ``/`` separators), one row per used stimulus.

    Raises
    ------
    DataError
        For a missing file or column, or a duplicated id.
    """
    path = check_root(root)
    df = pd.read_csv(path, index_col=0, dtype=str, keep_default_na=False)
    numbers = pd.Series(df.index.astype(str).str.strip())
    if not df.index.name and numbers.str.fullmatch(r"\d+").all() and len(df) > 1 and (
            numbers.astype(int).to_numpy() == np.arange(len(df)) + int(numbers.iloc[0])).all():
        raise DataError(f"{path}: the first column has no header and counts the rows ({numbers.iloc[0]}, "
                        f"{numbers.iloc[1]}, ...): the file was re-saved with its row numbers (pandas' to_csv without "
                        f"index=False). ds007272's first column is the COCO id: drop the row-number column, or "
                        f"re-download stimuli/stimuli.csv")
    missing = [c for c in ("caption", "img_path", "used") if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; ds007272's stimuli.csv has the COCO id as its first "
                        f"column and the columns caption, img_path and used")
    try:
        used = _is_true(df["used"])
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None
    df = df[used]
    ids = pd.Series(df.index.astype(str).str.strip(), index=df.index)
    if not ids.str.fullmatch(r"\d+").all():
        raise DataError(f"{path}: the first column must be the COCO id (an integer); found "
                        f"{ids[~ids.str.fullmatch(r'[0-9]+')].iloc[0]!r}")
    ids = ids.astype(int).astype(str)  # "000123" and "123" are one stimulus
    dup = ids[ids.duplicated()].tolist()
    if dup:
        raise DataError(f"{path}: COCO ids must be unique among the used rows; duplicated: {dup[:10]}")
    return pd.DataFrame({"id": ids.to_numpy(), "caption": df["caption"].to_numpy(),
                         "coco_file": df["img_path"].str.replace("\\", "/", regex=False).to_numpy()})


def _list_betas(root, subject: str, hemi: str) -> set[tuple[str, str]]:
    base = surface_dir(root, hemi, subject)
    if not base.is_dir():
        raise DataError(f"{base} does not exist: no {hemi} surface betas for {subject}. Download "
                        f"derivatives/betas/surface/{hemi}/{subject}/ from ds007272, or remove {subject} from "
                        f"`dataset.subjects`")
    found = set()
    for folder in sorted(p for p in base.iterdir()):
        if folder.name in IGNORED_FOLDERS:
            continue
        if folder.name not in FOLDERS:
            raise DataError(f"{folder}: unexpected folder for {subject}; ds007272's beta folders are "
                            f"{sorted(FOLDERS)} (and {list(IGNORED_FOLDERS)}). Move it out of the dataset")
        for f in sorted(folder.iterdir()):
            if not BETA_FILE.match(f.name):
                raise DataError(f"{f}: not a beta file of {subject} (beta_NNNNNN.gii, N the COCO id or, in "
                                f"betas_imagery, the scene number). Remove it, or re-download the folder")
            found.add((folder.name, f.name))
    return found


def beta_files(root, subject: str) -> list[Path]:
    """Every beta file of ``subject`` that preprocessing reads, on both hemispheres (listed and checked as
    :func:`index_subject` lists them; the blank beta is left out)."""
    return [surface_dir(root, hemi, subject) / folder / name
            for hemi in HEMIS for folder, name in sorted(_list_betas(root, subject, hemi))]


def check_root(root) -> Path:
    """``stimuli/stimuli.csv`` under ``root``, or a :class:`DataError` saying that `dataset.path` must be the root."""
    path = stimuli_csv(root)
    if not path.is_file():
        raise DataError(f"{path} does not exist: `dataset.path` must be the ds007272 root (the folder that holds "
                        f"stimuli/ and derivatives/); download the dataset with openneuro-py or DataLad")
    return path


def index_subject(root, subject: str, stimulus_ids) -> pd.DataFrame:
    """List and check one subject's surface betas, and give them as amodal's trials table.

    Parameters
    ----------
    root : str or Path
        The ds007272 root.
    subject : str
        For example ``"sub-01"``.
    stimulus_ids : iterable of str
        The ids of the stimuli table (:func:`read_stimuli`).

    Returns
    -------
    pandas.DataFrame
        ``trial``, ``stimulus_id``, ``modality``, ``split``, ``run`` (``"all"``: each beta pools every run) and
        ``file`` (``<folder>/<beta file>``, the same under both hemispheres), one row per beta, ordered train
        captions, train images, test images, test captions, imagery, ids ascending within each.

    Raises
    ------
    DataError
        When any check of the module docstring fails.
    """
    listed = {hemi: _list_betas(root, subject, hemi) for hemi in HEMIS}
    only = {h: sorted(listed[h] - listed[o]) for h, o in (("left", "right"), ("right", "left"))}
    for hemi, files in only.items():
        if files:
            other = "right" if hemi == "left" else "left"
            raise DataError(f"{surface_dir(root, hemi, subject)}: {len(files)} beta file(s) of {subject} have no "
                            f"{other} counterpart, e.g. {'/'.join(files[0])}; the left and right folders must hold "
                            f"the same files. Re-download derivatives/betas/surface/{other}/{subject}/")
    scenes = imagery_scenes()
    scenes = scenes[scenes["subject"] == subject].set_index("scene")
    rows = []
    for folder, name in listed["left"]:
        split, modality = FOLDERS[folder]
        number = int(BETA_FILE.match(name).group(1))
        where = surface_dir(root, "left", subject) / folder / name
        if split == "imagery":
            if scenes.empty:
                raise DataError(f"{where}: amodal has no imagery scene table for {subject} (ds007272 has "
                                f"{subjects()}); check `dataset.subjects`")
            if number not in scenes.index:
                raise DataError(f"{where}: imagery betas are beta_000001..beta_00000{N_IMAGERY} (scene numbers); "
                                f"{name} is not one of them. Remove it from betas_imagery/ of both hemispheres, or "
                                f"re-download the folder")
            stimulus = scenes.loc[number, "stimulus_id"]
        else:
            stimulus = str(number)
        rows.append({"stimulus_id": stimulus, "modality": modality, "split": split, "file": f"{folder}/{name}",
                     "_order": _ORDER[(split, modality)], "_num": number})
    df = pd.DataFrame(rows, columns=["stimulus_id", "modality", "split", "file", "_order", "_num"])
    here = surface_dir(root, "left", subject)
    n_imagery = int((df["split"] == "imagery").sum())
    if n_imagery != N_IMAGERY:
        raise DataError(f"{here}/betas_imagery: {subject} has {n_imagery} imagery betas; ds007272 has exactly "
                        f"{N_IMAGERY} (beta_000001..3). Re-download the folder")
    expected = set(test_ids())
    for modality in ("image", "caption"):
        got = set(df.loc[(df["split"] == "test") & (df["modality"] == modality), "stimulus_id"])
        if got != expected:
            extra, lacking = sorted(got - expected, key=int), sorted(expected - got, key=int)
            raise DataError(f"{here}/betas_test_{modality}: {subject} has {len(got)} test betas; ds007272's "
                            f"{N_TEST} test ids are the same for every subject and modality (missing: "
                            f"{lacking[:5]}, unexpected: {extra[:5]}). Re-download the folder")
    leak = sorted(set(df.loc[df["split"] == "train", "stimulus_id"]) & expected, key=int)
    if leak:
        raise DataError(f"{here}: test stimuli among {subject}'s train betas: {leak[:10]}; a test id must never be "
                        f"trained on. Check betas_train_image and betas_train_caption")
    known = set(stimulus_ids)
    unknown = df[~df["stimulus_id"].isin(known)]
    if len(unknown):
        first = unknown.iloc[0]
        raise DataError(f"{here}/{first['file']}: stimulus {first['stimulus_id']} of {subject} is not among the used "
                        f"rows of {stimuli_csv(root)} ({len(unknown)} such betas); the stimuli table and the betas "
                        f"must come from the same ds007272 version")
    df = df.sort_values(["_order", "_num"], kind="stable").drop(columns=["_order", "_num"]).reset_index(drop=True)
    df.insert(0, "trial", np.arange(len(df)))
    df.insert(4, "run", "all")
    return df


def read_betas(root, subject: str, hemi: str, trials: pd.DataFrame, n_vertices: int, vertices=None) -> np.ndarray:
    """Read one hemisphere's betas in the order of ``trials`` (its ``file`` column, from :func:`index_subject`).

    Parameters
    ----------
    root : str or Path
        The ds007272 root.
    subject : str
    hemi : {"left", "right"}
    trials : pandas.DataFrame
        With a ``file`` column (``<folder>/<beta file>``).
    n_vertices : int
        The mesh's vertex count per hemisphere (163,842 on fsaverage7).
    vertices : int array, optional
        Read only these vertices (an ROI's indices).

    Returns
    -------
    float32 array of shape (len(trials), n_vertices), or (len(trials), len(vertices))

    Raises
    ------
    DataError
        For a missing or unreadable file, or a map with another vertex count.
    """
    if "file" not in trials.columns:
        raise DataError(f"the trials table of {subject} has no 'file' column: it was not written by the ds007272 "
                        f"adapter; rerun the dataset rule")
    out = np.empty((len(trials), n_vertices if vertices is None else len(vertices)), dtype=np.float32)
    for row, rel in enumerate(trials["file"]):
        path = beta_path(root, subject, hemi, rel)
        require_fetched([path], f"{subject}'s {hemi} beta files")
        if not path.is_file():
            raise DataError(f"{path} does not exist ({subject}, {hemi}); the dataset changed since its trials table "
                            f"was written: rerun the dataset rule, or re-download the folder")
        try:
            values = np.asarray(nib.load(path).darrays[0].data).ravel()
        except Exception as exc:  # nibabel raises several types for corrupt files
            raise DataError(f"{path}: cannot be read as GIFTI ({exc}); re-download it") from exc
        if values.size != n_vertices:
            raise vertex_count_error(path, values.size, n_vertices, first=row == 0, native="fsaverage7")
        out[row] = values if vertices is None else values[vertices]
    return out


def write_layout(root, out, subject_list, coco_root=None, log=print) -> dict:
    """Write amodal's layout for ds007272: the stimuli table and one trials table per subject.

    The betas are not copied: preprocessing reads them from ``root`` through each trials table's ``file`` column
    (:func:`read_betas`). Only the stimuli that the listed subjects saw enter the stimuli table, so features are
    extracted for those alone.

    Parameters
    ----------
    root : str or Path
        The ds007272 root.
    out : str or Path
        The layout root to write (``stimuli/stimuli.tsv``, ``<subject>/<subject>_trials.tsv``,
        ``stimuli/images/<id><ext>`` linked to the COCO images, ``dataset_description.json``).
    subject_list : list of str
    coco_root : str or Path, optional
        The COCO 2017 root (``<coco_root>/images/train2017/...``). Without it no image is linked, and image features
        stop with a message that names the missing file.
    log : callable

    Returns
    -------
    dict
        Counts per subject (train images and captions, test, imagery) and the number of stimuli.

    Raises
    ------
    DataError
        When a check fails (:func:`index_subject`), or an image is missing under ``coco_root``.
    """
    import json

    from .._layout import stimuli_tsv, trials_tsv

    root, out = Path(root), Path(out)
    stim = read_stimuli(root)
    counts, seen = {}, set()
    for subject in subject_list:
        trials = index_subject(root, subject, stim["id"])
        path = trials_tsv(out, subject)
        path.parent.mkdir(parents=True, exist_ok=True)
        trials.to_csv(path, sep="\t", index=False)
        seen.update(trials["stimulus_id"])
        counts[subject] = {f"{s}_{m}": int(n) for (s, m), n in trials.groupby(["split", "modality"]).size().items()}
        log(f"{subject}: {len(trials)} betas " + ", ".join(f"{k} {v}" for k, v in counts[subject].items()))
    scenes = imagery_scenes()
    for _, sc in scenes[scenes["subject"].isin(subject_list)].iterrows():
        shown = stim.loc[stim["id"] == sc["stimulus_id"], "caption"]
        if len(shown) and shown.iloc[0].strip().lower().rstrip(".") != sc["caption"].strip().lower().rstrip("."):
            log(f"{sc['subject']} imagery scene {sc['scene']} (COCO {sc['stimulus_id']}): stimuli.csv's caption "
                f"{shown.iloc[0]!r} differs from the memorised {sc['caption']!r}; features use stimuli.csv's")
    stim = stim[stim["id"].isin(seen)].reset_index(drop=True)
    stim["image_file"] = [f"images/{i}{Path(f).suffix or '.jpg'}" for i, f in zip(stim["id"], stim["coco_file"])]
    images = stimuli_tsv(out).parent / "images"
    images.mkdir(parents=True, exist_ok=True)
    if coco_root:
        missing = [Path(coco_root) / f for f in stim["coco_file"] if not (Path(coco_root) / f).is_file()]
        if missing:
            raise DataError(f"{len(missing)} of {len(stim)} COCO images are missing under `dataset.coco_root` "
                            f"({coco_root}), e.g. {missing[0]}. Download COCO 2017 train2017 and val2017 images "
                            f"into {Path(coco_root) / 'images'}/")
        for link, target in zip(stim["image_file"], stim["coco_file"]):
            dest = images.parent / link
            if dest.is_symlink() or dest.exists():
                dest.unlink()
            dest.symlink_to((Path(coco_root) / target).resolve())
    else:
        log("dataset.coco_root is not set: no COCO image is linked, so only language models can be extracted")
    stim[["id", "caption", "image_file", "coco_file"]].to_csv(stimuli_tsv(out), sep="\t", index=False)
    (out / "dataset_description.json").write_text(json.dumps(
        {"Name": "ds007272 (SemReps-8K) in amodal's layout", "DatasetType": "derivative",
         "GeneratedBy": [{"Name": "amodal.data.adapters.ds007272"}],
         "SourceDatasets": [{"URL": str(root.resolve()), "DOI": "10.18112/openneuro.ds007272.v1.0.0"}]}, indent=2))
    log(f"{len(stim)} stimuli seen by {len(subject_list)} subject(s) written to {stimuli_tsv(out)}")
    return {"subjects": counts, "n_stimuli": len(stim)}
