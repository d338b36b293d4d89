"""Provenance: library versions, the git state of the workflow, the sidecars' stamp, the manifest of outputs, and
the report's HTML pages."""
import hashlib
import json
import subprocess

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from amodal import provenance, reporting
from amodal.sidecars import write_sidecar


def test_versions_name_every_library_the_issue_asks_for():
    v = provenance.versions()
    for name in ("amodal", "torch", "numpy", "nilearn", "mne", "snakemake", "python"):
        assert v[name], name
    import numpy

    assert v["numpy"] == numpy.__version__
    assert provenance.versions(("no-such-distribution-xyz",))["no-such-distribution-xyz"] is None


def _git(folder, *args):
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


def test_git_state_reads_the_commit_and_whether_tracked_files_changed(tmp_path):
    repo = tmp_path / "wf"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "Snakefile").write_text("rule all:\n")
    (repo / "notes.txt").write_text("x")
    _git(repo, "add", "Snakefile")
    _git(repo, "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "-m", "one")
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    provenance.git_state.cache_clear()
    assert provenance.git_state(str(repo)) == {"commit": head.strip(), "dirty": False}  # untracked file ignored
    (repo / "Snakefile").write_text("rule all:\n    input: []\n")
    provenance.git_state.cache_clear()
    assert provenance.git_state(str(repo)) == {"commit": head.strip(), "dirty": True}
    provenance.git_state.cache_clear()
    assert provenance.git_state(str(tmp_path)) == {"commit": None, "dirty": None}  # not a checkout: no commit


def test_every_sidecar_carries_the_stamp(tmp_path, monkeypatch):
    monkeypatch.setenv("AMODAL_WORKFLOW_DIR", str(tmp_path))
    provenance.git_state.cache_clear()
    write_sidecar(tmp_path / "map.json", {"seed": 7, "mesh": "fsaverage5"})
    side = json.loads((tmp_path / "map.json").read_text())
    assert side["seed"] == 7
    assert side["provenance"]["versions"]["torch"] == provenance.versions()["torch"]
    assert side["provenance"]["amodal_version"] == provenance.versions()["amodal"]
    assert side["provenance"]["git"] == {"commit": None, "dirty": None}
    provenance.git_state.cache_clear()


def test_record_holds_seed_and_config():
    cfg = {"seed": 12, "stats": {"n_permutations": 100}}
    rec = provenance.record(cfg)
    assert rec["master_seed"] == 12 and rec["config"] == cfg and rec["written"].endswith("+00:00")


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_manifest_lists_files_and_zarr_stores_with_sizes_and_checksums(tmp_path):
    root = tmp_path / "results"
    (root / "figures").mkdir(parents=True)
    (root / "figures" / "a.png").write_bytes(b"\x89PNG" + bytes(100))
    (root / "table.tsv").write_text("x\ty\n1\t2\n")
    (root / "checkpoints" / "ube").mkdir(parents=True)
    (root / "checkpoints" / "ube" / "epoch1.pt").write_bytes(b"state")
    xr.Dataset({"v": ("x", np.arange(10.0))}).to_zarr(root / "store.zarr", consolidated=False)
    doc = provenance.write_manifest(root, root / "manifest.json", exclude=["checkpoints"])
    entries = {e["path"]: e for e in doc["outputs"]}
    assert set(entries) == {"figures/a.png", "table.tsv", "store.zarr"}  # not itself, not the checkpoints
    assert entries["figures/a.png"]["bytes"] == 104
    assert entries["figures/a.png"]["sha256"] == _sha(root / "figures" / "a.png")
    store = entries["store.zarr"]
    files = sorted(f for f in (root / "store.zarr").rglob("*") if f.is_file())
    assert store["kind"] == "zarr" and store["n_files"] == len(files) > 1
    assert store["bytes"] == sum(f.stat().st_size for f in files)
    assert json.loads((root / "manifest.json").read_text())["outputs"] == doc["outputs"]
    # the store's checksum follows its data
    before = store["sha256"]
    xr.Dataset({"v": ("x", np.arange(10.0) + 1)}).to_zarr(root / "store.zarr", mode="w", consolidated=False)
    after = {e["path"]: e for e in provenance.manifest(root, exclude=["checkpoints", "manifest.json"])}
    assert after["store.zarr"]["sha256"] != before
    assert after["table.tsv"]["sha256"] == entries["table.tsv"]["sha256"]


def test_manifest_of_a_missing_folder_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="run the workflow first"):
        provenance.manifest(tmp_path / "results")


def test_table_html_shows_every_row_escaped_and_rounded(tmp_path):
    table = pd.DataFrame({"model": ["<b>x</b>", "y"], "mean": [0.512345678, np.nan], "n": [6, 5]})
    page = reporting.table_html(table, "Decoding & more", note="2 rows")
    assert page.count("<tr") == 3  # header and two rows
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert "<td>0.5123</td>" in page and "<td>NaN</td>" in page and "<td>6</td>" in page
    assert "<h1>Decoding &amp; more</h1>" in page
    tsv = tmp_path / "t.tsv"
    table.to_csv(tsv, sep="\t", index=False)
    reporting.write_table_html(tsv, tmp_path / "t.html", "T")
    assert "2 rows; full precision in" in (tmp_path / "t.html").read_text()


def test_provenance_page_shows_commit_seed_versions_and_config():
    rec = {"amodal_version": "0.1.0", "git": {"commit": "abc123", "dirty": True}, "master_seed": 99,
           "written": "now", "versions": {"torch": "2.14.1", "mne": None}, "config": {"stats": {"tfce_e": 1.0}}}
    page = reporting.provenance_html(rec)
    assert "abc123 (with uncommitted changes to tracked files)" in page
    assert "<td>99</td>" in page and "2.14.1" in page and "tfce_e: 1.0" in page
