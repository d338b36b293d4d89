"""The Snakemake report of the tiny run, opened in a real headless Chromium as a reader would open it; and the
provenance every output carries."""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from ..browser import chromium
from .test_workflow import REPO, snakemake

ARTIFACTS = REPO / "test-artifacts"  # git-ignored; CI keeps what is here
SECTIONS = ("1. Dataset and QC", "2. Decoding (ridge)", "3. Searchlight and group statistics",
            "4. Contrastive decoders (BrainCLIP, Mind Reader)",
            "5. Encoders (voxelwise ridge, Universal Brain Encoder)", "6. Provenance")
TABLES = ("trial_counts", "decoding_summary", "clusters", "contrastive_summary", "encoding_summary",
          "encoding_retrieval", "ube_scores", "ube_retrieval", "ube_gain", "provenance")


@pytest.mark.integration
def test_report_renders_every_section_figure_and_table_in_a_browser(tiny_run):
    from PIL import Image

    from amodal.reporting import check_report

    exe, reason = chromium()
    if reason:
        pytest.skip(reason)
    report = tiny_run / "results" / "report.html"
    snakemake(tiny_run, "--report", str(report))
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report_screenshot.png"
    facts = check_report(report, screenshot=shot, chromium=exe)
    assert facts["errors"] == [], facts["errors"]
    # every section, in the report's data and in the menu the reader sees
    assert set(facts["categories"]) == set(SECTIONS), facts["categories"]
    for section in SECTIONS:
        assert section in facts["menu_text"], section
    # every figure the run drew is in the report, and the browser drew all of it: its size, and the mean of each
    # channel of what it drew equal to the file's own pixels (a truncated PNG is drawn at full size, rows empty)
    figures = {p.name: p for p in (tiny_run / "results" / "figures").glob("*.png")}
    assert len(figures) == 15 and {Path(p).name for p in facts["images"]} == set(figures)
    for path, drawn in facts["images"].items():
        with Image.open(tiny_run / path) as im:
            assert tuple(drawn[:2]) == im.size, path
            means = np.asarray(im.convert("RGBA"), dtype=float).reshape(-1, 4).mean(axis=0)
        np.testing.assert_allclose(drawn[2:], means, atol=1.0, err_msg=path)
    # every summary table as a page with its heading, and the long tables to download
    assert {Path(p).stem for p in facts["pages"]} == set(TABLES)
    assert facts["pages"]["results/report/provenance.html"] == "Provenance of this run"
    assert all(heading.strip() for heading in facts["pages"].values())
    assert set(facts["downloads"]) == {"results/decoding/scores.tsv", "results/contrastive/scores.tsv",
                                       "results/manifest.json"}
    # a caption for every result, with the run's own settings filled in
    assert all(len(c) > 40 for c in facts["captions"].values()), facts["captions"]
    cfg = yaml.safe_load((tiny_run / "tiny.yaml").read_text())
    fig9 = facts["captions"]["results/figures/fig9_modality_invariant.png"]
    assert f"{cfg['stats']['n_permutations']} group permutations" in fig9
    assert "{{" not in "".join(facts["captions"].values())
    with Image.open(shot) as im:
        assert im.size == (1400, 900)


def _sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.mark.integration
def test_outputs_carry_their_provenance(tiny_run):
    res = tiny_run / "results"
    record = json.loads((res / "provenance.json").read_text())
    cfg = yaml.safe_load((tiny_run / "tiny.yaml").read_text())
    assert record["master_seed"] == record["config"]["seed"]
    assert record["config"]["stats"]["n_permutations"] == cfg["stats"]["n_permutations"]
    for lib in ("torch", "numpy", "nilearn", "mne", "snakemake", "amodal"):
        assert record["versions"][lib], lib
    # every map's sidecar: seed, code and library versions
    sidecars = [*res.glob("searchlight/group/*.json"), *res.glob("encoding/*/*/*_encoding.json"),
                *res.glob("ube/maps/*.json")]
    assert len(sidecars) > 10
    for side in map(lambda p: json.loads(p.read_text()), sidecars):
        assert side["provenance"]["versions"] == record["versions"]
        assert side.get("seed", record["master_seed"]) == record["master_seed"]
    # the manifest: every figure, table and store, with the right size and checksum, and nothing missing
    manifest = json.loads((res / "manifest.json").read_text())
    entries = {e["path"]: e for e in manifest["outputs"]}
    for fig in res.glob("figures/*.png"):
        e = entries[fig.relative_to(res).as_posix()]
        assert e["bytes"] == fig.stat().st_size and e["sha256"] == _sha(fig)
    assert entries["preprocessed/sub-01_betas.zarr"]["kind"] == "zarr"
    on_disk = {p.relative_to(res).as_posix() for p in res.rglob("*") if p.is_file() and ".zarr" not in str(p)
               and not p.relative_to(res).as_posix().startswith(("checkpoints/", "report.html"))}
    assert on_disk - {"manifest.json"} <= set(entries), on_disk - set(entries)
