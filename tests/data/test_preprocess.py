"""Beta preprocessing: train-only z-scoring, repeat averaging, masking, and clear errors on bad input."""
import shutil

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from amodal import data as amodal_data
from amodal.errors import DataError


def test_zscore_uses_train_statistics_only(rng):
    data = rng.normal(3.0, 2.0, size=(50, 7))
    is_train = np.zeros(50, bool)
    is_train[:30] = True
    z, mean, sd = amodal_data.zscore_train(data, is_train)
    np.testing.assert_allclose(z[is_train].mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z[is_train].std(0), 1, atol=1e-5)
    np.testing.assert_allclose(mean, data[:30].mean(0))
    # changing test rows changes nothing about the train statistics or the train rows
    data2 = data.copy()
    data2[30:] = 1e6
    z2, mean2, sd2 = amodal_data.zscore_train(data2, is_train)
    np.testing.assert_array_equal(z2[:30], z[:30])
    np.testing.assert_array_equal(mean2, mean)
    # and test rows use the train transform, not their own statistics
    np.testing.assert_allclose(z[30:], ((data[30:] - data[:30].mean(0)) / data[:30].std(0)), rtol=1e-5)


def test_zscore_in_place_is_the_same_float32(rng, monkeypatch):
    """Preprocessing z-scores a subject's float32 betas in place, block by block (at fsaverage7 they take ~10 GB),
    with exactly the values of the float64 formula rounded once to float32."""
    from amodal import standardize

    monkeypatch.setattr(standardize, "BLOCK_BYTES", 30 * 8 * 3)  # 3 columns per block
    data = rng.normal(3.0, 2.0, size=(50, 11)).astype(np.float32)
    is_train = np.arange(50) < 30
    expected = ((data.astype(np.float64) - data[:30].astype(np.float64).mean(0))
                / data[:30].astype(np.float64).std(0)).astype(np.float32)
    z, _, _ = amodal_data.zscore_train(data.copy(), is_train)
    np.testing.assert_array_equal(z, expected)
    z2, _, _ = amodal_data.zscore_train(data, is_train, in_place=True)
    assert z2 is data
    np.testing.assert_array_equal(z2, expected)
    with pytest.raises(ValueError, match="float32"):
        amodal_data.zscore_train(data.astype(np.float64), is_train, in_place=True)


def test_average_repeats():
    trials = pd.DataFrame({"stimulus_id": ["a", "b", "a", "a"], "modality": ["image", "image", "image", "caption"],
                           "split": ["test"] * 4})
    data = np.array([[1.0, 2.0], [5.0, 5.0], [3.0, 4.0], [7.0, 7.0]])
    out, meta = amodal_data.average_repeats(data, trials)
    assert meta[["stimulus_id", "modality"]].values.tolist() == [["a", "image"], ["b", "image"], ["a", "caption"]]
    np.testing.assert_allclose(out, [[2.0, 3.0], [5.0, 5.0], [7.0, 7.0]])
    assert meta["n_repeats"].tolist() == [2, 1, 1]


def test_average_repeats_by_blocks_and_without_repeats(rng, monkeypatch):
    """Averages are computed one column block at a time (at fsaverage7 the float64 sums of every column took 7x the
    betas' size), bit for bit as np.add.at's float64 sums; with no repeated key the betas are their own average."""
    from amodal import standardize

    trials = pd.DataFrame({"stimulus_id": list("abcabdab"), "modality": ["image"] * 8, "split": ["test"] * 8})
    data = rng.normal(size=(8, 23)).astype(np.float32)
    codes = np.array([0, 1, 2, 0, 1, 3, 0, 1])
    sums = np.zeros((4, 23))
    np.add.at(sums, codes, data.astype(np.float64))
    expected = (sums / np.bincount(codes)[:, None]).astype(np.float32)
    monkeypatch.setattr(standardize, "BLOCK_BYTES", 8 * 8 * 5)  # 5 columns per block
    out, _ = amodal_data.average_repeats(data, trials)
    np.testing.assert_array_equal(out, expected)
    unique = trials.assign(stimulus_id=list("abcdefgh"))
    out, meta = amodal_data.average_repeats(data, unique)
    assert out is data and meta["n_repeats"].tolist() == [1] * 8


def test_masked_columns_are_dropped_in_place(rng, monkeypatch):
    from amodal import standardize
    from amodal.data._preprocess import _keep_columns

    monkeypatch.setattr(standardize, "BLOCK_BYTES", 6 * 4 * 3)  # 3 float32 columns per block
    data = rng.normal(size=(6, 40)).astype(np.float32)
    cols = np.sort(rng.choice(40, 29, replace=False))
    expected = data[:, cols].copy()
    out = _keep_columns(data, cols)
    np.testing.assert_array_equal(out, expected)
    assert np.shares_memory(out, data)


def test_preprocess_subject(small_dataset):
    ds = amodal_data.preprocess_subject(small_dataset, "sub-01", "fsaverage5", log=lambda *a: None)
    trials = amodal_data.read_trials(small_dataset, "sub-01")
    n_unique = len(trials.drop_duplicates(["stimulus_id", "modality", "split"]))
    assert ds.sizes["trial"] == n_unique
    b = ds["betas"].values
    train = ds["split"].values == "train"
    np.testing.assert_allclose(b[train].mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(b[train].std(0), 1, atol=1e-3)
    assert set(ds["modality"].values) == {"image", "caption", "imagery"}
    assert np.all(ds["n_repeats"].values[ds["split"].values == "test"] == 2)
    # the constant medial wall is masked
    assert ds.sizes["vertex"] < 2 * 10242
    assert not np.isnan(b).any()


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_nan_vertices_are_masked_and_reported(small_dataset, tmp_path):
    root = _copy(small_dataset, tmp_path / "ds")
    path = amodal_data.betas_gifti(root, "sub-01", "left")
    trials = amodal_data.read_trials(root, "sub-01")
    data = amodal_data.read_betas(root, "sub-01", "left", len(trials), 10242).copy()
    data[5, [10, 11, 12]] = np.nan
    amodal_data.write_betas(path, data, "left")
    lines = []
    ds = amodal_data.preprocess_subject(root, "sub-01", "fsaverage5", log=lines.append)
    left_idx = ds["vertex_index"].values[ds["hemi"].values == "left"]
    assert not {10, 11, 12} & set(left_idx.tolist())
    assert any("masked 3 NaN" in line for line in lines)


def test_missing_file_names_the_file(small_dataset, tmp_path):
    root = _copy(small_dataset, tmp_path / "ds")
    path = amodal_data.betas_gifti(root, "sub-02", "right")
    path.unlink()
    with pytest.raises(DataError, match=str(path.name)):
        amodal_data.preprocess_subject(root, "sub-02", "fsaverage5", log=lambda *a: None)


def test_wrong_vertex_count_names_the_file(small_dataset, tmp_path):
    root = _copy(small_dataset, tmp_path / "ds")
    trials = amodal_data.read_trials(root, "sub-01")
    amodal_data.write_betas(amodal_data.betas_gifti(root, "sub-01", "left"), np.zeros((len(trials), 642)), "left")
    with pytest.raises(DataError, match=r"sub-01_hemi-L_betas.func.gii: 642 vertices.*10242"):
        amodal_data.preprocess_subject(root, "sub-01", "fsaverage5", log=lambda *a: None)


def test_wrong_number_of_maps_names_the_file(small_dataset, tmp_path):
    root = _copy(small_dataset, tmp_path / "ds")
    amodal_data.write_betas(amodal_data.betas_gifti(root, "sub-01", "left"), np.zeros((4, 10242)), "left")
    with pytest.raises(DataError, match=r"sub-01_hemi-L_betas.func.gii: 4 beta maps"):
        amodal_data.preprocess_subject(root, "sub-01", "fsaverage5", log=lambda *a: None)


def test_unknown_stimulus_names_file_and_row(small_dataset, tmp_path):
    root = _copy(small_dataset, tmp_path / "ds")
    path = amodal_data.trials_tsv(root, "sub-01")
    t = pd.read_csv(path, sep="\t", dtype=str)
    t.loc[7, "stimulus_id"] = "nope-123"
    t.to_csv(path, sep="\t", index=False)
    with pytest.raises(DataError, match=r"sub-01_trials.tsv, row 9 \(trial 7\): stimulus_id 'nope-123'"):
        amodal_data.preprocess_subject(root, "sub-01", "fsaverage5", log=lambda *a: None)


def test_bad_modality_names_file_and_row(small_dataset, tmp_path):
    root = _copy(small_dataset, tmp_path / "ds")
    path = amodal_data.trials_tsv(root, "sub-01")
    t = pd.read_csv(path, sep="\t", dtype=str)
    t.loc[3, "modality"] = "sound"
    t.to_csv(path, sep="\t", index=False)
    with pytest.raises(DataError, match=r"row 5: modality 'sound'"):
        amodal_data.read_trials(root, "sub-01")


def test_zarr_roundtrip(small_dataset, tmp_path):
    ds = amodal_data.preprocess_subject(small_dataset, "sub-02", "fsaverage5", log=lambda *a: None)
    amodal_data.write_store(ds, tmp_path / "s.zarr")
    back = amodal_data.read_store(tmp_path / "s.zarr", "betas")
    np.testing.assert_array_equal(back["betas"].values, ds["betas"].values)
    assert list(back["stimulus_id"].values) == list(ds["stimulus_id"].values)
    with pytest.raises(DataError, match="missing preprocessed store"):
        amodal_data.read_store(tmp_path / "nothing.zarr", "betas")


def test_gifti_metadata(small_dataset):
    img = nib.load(amodal_data.betas_gifti(small_dataset, "sub-01", "right"))
    assert img.meta["AnatomicalStructurePrimary"] == "CortexRight"
    assert img.darrays[0].data.dtype == np.float32


def test_broken_maps_are_whole_maps_of_nan_or_one_value(rng):
    from amodal.data._preprocess import broken_maps

    data = rng.normal(size=(7, 30)).astype(np.float32)
    data[1] = np.nan  # a file of NaN
    data[3] = 0.0  # a file of zeros
    data[4, :5] = np.nan  # NaN vertices (a medial wall) and one value elsewhere: broken too
    data[4, 5:] = 2.0
    data[5, :29] = np.nan  # one finite vertex, the rest NaN: one value, broken
    data[6, [2, 9]] = np.nan  # a few NaN vertices in a good map: masked later, not broken
    np.testing.assert_array_equal(broken_maps(data, block=2), [0, 1, 0, 1, 1, 1, 0])


@pytest.mark.parametrize("fill", [np.nan, 0.0])
def test_a_broken_map_stops_preprocessing_and_names_it(small_dataset, tmp_path, fill):
    """One all-NaN (or all-zero) map used to mask every vertex of its hemisphere and go on with the other one."""
    root = _copy(small_dataset, tmp_path / "ds")
    path = amodal_data.betas_gifti(root, "sub-01", "right")
    trials = amodal_data.read_trials(root, "sub-01")
    data = amodal_data.read_betas(root, "sub-01", "right", len(trials), 10242).copy()
    data[17] = fill
    amodal_data.write_betas(path, data, "right")
    what = "NaN" if np.isnan(fill) else "0"
    with pytest.raises(DataError, match=rf"{path.name} \(trial 17\): the right map of sub-01's .* is {what} at every "
                                        r"vertex: a broken file"):
        amodal_data.preprocess_subject(root, "sub-01", "fsaverage5", log=lambda *a: None)


def test_a_hemisphere_with_no_vertex_left_stops_preprocessing(small_dataset, tmp_path):
    root = _copy(small_dataset, tmp_path / "ds")
    path = amodal_data.betas_gifti(root, "sub-01", "left")
    trials = amodal_data.read_trials(root, "sub-01")
    data = amodal_data.read_betas(root, "sub-01", "left", len(trials), 10242).copy()
    data[np.arange(len(trials)), np.arange(len(trials)) % 10242] = np.nan  # NaN somewhere in every map
    data[:, len(trials):] = np.nan  # and the rest of the vertices NaN in every map
    amodal_data.write_betas(path, data, "left")
    with pytest.raises(DataError, match="sub-01 left: every one of the 10242 vertices is masked"):
        amodal_data.preprocess_subject(root, "sub-01", "fsaverage5", log=lambda *a: None)
