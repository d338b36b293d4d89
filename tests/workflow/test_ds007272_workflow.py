"""The workflow on a tiny ds007272 download: the layout rule, preprocessing from the downloaded files and the
FreeSurfer atlas run for real; the rest of the DAG is checked with a dry run."""
import json

import numpy as np
import pytest
import xarray as xr
import yaml

from ..data.ds007272_tree import TRAIN, write_coco, write_tree
from ..data.test_freesurfer_atlas import write_annot
from .test_workflow import make_workdir, snakemake


@pytest.mark.integration
def test_ds007272_download_runs_through_preprocessing(tmp_path):
    wd = make_workdir(tmp_path)
    raw = write_tree(tmp_path / "ds007272", 642)
    from amodal.data.adapters import ds007272

    write_coco(tmp_path / "coco", ds007272.read_stimuli(raw)["id"])
    for fh in ("lh", "rh"):
        write_annot(tmp_path / "fs" / "fsaverage3" / "label" / f"{fh}.aparc.annot", 642, len(fh))
    cfg = {"dataset": {"source": "ds007272", "path": str(raw), "coco_root": str(tmp_path / "coco"),
                       "mesh": "fsaverage3", "subjects": ["sub-01", "sub-07"],
                       "freesurfer_subjects_dir": str(tmp_path / "fs")},
           "searchlight": {"size_sweep_subjects": ["sub-01"]}}
    (wd / "real.yaml").write_text(yaml.safe_dump(cfg))
    dry = snakemake(wd, "--configfile", "real.yaml", "-n", "--quiet", "rules")
    for rule in ("ds007272_layout", "atlas_from_freesurfer", "preprocess", "decode", "searchlight", "group_stats"):
        assert rule in dry.stdout, dry.stdout
    assert "generate_synthetic" not in dry.stdout
    snakemake(wd, "--configfile", "real.yaml", "--", "results/preprocessed/sub-01_betas.zarr",
              "results/preprocessed/sub-07_betas.zarr", "results/dataset/atlas/atlas_hemi-L.label.gii")
    for subject in ("sub-01", "sub-07"):
        ds = xr.open_zarr(wd / f"results/preprocessed/{subject}_betas.zarr", consolidated=False)
        n_train = sum(len(x) for x in TRAIN[subject])
        assert ds.sizes["trial"] == n_train + 140 + 3 and ds.sizes["vertex"] == 2 * 642
        side = json.loads((wd / f"results/preprocessed/{subject}_mask.json").read_text())
        assert side["source"] == "ds007272"
    trials = (wd / "results/dataset/sub-07/sub-07_trials.tsv").read_text().splitlines()
    assert trials[0].split("\t") == ["trial", "stimulus_id", "modality", "split", "run", "file"]
    assert "betas_imagery/beta_000001.gii" in trials[-3]
    assert np.any([ln.startswith("3862\t") for ln in (wd / "results/dataset/stimuli/stimuli.tsv").read_text()
                   .splitlines()])
