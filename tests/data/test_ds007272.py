"""The ds007272 adapter on a tiny tree in the download's exact layout: rows aligned by stimulus and modality,
every check of the adapter stops with a message that names the file, the subject and the fix."""
import shutil

import numpy as np
import pandas as pd
import pytest

from amodal.data import _io, preprocess_subject, read_trials
from amodal.data.adapters import ds007272
from amodal.errors import DataError

from .ds007272_tree import TRAIN, beta_values, write_coco, write_tree

NV = 642  # fsaverage3: the maps are small, the checks the same as at fsaverage7


@pytest.fixture
def tree(tmp_path):
    return write_tree(tmp_path / "ds007272", NV)


def test_packaged_tables():
    ids = ds007272.test_ids()
    assert len(ids) == 70 == len(set(ids)) and ids[0] == "3862" and ids[-1] == "573980"
    scenes = ds007272.imagery_scenes()
    assert ds007272.subjects() == ["sub-01", "sub-02", "sub-03", "sub-04", "sub-05", "sub-07"]
    assert scenes.groupby("subject").size().eq(3).all()
    assert scenes.set_index(["subject", "scene"]).loc[("sub-02", 3), "stimulus_id"] == "254568"


def test_stimuli_keep_used_rows_with_coco_paths(tree):
    stim = ds007272.read_stimuli(tree)
    assert "999999" not in set(stim["id"])  # used == False
    row = stim.set_index("id").loc["3862"]
    assert row["coco_file"] == "images/train2017/000000003862.jpg" and row["caption"] == "caption of 3862"


def test_trials_come_from_folder_names_in_the_reference_order(tree):
    stim = ds007272.read_stimuli(tree)
    trials = ds007272.index_subject(tree, "sub-01", stim["id"])
    images, captions = TRAIN["sub-01"]
    blocks = [("train", "caption", len(captions)), ("train", "image", len(images)), ("test", "image", 70),
              ("test", "caption", 70), ("imagery", "imagery", 3)]
    assert list(trials["trial"]) == list(range(len(trials)))
    start = 0
    for split, modality, n in blocks:
        block = trials.iloc[start: start + n]
        assert (block["split"] == split).all() and (block["modality"] == modality).all()
        assert list(block["stimulus_id"].astype(int)) == sorted(block["stimulus_id"].astype(int)) or split == "imagery"
        start += n
    assert start == len(trials)
    imagery = trials[trials["split"] == "imagery"]
    assert list(imagery["stimulus_id"]) == ["406591", "324670", "563723"]  # scenes 1-3 of sub-01
    assert list(imagery["file"]) == [f"betas_imagery/beta_00000{k}.gii" for k in (1, 2, 3)]
    assert set(trials["run"]) == {"all"}


@pytest.mark.parametrize("hemi", ["left", "right"])
def test_rows_are_aligned_by_stimulus_and_modality(tree, hemi):
    stim = ds007272.read_stimuli(tree)
    trials = ds007272.index_subject(tree, "sub-07", stim["id"])
    data = ds007272.read_betas(tree, "sub-07", hemi, trials, NV)
    assert data.shape == (len(trials), NV) and data.dtype == np.float32
    for row, t in zip(data, trials.itertuples()):
        np.testing.assert_array_equal(row, beta_values("sub-07", hemi, t.split, t.modality, t.stimulus_id, NV))


def test_layout_and_preprocessing_read_the_download(tree, tmp_path):
    out = tmp_path / "layout"
    coco = tmp_path / "coco"
    stim = ds007272.read_stimuli(tree)
    write_coco(coco, stim["id"])
    counts = ds007272.write_layout(tree, out, ["sub-01", "sub-07"], coco_root=coco, log=lambda *a: None)
    assert counts["subjects"]["sub-01"] == {"imagery_imagery": 3, "test_caption": 70, "test_image": 70,
                                            "train_caption": 12, "train_image": 12}
    table = _io.read_stimuli(out)
    assert set(table["id"]) <= set(stim["id"]) and "999999" not in set(table["id"])
    assert (out / "stimuli" / table["image_file"].iloc[0]).resolve().is_file()  # linked to the COCO image
    trials = read_trials(out, "sub-01", stimulus_ids=table["id"])
    ds = preprocess_subject(out, "sub-01", "fsaverage3", log=lambda *a: None,
                            read_betas=lambda hemi, t, nv: ds007272.read_betas(tree, "sub-01", hemi, t, nv))
    assert ds.sizes["trial"] == len(trials) and ds.sizes["vertex"] == 2 * NV
    assert list(ds["stimulus_id"].values[ds["split"].values == "imagery"]) == ["406591", "324670", "563723"]
    # the z-score uses the train rows only
    train = ds["betas"].values[ds["split"].values == "train"]
    np.testing.assert_allclose(train.mean(0), 0, atol=1e-5)


def _fails(tree, match, subject="sub-01"):
    stim = ds007272.read_stimuli(tree)
    with pytest.raises(DataError, match=match) as err:
        ds007272.index_subject(tree, subject, stim["id"])
    assert subject in str(err.value)
    return str(err.value)


def test_missing_test_beta(tree):
    (ds007272.surface_dir(tree, "left", "sub-01") / "betas_test_image" / "beta_003862.gii").unlink()
    (ds007272.surface_dir(tree, "right", "sub-01") / "betas_test_image" / "beta_003862.gii").unlink()
    msg = _fails(tree, "betas_test_image: sub-01 has 69 test betas")
    assert "3862" in msg and "Re-download" in msg


def test_left_and_right_must_hold_the_same_files(tree):
    (ds007272.surface_dir(tree, "right", "sub-01") / "betas_train_image" / "beta_900001.gii").unlink()
    msg = _fails(tree, "no right counterpart")
    assert "betas_train_image/beta_900001.gii" in msg and "surface/right/sub-01" in msg


def test_exactly_three_imagery_betas(tree):
    for hemi in ("left", "right"):
        (ds007272.surface_dir(tree, hemi, "sub-01") / "betas_imagery" / "beta_000003.gii").unlink()
    _fails(tree, "has 2 imagery betas; ds007272 has exactly 3")


def test_an_imagery_file_that_is_not_a_scene(tree):
    for hemi in ("left", "right"):
        src = ds007272.surface_dir(tree, hemi, "sub-01") / "betas_imagery" / "beta_000003.gii"
        src.rename(src.with_name("beta_000004.gii"))
    _fails(tree, "beta_000004.gii is not one of them. Remove it from betas_imagery/ of both hemispheres, or "
                 "re-download the folder")


def test_no_test_id_among_train(tree):
    for hemi in ("left", "right"):
        base = ds007272.surface_dir(tree, hemi, "sub-01")
        shutil.copy(base / "betas_test_caption" / "beta_006450.gii", base / "betas_train_caption" / "beta_006450.gii")
    _fails(tree, r"test stimuli among sub-01's train betas: \['6450'\]")


def test_every_id_in_the_stimuli_table(tree):
    csv = ds007272.stimuli_csv(tree)
    df = pd.read_csv(csv, index_col=0)
    df.loc[900005, "used"] = False
    df.to_csv(csv)
    _fails(tree, "stimulus 900005 of sub-01 is not among the used rows")


def test_unexpected_files_and_folders(tree):
    (ds007272.surface_dir(tree, "left", "sub-01") / "betas_train_image" / "notes.txt").write_text("x")
    _fails(tree, r"notes.txt: not a beta file of sub-01")
    (ds007272.surface_dir(tree, "left", "sub-01") / "betas_train_image" / "notes.txt").unlink()
    (ds007272.surface_dir(tree, "left", "sub-01") / "betas_extra").mkdir()
    _fails(tree, "betas_extra: unexpected folder for sub-01")


def test_missing_subject_and_dataset(tree, tmp_path):
    stim = ds007272.read_stimuli(tree)
    with pytest.raises(DataError, match="no left surface betas for sub-02"):
        ds007272.index_subject(tree, "sub-02", stim["id"])
    with pytest.raises(DataError, match="must be the ds007272 root"):
        ds007272.read_stimuli(tmp_path / "elsewhere")


def test_vertex_count_must_match_the_mesh(tree):
    """A tree of another resolution is a mesh mismatch (the fix: `dataset.mesh`); one short file among good ones is
    a truncated file (the fix: re-download it), even when `dataset.mesh` is already right."""
    from .ds007272_tree import write_gifti

    stim = ds007272.read_stimuli(tree)
    trials = ds007272.index_subject(tree, "sub-01", stim["id"])
    with pytest.raises(DataError, match=r"beta_\d{6}\.gii: a map on fsaverage3 \(642 vertices\), but `dataset.mesh` "
                                        r"is fsaverage7; .* set `dataset.mesh: fsaverage3`"):
        ds007272.read_betas(tree, "sub-01", "left", trials, 163842)
    short = ds007272.surface_dir(tree, "left", "sub-01") / trials["file"].iloc[5]
    write_gifti(short, np.zeros(600, np.float32))
    with pytest.raises(DataError, match=rf"{short}: 600 values, but the fsaverage3 mesh .* has 642 per hemisphere, as "
                                        r"the other maps read before it have: the file is truncated or corrupt; "
                                        r"re-download it") as err:
        ds007272.read_betas(tree, "sub-01", "left", trials, NV)
    assert "set `dataset.mesh" not in str(err.value)


def test_a_stimuli_table_saved_with_row_numbers(tree):
    csv = ds007272.stimuli_csv(tree)
    pd.read_csv(csv).to_csv(csv)  # read without its index and saved with a new one: a row-number column first
    with pytest.raises(DataError, match=r"stimuli.csv: the first column has no header and counts the rows \(0, 1, "
                                        r"...\): the file was re-saved with its row numbers.*drop the row-number"):
        ds007272.read_stimuli(tree)


def test_unfetched_datalad_files_say_datalad_get(tree):
    from amodal.data.adapters import beta_files

    assert len(beta_files("ds007272", tree, "sub-01")) == 2 * (24 + 140 + 3)
    target = ds007272.surface_dir(tree, "left", "sub-01") / "betas_train_image" / "beta_900001.gii"
    target.unlink()
    target.symlink_to("../../../../../../.git/annex/objects/Xx/Yy/MD5E-s1--0.gii")  # what `datalad clone` leaves
    with pytest.raises(DataError, match=rf"{target}: 1 of 334 sub-01's beta files are links to content that was "
                                        r"never fetched .*`datalad get "):
        beta_files("ds007272", tree, "sub-01")
    stim = ds007272.read_stimuli(tree)
    trials = ds007272.index_subject(tree, "sub-01", stim["id"])  # the name is listed, so the table is written
    with pytest.raises(DataError, match="never fetched"):
        ds007272.read_betas(tree, "sub-01", "left", trials, NV)


def test_a_wrong_root_and_a_missing_hemisphere_folder_are_the_adapters_messages(tree, tmp_path):
    """The rules' inputs come from these functions: their messages come before Snakemake's missing-input error."""
    from amodal.data.adapters import beta_files, layout_inputs

    with pytest.raises(DataError, match="`dataset.path` must be the ds007272 root"):
        layout_inputs("ds007272", tmp_path / "elsewhere", ["sub-01"])
    shutil.rmtree(ds007272.surface_dir(tree, "right", "sub-07"))
    with pytest.raises(DataError, match=r"surface/right/sub-07 does not exist: no right surface betas for sub-07"):
        beta_files("ds007272", tree, "sub-07")


def test_missing_coco_images_are_named(tree, tmp_path):
    with pytest.raises(DataError, match=r"COCO images are missing under `dataset.coco_root`.*train2017"):
        ds007272.write_layout(tree, tmp_path / "layout", ["sub-07"], coco_root=tmp_path / "coco",
                              log=lambda *a: None)


def test_a_nan_beta_file_stops_preprocessing_and_names_the_file(tree, tmp_path):
    """One all-NaN beta used to mask every vertex of its hemisphere: preprocessing went on with the other one."""
    from amodal.data.adapters import betas_reader

    from .ds007272_tree import write_gifti

    out = tmp_path / "layout"
    stim = ds007272.read_stimuli(tree)
    write_coco(tmp_path / "coco", stim["id"])
    ds007272.write_layout(tree, out, ["sub-01"], coco_root=tmp_path / "coco", log=lambda *a: None)
    bad = ds007272.surface_dir(tree, "left", "sub-01") / "betas_test_caption" / "beta_006450.gii"
    write_gifti(bad, np.full(NV, np.nan, np.float32))
    with pytest.raises(DataError, match=rf"{bad}: the left map of sub-01's test caption trial \d+ \(stimulus 6450\) "
                                        r"is NaN at every vertex: a broken file.*Re-download"):
        preprocess_subject(out, "sub-01", "fsaverage3", log=lambda *a: None,
                           read_betas=betas_reader("ds007272", tree, "sub-01"))
