"""FreeSurfer annotations become the layout's atlas; without them the error names the files and where to put them."""
import numpy as np
import pytest

from amodal.data import read_labels
from amodal.data.adapters import freesurfer
from amodal.errors import DataError
from amodal.surface import N_VERTICES

import nibabel as nib

NAMES = ["unknown", "bankssts", "superiorparietal", "lateraloccipital"]


def write_annot(path, n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(-1, len(NAMES), n)
    ctab = np.array([[25 * k, 10, 10, 0, 0] for k in range(len(NAMES))], dtype=np.int32)
    ctab[:, 4] = ctab[:, 0] + ctab[:, 1] * 2 ** 8 + ctab[:, 2] * 2 ** 16
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.freesurfer.write_annot(str(path), labels, ctab, NAMES, fill_ctab=False)
    return labels


def test_annotation_becomes_label_gifti(tmp_path, monkeypatch):
    monkeypatch.delenv("SUBJECTS_DIR", raising=False)
    monkeypatch.setenv("FREESURFER_HOME", str(tmp_path / "fs"))
    n = N_VERTICES["fsaverage3"]
    raw = {h: write_annot(tmp_path / "fs" / "subjects" / "fsaverage3" / "label" / f"{fh}.aparc.annot", n, k)
           for k, (h, fh) in enumerate(freesurfer.FS_HEMI.items())}
    outs = [tmp_path / "atlas" / f"atlas_hemi-{x}.label.gii" for x in "LR"]
    freesurfer.write_atlas("fsaverage3", outs, log=lambda *a: None)
    for hemi, out in zip(("left", "right"), outs):
        keys, table = read_labels(out)
        named = np.array([table[k] for k in keys])
        expected = np.array(["unknown" if v < 0 else NAMES[v] for v in raw[hemi]])
        np.testing.assert_array_equal(named, expected)
        assert table[0] == "unknown"


def test_fsaverage7_lives_in_fsaverage_and_subjects_dir_comes_first(tmp_path, monkeypatch):
    monkeypatch.setenv("FREESURFER_HOME", str(tmp_path / "fs"))
    for base in (tmp_path / "mine", tmp_path / "fs" / "subjects"):
        for fh in ("lh", "rh"):
            (base / "fsaverage" / "label").mkdir(parents=True, exist_ok=True)
            (base / "fsaverage" / "label" / f"{fh}.aparc.annot").write_bytes(b"")
    paths = freesurfer.find_annotations("fsaverage7", subjects_dir=tmp_path / "mine")
    assert paths["left"] == tmp_path / "mine" / "fsaverage" / "label" / "lh.aparc.annot"


def test_missing_annotations_say_what_to_download(tmp_path, monkeypatch):
    monkeypatch.delenv("SUBJECTS_DIR", raising=False)
    monkeypatch.delenv("FREESURFER_HOME", raising=False)
    with pytest.raises(DataError, match=r"no aparc annotation for fsaverage7.*lh\.aparc\.annot.*FREESURFER_HOME.*"
                                        r"freesurfer_subjects_dir"):
        freesurfer.find_annotations("fsaverage7")


def test_annotation_of_another_mesh_is_refused(tmp_path):
    write_annot(tmp_path / "lh.aparc.annot", 642, 0)
    with pytest.raises(DataError, match="642 vertices, but the mesh has 2562"):
        freesurfer.read_annotation(tmp_path / "lh.aparc.annot", 2562)


def test_written_annotation_reads_back(tmp_path):
    n = N_VERTICES["fsaverage3"]
    labels = np.random.default_rng(4).integers(0, len(NAMES), n)
    path = freesurfer.write_annotation(freesurfer.annotation_path(tmp_path, "fsaverage3", "right", "mine"),
                                       labels, NAMES)
    assert path == tmp_path / "fsaverage3" / "label" / "rh.mine.annot"
    keys, table = freesurfer.read_annotation(path, n)
    np.testing.assert_array_equal(np.array([table[k] for k in keys]), np.array(NAMES)[labels])
    with pytest.raises(ValueError, match="one index into the 4 names"):
        freesurfer.write_annotation(tmp_path / "bad.annot", labels + 1, NAMES)
