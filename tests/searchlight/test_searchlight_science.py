"""On the default synthetic data, the significant modality-invariant clusters recover the planted regions."""
import json

import pytest

from amodal import data, searchlight, stats
from amodal.surface import HEMIS, load_mesh

from ..conftest import DEFAULT


@pytest.mark.integration
def test_modality_invariant_clusters_match_planted_regions(default_snr_decoding, tmp_path):
    d = default_snr_decoding
    sl, st = DEFAULT["searchlight"], dict(DEFAULT["stats"], n_permutations=2000,
                                          test_maps=["mod_agnostic_and_cross"])
    mesh = load_mesh("fsaverage5", "inflated")
    stores = {}
    for subject, betas in d["betas"]["signal"].items():
        for mode in ("agnostic", "images", "captions"):
            for hemi in HEMIS:
                ds = searchlight.searchlight_subject(betas, d["features"]["minilm_gabor"], "avg", mode, hemi,
                                                     mesh[hemi].coords, n_neighbors=sl["neighbors"],
                                                     n_perm=20, seed=DEFAULT["seed"])
                path = tmp_path / f"{subject}_{mode}_{hemi}.zarr"
                ds.to_zarr(path, mode="w", consolidated=False, zarr_format=2)
                stores[(subject, mode, hemi)] = [path]
    root = d["root"] / "signal"
    region_types = json.loads(data.planted_json(root).read_text())["region_types"]
    summary = stats.group_analysis(stores, list(d["betas"]["signal"]), ["agnostic", "images", "captions"],
                                   "fsaverage5", data.read_atlas(root), st, DEFAULT["seed"], tmp_path / "group",
                                   sl, log=lambda *a: None, region_types=region_types)
    truth = summary["mod_agnostic_and_cross"]["ground_truth"]
    assert truth["dice_invariant"] >= 0.6, truth
    assert truth["n_significant_in_visual_or_language"] == 0, truth
    table = (tmp_path / "group" / "clusters.tsv").read_text()
    assert "INV-parietal" in table and "INV-temporal" in table
    name = "group_hemi-L_space-fsaverage5_desc-modagnosticandcross_stat-tfce_statmap.json"
    assert (tmp_path / "group" / name).is_file()
