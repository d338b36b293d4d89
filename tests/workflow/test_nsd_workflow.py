"""The workflow end to end on a tiny NSD download (NSD's exact layout and formats, on fsaverage5 so that the mesh is
offline): the layout rule, preprocessing of the MGH betas z-scored within session and restricted to nsdgeneral,
QC, the contrastive decoders on image trials and their figures; the reference study is left out, with a message."""
import json

import pandas as pd
import pytest
import xarray as xr
import yaml

from ..data.nsd_tree import write_captions, write_images, write_tree
from ..data.test_freesurfer_atlas import write_annot
from .test_workflow import make_workdir, snakemake

NV = 10242  # fsaverage5


@pytest.mark.integration
def test_nsd_download_runs_end_to_end(tmp_path):
    wd = make_workdir(tmp_path)
    raw = write_tree(tmp_path / "nsd", NV, subjects=("sub-01", "sub-02"))
    write_images(raw)
    for fh in ("lh", "rh"):  # NSD's own FreeSurfer folder is where the atlas is looked for
        write_annot(raw / "nsddata" / "freesurfer" / "fsaverage5" / "label" / f"{fh}.aparc.annot", NV, len(fh))
    cfg = yaml.safe_load((wd / "tiny.yaml").read_text())
    cfg.pop("synthetic")
    cfg["dataset"] = {"source": "nsd", "path": str(raw), "coco_root": str(write_captions(tmp_path / "coco")),
                      "mesh": "fsaverage5", "subjects": ["sub-01", "sub-02"], "roi": "nsdgeneral"}
    # config/nsd.yaml keeps the train trials single (`average_repeats: test`, checked in tests/data/test_nsd.py); here
    # they are averaged, so that the decoders fit 100 rows, not 1,320 (this test took 326 s instead of 134)
    cfg["preprocess"] = {"average_repeats": True, "zscore": "session"}
    cfg["contrastive"]["decoders"] = ["ridge", "brainclip_linear"]
    cfg["ube"].update(epochs=1, transfer_n=[10])  # one epoch and one transfer size: the rules on this layout
    (wd / "nsd.yaml").write_text(yaml.safe_dump(cfg))
    proc = snakemake(wd, config="nsd.yaml")
    assert "NSD shows no captions, so the modality-agnostic study" in proc.stderr
    for rule in ("generate_synthetic", "rule decode:", "rule searchlight:", "group_stats"):
        assert rule not in proc.stdout + proc.stderr

    for subject in ("sub-01", "sub-02"):
        ds = xr.open_zarr(wd / f"results/preprocessed/{subject}_betas.zarr", consolidated=False)
        assert ds.sizes["trial"] == 160 and ds.sizes["vertex"] == 2 * len(range(0, NV, 3))  # nsdgeneral only
        side = json.loads((wd / f"results/preprocessed/{subject}_mask.json").read_text())
        assert side["zscore"] == "session" and side["mask"]["left"]["n_outside_roi"] == NV - len(range(0, NV, 3))
    scores = pd.read_csv(wd / "results/contrastive/scores.tsv", sep="\t")
    assert set(scores["training_mode"]) == {"images"} and set(scores["subject"]) == {"sub-01", "sub-02"}
    assert {"ridge_V", "brainclip_linear_V", "brainclip_linear_VT"} <= set(scores["decoder"])
    for fig in ("qc_dataset", "contrastive_retrieval", "contrastive_examples_images"):
        assert (wd / f"results/figures/{fig}.png").stat().st_size > 10_000
    assert not (wd / "results/figures/contrastive_examples_captions.png").exists()
    # the Universal Brain Encoder study runs on NSD's image trials: joint on sub-01, transfer to sub-02
    ube = pd.read_csv(wd / "results/ube/scores.tsv", sep="\t")
    assert set(ube["run"]) == {"joint", "single", "transfer_n10", "scratch_n10"}
    assert set(ube.loc[ube["run"] == "joint", "subject"]) == {"sub-01"}
    assert set(ube.loc[ube["run"].str.startswith("transfer"), "subject"]) == {"sub-02"}
    assert set(ube["region_type"]) == {"all"}  # real data: no planted region types
    clusters = json.loads((wd / "results/ube/clusters.json").read_text())
    assert clusters["ari_all_types"] is None  # nothing to compare with
    assert (wd / "results/figures/ube.png").stat().st_size > 10_000
