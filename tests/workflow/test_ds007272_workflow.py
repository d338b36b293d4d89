"""The workflow end to end on a tiny ds007272 download (the exact layout of OpenNeuro's files, on fsaverage5 so that
the mesh is offline): the layout rule, preprocessing from the downloaded files, the FreeSurfer atlas, features from
the COCO images, decoding, the searchlight, group statistics and figures."""
import json

import pandas as pd
import pytest
import xarray as xr
import yaml

from amodal.data import read_labels

from ..data.ds007272_tree import TRAIN, write_coco, write_tree
from ..data.test_freesurfer_atlas import NAMES, write_annot
from .test_reruns import jobs_of, planned_rules
from .test_workflow import SNAKEMAKE, make_workdir, snakemake

NV = 10242  # fsaverage5


@pytest.mark.integration
def test_ds007272_download_runs_end_to_end(tmp_path):
    from amodal.data.adapters import ds007272

    wd = make_workdir(tmp_path)
    raw = write_tree(tmp_path / "ds007272", NV)
    write_coco(tmp_path / "coco", ds007272.read_stimuli(raw)["id"])
    for fh in ("lh", "rh"):
        write_annot(tmp_path / "fs" / "fsaverage5" / "label" / f"{fh}.aparc.annot", NV, len(fh))
    cfg = yaml.safe_load((wd / "tiny.yaml").read_text())
    cfg.pop("synthetic")
    cfg["dataset"] = {"source": "ds007272", "path": str(raw), "coco_root": str(tmp_path / "coco"),
                      "mesh": "fsaverage5", "subjects": ["sub-01", "sub-07"],
                      "freesurfer_subjects_dir": str(tmp_path / "fs")}
    cfg["contrastive"]["decoders"] = []  # the contrastive decoders read the same stores (tests/workflow/test_workflow)
    # the encoders run on NSD's layout (test_nsd_workflow) and on the synthetic one (test_workflow)
    cfg["ube"] = {"patch_model": None}
    cfg["encoding"] = {"models": []}
    # the searchlight and group machinery are checked on the synthetic tiny run; here only that they run on this
    # layout and name real regions, so the smallest neighbourhoods, nulls and sweep
    cfg["searchlight"].update(n_shards=1, neighbors=10, n_permutations=10, size_sweep=[10])
    cfg["stats"]["n_permutations"] = 100
    cfg["features"]["models"] = ["minilm_gabor"]  # built from minilm and gabor, whose stores are made too
    (wd / "real.yaml").write_text(yaml.safe_dump(cfg))
    proc = snakemake(wd, config="real.yaml")
    assert "generate_synthetic" not in proc.stdout + proc.stderr

    for subject in ("sub-01", "sub-07"):
        ds = xr.open_zarr(wd / f"results/preprocessed/{subject}_betas.zarr", consolidated=False)
        assert ds.sizes["trial"] == sum(len(x) for x in TRAIN[subject]) + 140 + 3
        assert json.loads((wd / f"results/preprocessed/{subject}_mask.json").read_text())["source"] == "ds007272"
    trials = pd.read_csv(wd / "results/dataset/sub-07/sub-07_trials.tsv", sep="\t", dtype=str)
    assert list(trials.columns) == ["trial", "stimulus_id", "modality", "split", "run", "file"]
    assert list(trials["file"].tail(3)) == [f"betas_imagery/beta_00000{k}.gii" for k in (1, 2, 3)]
    scores = pd.read_csv(wd / "results/decoding/scores.tsv", sep="\t")
    assert set(scores["subject"]) == {"sub-01", "sub-07"}
    counts = pd.read_csv(wd / "results/qc/trial_counts.tsv", sep="\t")
    assert set(counts["subject"]) == {"sub-01", "sub-07"}
    # the clusters are named with the FreeSurfer annotation's regions (the fixture is pure noise: no cluster)
    for hemi in ("L", "R"):
        _, names = read_labels(wd / f"results/dataset/atlas/atlas_hemi-{hemi}.label.gii")
        assert set(names.values()) == set(NAMES)
    assert "regions" in pd.read_csv(wd / "results/searchlight/group/clusters.tsv", sep="\t").columns
    for fig in ("qc_dataset", "fig4_decoder_types", "fig9_modality_invariant", "fig10_imagery"):
        assert (wd / f"results/figures/{fig}.png").stat().st_size > 10_000

    _changed_data_reruns_its_subject(wd, raw)


def _changed_data_reruns_its_subject(wd, raw):
    """The download's files are the inputs: a replaced beta file reruns its subject's preprocessing and what follows,
    and nothing else; a removed one reruns the import; a broken one stops that subject with its name, and the other
    subject's store stays."""
    import os
    import subprocess

    import numpy as np

    from amodal.data.adapters import ds007272

    from ..data.ds007272_tree import write_gifti

    assert planned_rules(wd, config="real.yaml") == set()
    base = ds007272.surface_dir(raw, "left", "sub-07")
    write_gifti(base / "betas_train_image" / "beta_910001.gii", np.ones(NV, np.float32) + np.arange(NV) / NV)
    fresh = raw / "incoming" / "beta_910002.gii"  # as a downloader replaces a file: write, then rename over it
    write_gifti(fresh, np.arange(NV, dtype=np.float32) / NV)
    os.replace(fresh, base / "betas_train_caption" / "beta_910002.gii")
    rules = planned_rules(wd, config="real.yaml")
    assert "preprocess" in rules and "import_dataset" not in rules and "extract_features" not in rules, rules
    for rule in ("preprocess", "decode", "searchlight"):
        assert jobs_of(wd, rule, wildcard="subject", config="real.yaml") == {"sub-07"}, rule
    # a broken file: the run stops on that subject, naming the file; what was written for the other one is kept, and
    # the broken subject's old store is gone (never a stale result)
    broken = base / "betas_test_image" / "beta_003862.gii"
    write_gifti(broken, np.full(NV, np.nan, np.float32))
    kept = wd / "results/preprocessed/sub-01_betas.zarr"
    written = kept.stat().st_mtime
    proc = subprocess.run([SNAKEMAKE, "--cores", "2", "--configfile", "real.yaml", "--allowed-rules", "preprocess",
                           "--", "results/preprocessed/sub-01_betas.zarr", "results/preprocessed/sub-07_betas.zarr"],
                          cwd=wd, capture_output=True, text=True, timeout=600)
    log = (wd / "logs/preprocess/sub-07.log").read_text()
    assert proc.returncode != 0 and f"{broken}: the left map of sub-07's test image trial" in log, log[-2000:]
    assert "a broken file" in log and kept.stat().st_mtime == written
    assert not (wd / "results/preprocessed/sub-07_betas.zarr").exists()
    # a removed file changes the trials table: the import reruns
    for hemi in ("left", "right"):
        (ds007272.surface_dir(raw, hemi, "sub-01") / "betas_train_image" / "beta_900001.gii").unlink()
    assert "import_dataset" in planned_rules(wd, config="real.yaml")
