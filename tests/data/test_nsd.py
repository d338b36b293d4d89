"""The NSD adapter on a tiny download in NSD's exact layout and formats: the trial -> image mapping of the design,
checked against responses.tsv; rows aligned with the MGH betas; the named errors of each broken file."""
import json

import numpy as np
import pandas as pd
import pytest

from amodal.data import _io, preprocess_subject, read_trials
from amodal.data.adapters import nsd
from amodal.errors import DataError

from .nsd_tree import design, trial_values, write_captions, write_images, write_tree

NV = 642


@pytest.fixture
def tree(tmp_path):
    return write_tree(tmp_path / "nsd", NV)


def test_trials_follow_the_design(tree):
    trials = nsd.index_subject(tree, "sub-02")
    d = design()
    t = np.arange(1500)
    k10 = d["masterordering"][0] - 1
    np.testing.assert_array_equal(trials["stimulus_id"].astype(int), d["subjectim"][1, k10] - 1)  # 0-based 73k
    np.testing.assert_array_equal(trials["split"] == "test", k10 < 1000)
    assert (trials["split"] == "test").sum() == 180  # 60 shared images x 3
    assert list(trials["session"].unique()) == ["01", "02"] and trials["column"].max() == 749
    assert trials["run"].iloc[0] == "ses-01_run-01" and trials["run"].iloc[-1] == "ses-02_run-12"
    assert set(trials["modality"]) == {"image"} and list(trials["trial"]) == list(t)


@pytest.mark.parametrize("hemi", ["left", "right"])
def test_betas_are_aligned_with_trials(tree, hemi):
    trials = nsd.index_subject(tree, "sub-01")
    pick = trials.sample(40, random_state=0)
    data = nsd.read_betas(tree, "sub-01", hemi, pick, NV)
    for row, trial in zip(data, pick["trial"]):
        np.testing.assert_array_equal(row, trial_values("sub-01", hemi, int(trial), NV))


def test_layout_captions_images_and_session_zscore(tree, tmp_path):
    write_images(tree)
    coco = write_captions(tmp_path / "coco")
    out = tmp_path / "layout"
    counts = nsd.write_layout(tree, out, ["sub-01"], coco_root=coco, log=lambda *a: None)
    assert counts["subjects"]["sub-01"] == {"test": 180, "train": 1320}
    table = _io.read_stimuli(out)
    assert len(table) == 160  # 60 shared + 100 own
    k = int(table["id"].iloc[0])
    assert table["caption"].iloc[0] == f"first caption {k}"  # the lowest annotation id, stripped
    assert (out / "stimuli" / table["image_file"].iloc[0]).is_file()
    trials = read_trials(out, "sub-01", stimulus_ids=table["id"])

    def reader(hemi, t, nv):
        return nsd.read_betas(tree, "sub-01", hemi, t, nv)

    ds = preprocess_subject(out, "sub-01", "fsaverage3", zscore="session", average=True, log=lambda *a: None,
                            read_betas=reader)
    assert ds.sizes["trial"] == 160 and set(ds["n_repeats"].values[ds["split"].values == "test"]) == {3}
    single = preprocess_subject(out, "sub-01", "fsaverage3", zscore="session", average=False, log=lambda *a: None,
                                read_betas=reader)
    raw = np.concatenate([reader(h, trials, NV) for h in ("left", "right")], axis=1)
    for ses in ("01", "02"):  # every row of a session, z-scored with that session's train trials
        rows = (trials["session"] == ses).to_numpy()
        assert rows.sum() == 750
        train = rows & (trials["split"] == "train").to_numpy()
        z = (raw[rows] - raw[train].mean(0)) / raw[train].std(0)
        np.testing.assert_allclose(single["betas"].values[rows], z, rtol=1e-4, atol=1e-4)


def test_test_repeats_averaged_and_train_trials_single(tree, tmp_path):
    """`preprocess.average_repeats: test` (config/nsd.yaml): the papers train on single trials and score the mean of
    each test image's three presentations; `true` averaged the train repeats too."""
    from amodal.data.adapters import betas_reader

    write_images(tree)
    out = tmp_path / "layout"
    nsd.write_layout(tree, out, ["sub-01"], coco_root=write_captions(tmp_path / "coco"), log=lambda *a: None)
    kw = dict(zscore="session", log=lambda *a: None, read_betas=betas_reader("nsd", tree, "sub-01"))
    ds = preprocess_subject(out, "sub-01", "fsaverage3", average="test", **kw)
    single = preprocess_subject(out, "sub-01", "fsaverage3", average=False, **kw)
    both = preprocess_subject(out, "sub-01", "fsaverage3", average=True, **kw)
    split, n = ds["split"].values, ds["n_repeats"].values
    assert (split == "train").sum() == 1320 and set(n[split == "train"]) == {1}  # every train trial, single
    assert (split == "test").sum() == 60 and set(n[split == "test"]) == {3}
    assert ds.attrs["average_repeats"] == "test" and ds["repeats"].sizes["presentation"] == 180
    train = single["split"].values == "train"
    np.testing.assert_array_equal(ds["betas"].values[split == "train"], single["betas"].values[train])
    test = both["split"].values == "test"
    np.testing.assert_array_equal(ds["betas"].values[split == "test"], both["betas"].values[test])
    assert (both["split"].values == "train").sum() == 100  # what `true` does: one row per train image


def test_roi_keeps_nsdgeneral(tree, tmp_path):
    write_images(tree)
    out = tmp_path / "layout"
    nsd.write_layout(tree, out, ["sub-01"], coco_root=write_captions(tmp_path / "coco"), log=lambda *a: None)
    roi = nsd.read_nsdgeneral(tree, NV)
    ds = preprocess_subject(out, "sub-01", "fsaverage3", log=lambda *a: None, roi=roi,
                            read_betas=lambda h, t, nv: nsd.read_betas(tree, "sub-01", h, t, nv))
    for hemi in ("left", "right"):
        kept = ds["vertex_index"].values[ds["hemi"].values == hemi]
        np.testing.assert_array_equal(kept, np.flatnonzero(roi[hemi]))
    # the adapter's reader takes only the ROI's vertices from each session file (NSD at fsaverage7 would not fit
    # whole): the same store as reading whole hemispheres and masking
    from amodal.data.adapters import betas_reader

    reader = betas_reader("nsd", tree, "sub-01")
    trials = read_trials(out, "sub-01")
    idx = np.flatnonzero(roi["right"])
    np.testing.assert_array_equal(reader("right", trials, NV, vertices=idx), reader("right", trials, NV)[:, idx])
    by_file = preprocess_subject(out, "sub-01", "fsaverage3", log=lambda *a: None, roi=roi, read_betas=reader)
    np.testing.assert_array_equal(by_file["betas"].values, ds["betas"].values)
    report = json.loads(by_file.attrs["mask_report"])["left"]
    assert report["n_outside_roi"] == NV - roi["left"].sum() and report["n_kept"] == roi["left"].sum()


def test_responses_must_agree_with_the_design(tree):
    p = nsd.responses_path(tree, "sub-01")
    resp = pd.read_csv(p, sep="\t")
    resp.loc[800, "73KID"] += 1
    resp.to_csv(p, sep="\t", index=False)
    with pytest.raises(DataError, match=r"responses.tsv: session 2 run 1 trial 51 of sub-01 shows 73k id"):
        nsd.index_subject(tree, "sub-01")


def test_hemispheres_need_the_same_sessions(tree):
    (nsd.betas_dir(tree, "sub-01") / "rh.betas_session02.mgh").unlink()
    with pytest.raises(DataError, match=r"lh.betas_session02.mgh of sub-01 has no rh counterpart"):
        nsd.index_subject(tree, "sub-01")


def test_session_files_must_hold_750_trials_of_the_mesh(tree):
    trials = nsd.index_subject(tree, "sub-01")
    with pytest.raises(DataError, match=r"lh.betas_session01.mgh: a map on fsaverage3 .* set `dataset.mesh: "
                                        r"fsaverage3`"):
        nsd.read_betas(tree, "sub-01", "left", trials, 163842)
    import nibabel as nib

    short = nsd.beta_path(tree, "sub-01", "left", "betas_session02.mgh")
    nib.save(nib.MGHImage(np.zeros((642, 1, 1, 700), np.float32), np.eye(4)), short)
    with pytest.raises(DataError, match=r"lh.betas_session02.mgh: shape \(642, 700\) .* truncated"):
        nsd.read_betas(tree, "sub-01", "left", trials, NV)


def test_wrong_root_and_unfetched_files(tree, tmp_path):
    from amodal.data.adapters import beta_files, layout_inputs

    with pytest.raises(DataError, match="`dataset.path` must be NSD's root"):
        layout_inputs("nsd", tmp_path / "elsewhere", ["sub-01"])
    assert [f.rsplit("/", 1)[1] for f in beta_files("nsd", tree, "sub-01")] == [
        "lh.betas_session01.mgh", "lh.betas_session02.mgh", "rh.betas_session01.mgh", "rh.betas_session02.mgh"]
    f = nsd.beta_path(tree, "sub-01", "right", "betas_session01.mgh")
    f.unlink()
    f.symlink_to(tmp_path / "annex" / "never-fetched")
    with pytest.raises(DataError, match=r"rh.betas_session01.mgh: 1 of 4 .* never fetched"):
        beta_files("nsd", tree, "sub-01")


def test_missing_captions_say_what_to_download(tree, tmp_path):
    write_images(tree)
    with pytest.raises(DataError, match="NSD ships no captions: download COCO's annotations_trainval2017.zip"):
        nsd.write_layout(tree, tmp_path / "layout", ["sub-01"], coco_root=tmp_path / "nowhere", log=lambda *a: None)


def test_unknown_subject_and_missing_download(tree, tmp_path):
    with pytest.raises(DataError, match="NSD has sub-01..sub-08"):
        nsd.nsd_subject("sub-09")
    with pytest.raises(DataError, match="no fsaverage betas for sub-03"):
        nsd.index_subject(tree, "sub-03")
    with pytest.raises(DataError, match="nsd_expdesign.mat does not exist"):
        nsd.read_design(tmp_path)


def test_every_image_in_the_stimulus_table(tree, tmp_path):
    write_images(tree)
    trials = nsd.index_subject(tree, "sub-01")
    info = pd.read_csv(nsd.stim_info_path(tree), index_col=0)
    gone = int(trials["stimulus_id"].iloc[0])
    info[info["nsdId"] != gone].to_csv(nsd.stim_info_path(tree))
    with pytest.raises(DataError, match=rf"nsd_stim_info_merged.csv: 73k ids \['{gone}'\] .* shown to \['sub-01'\]"):
        nsd.write_layout(tree, tmp_path / "layout", ["sub-01"], coco_root=write_captions(tmp_path / "coco"),
                         log=lambda *a: None)


def test_image_brick_must_hold_every_image(tree, tmp_path):
    import h5py

    nsd.images_path(tree).parent.mkdir(parents=True)
    with h5py.File(nsd.images_path(tree), "w") as f:
        f.create_dataset("imgBrick", data=np.zeros((10, 4, 4, 3), np.uint8))
    with pytest.raises(DataError, match=r"imgBrick has shape \(10, 4, 4, 3\), not \(73000, height, width, 3\)"):
        nsd.write_layout(tree, tmp_path / "layout", ["sub-01"], coco_root=write_captions(tmp_path / "coco"),
                         log=lambda *a: None)


def test_a_nan_session_file_stops_preprocessing_and_names_the_file(tree, tmp_path):
    import nibabel as nib

    from amodal.data.adapters import betas_reader

    write_images(tree)
    out = tmp_path / "layout"
    nsd.write_layout(tree, out, ["sub-01"], coco_root=write_captions(tmp_path / "coco"), log=lambda *a: None)
    bad = nsd.betas_dir(tree, "sub-01") / "rh.betas_session02.mgh"
    img = nib.load(bad)
    nib.save(nib.MGHImage(np.full(img.shape, np.nan, np.float32), img.affine), bad)
    with pytest.raises(DataError, match=rf"{bad} \(trial 0 of the file\): the right map of sub-01's .* trial 750 .*"
                                        r"is NaN at every vertex.* 750 maps are broken"):
        preprocess_subject(out, "sub-01", "fsaverage3", log=lambda *a: None,
                           read_betas=betas_reader("nsd", tree, "sub-01"))


def test_writer_runs_are_nsds(tree):
    # twelve runs a session, 63 trials in the odd ones and 62 in the even ones, as NSD's responses.tsv has them
    resp = pd.read_csv(nsd.responses_path(tree, "sub-01"), sep="\t")
    sizes = resp[resp["SESSION"] == 2].groupby("RUN").size()
    assert list(sizes.index) == list(range(1, 13)) and list(sizes) == [63, 62] * 6
    assert resp.groupby(["SESSION", "RUN"])["TRIAL"].max().tolist() == [63, 62] * 12


def test_writer_refuses_what_nsd_would_not_hold(tmp_path):
    d = design()
    bad = d["subjectim"].copy()
    bad[1, 0] = bad[0, 1]
    with pytest.raises(ValueError, match="shared"):
        nsd.write_design(tmp_path, d["masterordering"], bad)
    with pytest.raises(ValueError, match="1-based"):
        nsd.write_design(tmp_path, d["masterordering"] - 1, d["subjectim"])
    with pytest.raises(ValueError, match="750"):
        nsd.write_session_betas(tmp_path, "sub-01", "left", 1, np.zeros((10, 749)))
    with pytest.raises(ValueError, match="uint8"):
        nsd.write_images(tmp_path, np.zeros((2, 4, 4, 3)))
