"""The dataset and results layout that rules and library share, and the one GIFTI writer."""
import json
import re
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from amodal import data
from amodal.errors import DataError
from amodal.surface import HEMI_BIDS, HEMIS, hemi_from_bids


def test_dataset_files_follow_the_layout(tmp_path):
    files = data.dataset_files(tmp_path, "sub-03")
    assert files["stimuli"] == str(tmp_path / "stimuli" / "stimuli.tsv")
    assert files["trials"] == str(tmp_path / "sub-03" / "sub-03_trials.tsv")
    assert files["betas"] == [str(tmp_path / "sub-03" / f"sub-03_hemi-{h}_betas.func.gii") for h in ("L", "R")]
    assert data.dataset_root(files["trials"]) == str(tmp_path)


def test_hemisphere_letters_round_trip():
    assert [hemi_from_bids(HEMI_BIDS[h]) for h in HEMIS] == list(HEMIS)
    with pytest.raises(DataError, match="unknown hemisphere letter 'X'"):
        hemi_from_bids("X")


def test_searchlight_store_names_parse_back():
    paths = [data.searchlight_store_path("res", s, m, h, k) for s in ("sub-01", "sub-02")
             for m in ("images", "agnostic") for h in ("L", "R") for k in ("1of2", "2of2")]
    groups = data.group_searchlight_stores(paths)
    assert len(groups) == 2 * 2 * 2
    assert groups[("sub-02", "agnostic", "right")] == [
        "res/searchlight/sub-02/sub-02_mode-agnostic_hemi-R_shard-1of2.zarr",
        "res/searchlight/sub-02/sub-02_mode-agnostic_hemi-R_shard-2of2.zarr"]
    with pytest.raises(DataError, match="not a searchlight store name"):
        data.group_searchlight_stores(["res/searchlight/sub-01/betas.zarr"])


def test_result_paths_fill_their_fields_and_keep_the_rest_as_wildcards():
    assert data.result_path("res", "decoding_info") == "res/decoding/{subject}/{model}/{mode}/decoder.json"
    assert data.result_path("res", "decoding_info", subject="sub-02", mode="images") == (
        "res/decoding/sub-02/{model}/images/decoder.json")
    assert data.result_path("res", "figure", name="ube") == "res/figures/ube.png"
    with pytest.raises(KeyError, match="no result named 'decoder'"):
        data.result_path("res", "decoder")
    with pytest.raises(KeyError, match=r"has no field \['sujbect'\]"):
        data.result_path("res", "betas", sujbect="sub-01")


def test_rules_ask_the_library_for_every_results_path():
    # the library's table (amodal.data.RESULT_PATHS) is the one place a results path is spelt: a path written out in
    # a rule would be a second source that can drift from what the library writes and reads
    root = Path(__file__).parents[2]
    spelt = [f"{p.relative_to(root)}:{i}: {line.strip()}" for p in [root / "Snakefile", *sorted(
        (root / "rules").glob("*.smk"))] for i, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r"\{RES\}/|[\"']results/", line.split("#")[0])]
    assert not spelt, "results paths spelt in the rules (add them to amodal.data.RESULT_PATHS):\n" + "\n".join(spelt)


@pytest.mark.parametrize("shape, compress", [((7,), True), ((3, 7), True), ((3, 7), False)])
def test_func_gifti_writes_one_float32_array_per_map(tmp_path, shape, compress):
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) / 3
    path = tmp_path / "m.func.gii"
    data.write_func_gifti(path, x, "left", compress=compress)
    img = nib.load(path)
    assert img.meta["AnatomicalStructurePrimary"] == "CortexLeft"
    # GIFTI's encoding codes: 3 = base64 + gzip, 2 = base64
    assert {d.encoding for d in img.darrays} == {3 if compress else 2}
    got = np.stack([d.data for d in img.darrays])
    assert got.dtype == np.float32 and got.shape == (1 if len(shape) == 1 else 3, 7)
    np.testing.assert_array_equal(got.reshape(shape), x.astype(np.float32))


def test_label_gifti_round_trips(tmp_path):
    path = tmp_path / "a.label.gii"
    data.write_labels(path, np.array([0, 2, 2, 1]), {0: "background", 1: "V1", 2: "A1"}, "right")
    labels, names = data.read_labels(path)
    np.testing.assert_array_equal(labels, [0, 2, 2, 1])
    assert names == {0: "background", 1: "V1", 2: "A1"}
    assert nib.load(path).meta["AnatomicalStructurePrimary"] == "CortexRight"


def test_read_planted(tmp_path):
    assert data.read_planted([]) is None and data.read_planted(None) is None
    path = tmp_path / "planted.json"
    path.write_text(json.dumps({"region_types": {"v1": "visual"}}))
    assert data.read_planted([str(path)])["region_types"] == {"v1": "visual"}
    with pytest.raises(DataError, match="missing planted ground truth"):
        data.read_planted(tmp_path / "nothing.json")
