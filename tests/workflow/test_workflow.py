"""The workflow end to end on a tiny config, inside pytest; and `snakemake --lint` is clean."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
WORKFLOW_PARTS = ("Snakefile", "rules", "workflow_scripts", "config", "profiles", "envs", "report")


def make_workdir(tmp_path: Path) -> Path:
    """A copy of the workflow (not the library, which is installed) in a fresh directory."""
    wd = tmp_path / "wf"
    wd.mkdir()
    for part in WORKFLOW_PARTS:
        src = REPO / part
        (shutil.copytree if src.is_dir() else shutil.copy)(src, wd / part)
    shutil.copy(REPO / "tests" / "fixtures" / "tiny.yaml", wd / "tiny.yaml")
    return wd


def snakemake(wd: Path, *args, timeout=1200, config="tiny.yaml"):
    cmd = [SNAKEMAKE, "--cores", "2", "--configfile", config, *args]
    proc = subprocess.run(cmd, cwd=wd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
    return proc


@pytest.mark.integration
def test_end_to_end_tiny(tiny_run):
    wd = tiny_run
    for s in ("sub-01", "sub-02"):
        ds = xr.open_zarr(wd / f"results/preprocessed/{s}_betas.zarr", consolidated=False)
        assert ds["betas"].dims == ("trial", "vertex")
        assert set(np.unique(ds["split"].values)) == {"train", "test", "imagery"}
        report = json.loads((wd / f"results/preprocessed/{s}_mask.json").read_text())
        assert report["mask"]["left"]["n_constant"] > 0
        assert (wd / f"logs/preprocess/{s}.log").read_text().count("masked") == 2
    fig = wd / "results/figures/qc_dataset.png"
    assert fig.stat().st_size > 20_000
    assert (wd / "results/dataset/sub-01/sub-01_hemi-L_betas.func.gii").is_file()


@pytest.mark.integration
def test_end_to_end_decoding_outputs(tiny_run):
    import pandas as pd

    wd = tiny_run
    scores = pd.read_csv(wd / "results/decoding/scores.tsv", sep="\t")
    assert list(scores.columns[:8]) == ["subject", "model", "feature_set", "training_mode", "eval_modality",
                                        "comparison", "metric", "value"]
    assert set(scores.subject) == {"sub-01", "sub-02"}
    assert set(scores.training_mode) == {"images", "captions", "agnostic"}
    assert set(scores.model) == {"minilm", "gabor", "minilm_gabor"}
    summary = pd.read_csv(wd / "results/decoding/summary.tsv", sep="\t")
    assert {"mean", "ci_low", "ci_high", "n_subjects"} <= set(summary.columns)
    assert (summary.ci_low <= summary["mean"] + 1e-12).all() and (summary["mean"] <= summary.ci_high + 1e-12).all()
    for name in ("fig4_decoder_types", "fig5_within_cross", "fig6_retrieval_images", "fig7_retrieval_captions",
                 "app6_per_subject"):
        assert (wd / f"results/figures/{name}.png").stat().st_size > 20_000
    # no time of writing in the gzip header: the same results give the same bytes
    assert (wd / "results/decoding/trial_scores.tsv.gz").read_bytes()[4:8] == bytes(4)
    feats = xr.open_zarr(wd / "results/features/minilm_gabor.zarr", consolidated=False)
    assert {"vision", "lang", "avg"} <= set(feats.data_vars) and feats.attrs["extractor_version"]
    assert "extracting gabor" in (wd / "logs/features/gabor.log").read_text()


@pytest.mark.integration
def test_end_to_end_contrastive_outputs(tiny_run):
    import pandas as pd

    wd = tiny_run
    summ = pd.read_csv(wd / "results/contrastive/summary.tsv", sep="\t")
    assert set(summ.decoder) == {"ridge_V", "ridge_T", "brainclip_vae_V", "brainclip_vae_T", "brainclip_vae_VT",
                                 "mindreader_V", "mindreader_T"}
    assert set(summ.training_mode) == {"images", "captions", "agnostic"}
    assert {"recall@1", "mean_recall", "forward_retrieval", "zeroshot_top1"} <= set(summ.metric)
    scores = pd.read_csv(wd / "results/contrastive/scores.tsv", sep="\t")
    assert set(scores.subject) == {"sub-01", "sub-02"}
    for name in ("contrastive_retrieval", "contrastive_examples_images", "contrastive_examples_captions"):
        assert (wd / f"results/figures/{name}.png").stat().st_size > 20_000
    info = json.loads((wd / "results/contrastive/sub-01/brainclip_vae/agnostic/decoder.json").read_text())
    vt = info["variants"]["brainclip_vae_VT"]
    assert vt["n_validation_stimuli"] > 0 and vt["selection"][0]["epochs_run"] >= 1
    log = (wd / "logs/contrastive/sub-01_mindreader_images.log").read_text()
    assert "epoch 1:" in log and "validation mean recall" in log  # progress per epoch in the rule log
    assert not (wd / "results/checkpoints/contrastive/sub-01/mindreader/images").exists()  # removed when done
    store = xr.open_zarr(wd / "results/features/dualenc.zarr", consolidated=False)
    assert "i2t_r@1" in store.attrs["heldout_retrieval"] and store["class_embeddings"].shape[0] == 8


@pytest.mark.integration
def test_end_to_end_encoding_outputs(tiny_run):
    import nibabel as nib
    import pandas as pd

    wd = tiny_run
    summary = pd.read_csv(wd / "results/encoding/summary.tsv", sep="\t")
    assert set(summary.subject) == {"sub-01", "sub-02"}
    assert {"all", "visual", "language", "invariant", "background"} == set(summary.region_type)
    retrieval = pd.read_csv(wd / "results/encoding/retrieval.tsv", sep="\t")
    assert (retrieval.n_images == 12).all() and retrieval.mean_rank.between(1, 12).all()
    base = wd / "results/encoding/sub-01/minilm_gabor/sub-01_hemi-R_space-fsaverage5_model-minilm_gabor"
    r = nib.load(f"{base}_stat-r_encoding.func.gii").darrays[0].data
    assert r.shape == (10242,) and np.isnan(r).any() and np.nanmax(np.abs(r)) <= 1
    side = json.loads(Path(f"{base}_stat-ceiling_encoding.json").read_text())
    assert side["hemisphere"] == "right" and side["feature_sets"] == ["vision", "lang"] and "seed" in side
    assert (wd / "results/figures/encoding_voxelwise.png").stat().st_size > 20_000


@pytest.mark.integration
def test_end_to_end_ube_outputs(tiny_run):
    import nibabel as nib
    import pandas as pd

    wd = tiny_run
    scores = pd.read_csv(wd / "results/ube/scores.tsv", sep="\t")
    assert set(scores["run"]) == {"joint", "single", "transfer_n10", "scratch_n10", "transfer_n40", "scratch_n40"}
    assert set(scores.loc[scores["run"] == "joint", "subject"]) == {"sub-01"}  # sub-02 is held out for transfer
    assert {"all", "visual", "language", "invariant", "background"} == set(scores["region_type"])
    retrieval = pd.read_csv(wd / "results/ube/retrieval.tsv", sep="\t")
    assert (retrieval["n_images"] == 12).all() and retrieval["mean_rank"].between(1, 12).all()
    gain = pd.read_csv(wd / "results/ube/joint_vs_single.tsv", sep="\t")
    assert {"joint", "single", "gain"} <= set(gain.columns)
    clusters = json.loads((wd / "results/ube/clusters.json").read_text())
    assert clusters["n_clusters"] == 4 and -1 <= clusters["ari_all_types"] <= 1
    path = wd / "results/ube/maps/sub-01_hemi-L_space-fsaverage5_stat-cluster_ube.func.gii"
    lab = nib.load(path).darrays[0].data
    assert lab.shape == (10242,) and set(np.unique(lab[np.isfinite(lab)])) <= {1, 2, 3, 4}
    assert json.loads(path.with_name(path.name.replace(".func.gii", ".json")).read_text())["ube"]["size"] == "cpu"
    history = json.loads((wd / "results/ube/joint/history.json").read_text())
    assert len(history["history"]) == 2 and history["best_epoch"] >= 1
    assert not (wd / "results/checkpoints/ube").exists() or not any((wd / "results/checkpoints/ube").rglob("*.pt"))
    assert (wd / "results/figures/ube.png").stat().st_size > 20_000


@pytest.mark.integration
def test_second_run_does_nothing(tiny_run):
    proc = snakemake(tiny_run, "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_dry_run_never_imports_torch(tmp_path):
    # `snakemake -n` only reads the config and the registry: torch (and transformers) must not load, which
    # would add seconds to every dry run and every job-submission pass on a cluster
    wd = make_workdir(tmp_path)
    code = ("import sys\n"
            "class NoTorch:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in ('torch', 'transformers', 'open_clip'):\n"
            "            raise ImportError(f'{name} imported during a dry run')\n"
            "sys.meta_path.insert(0, NoTorch())\n"
            "from snakemake.cli import main\n"
            "sys.argv = ['snakemake', '-n', '--cores', '2', '--configfile', 'tiny.yaml']\n"
            "sys.exit(main())\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=wd, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "imported during a dry run" not in out, out[-4000:]
    assert "generate_synthetic" in out


def test_an_offline_mesh_stops_the_run_before_any_job(tmp_path):
    """fsaverage7 is fetched by nilearn; offline (here: every download through a closed proxy port, whatever this
    machine's network) the run stops when it starts, with the loader's message, not in a job hours later."""
    wd = make_workdir(tmp_path)
    (wd / "mesh.yaml").write_text("dataset: {mesh: fsaverage7}\n")
    closed = "http://127.0.0.1:9"
    env = {**os.environ, "HTTPS_PROXY": closed, "HTTP_PROXY": closed, "NILEARN_DATA": str(tmp_path / "nilearn")}
    proc = subprocess.run([SNAKEMAKE, "-n", "--cores", "1", "--configfile", "tiny.yaml", "mesh.yaml"], cwd=wd, env=env,
                          capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "fsaverage7 mesh is not on this machine" in out, out[-4000:]
    assert "nilearn_data/fsaverage" in out and "Building DAG" not in out


def test_a_wrong_download_path_is_the_adapters_message(tmp_path):
    """A `dataset.path` that is not the download's root: the adapter's message, before any job (it used to be
    Snakemake's generic missing-input error)."""
    wd = make_workdir(tmp_path)
    wrong = tmp_path / "nowhere"
    (wd / "real.yaml").write_text(f"dataset: {{source: ds007272, path: {wrong}, subjects: [sub-01, sub-07]}}\n")
    proc = subprocess.run([SNAKEMAKE, "-n", "--cores", "1", "--configfile", "tiny.yaml", "real.yaml"], cwd=wd,
                          capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "`dataset.path` must be the ds007272 root" in out, out[-4000:]
    assert "MissingInputException" not in out


def test_lint_is_clean(tmp_path):
    wd = make_workdir(tmp_path)
    proc = subprocess.run([SNAKEMAKE, "--lint", "--configfile", "tiny.yaml"], cwd=wd, capture_output=True,
                          text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Congratulations" in out, out


@pytest.mark.integration
def test_end_to_end_searchlight_outputs(tiny_run):
    import nibabel as nib
    import pandas as pd

    wd = tiny_run
    group = wd / "results/searchlight/group"
    table = pd.read_csv(group / "clusters.tsv", sep="\t")
    assert list(table.columns) == ["test_map", "hemi", "cluster", "size", "peak_t", "peak_tfce", "peak_vertex",
                                   "peak_x", "peak_y", "peak_z", "p", "regions"]
    summary = json.loads((group / "group.json").read_text())
    assert set(summary["test_maps"]) == {"mod_agnostic_and_cross", "imagery", "cross_decoding",
                                         "diff_mod_agno_mod_specific"}
    assert summary["n_permutations"] == 200 and "Stelzer" in summary["null_scheme"]
    # 2 subjects x 6 imagery orderings: 36 group configurations, fewer than 200, so the imagery test is exact
    imagery = summary["test_maps"]["imagery"]
    assert imagery["null_scheme"] == "exact" and imagery["n_null_maxima"] == 35
    assert imagery["min_p"] == pytest.approx(1 / 36)
    invariant = summary["test_maps"]["mod_agnostic_and_cross"]
    assert invariant["null_scheme"] == "monte_carlo" and invariant["min_p"] == pytest.approx(1 / 201)
    cl_side = json.loads((group / "clusters.json").read_text())
    assert cl_side["warnings"] == [] and cl_side["test_maps"]["imagery"]["p_threshold_reachable"]
    for stat in ("t", "tfce", "logp", "clusters"):
        for h in ("L", "R"):
            path = group / f"group_hemi-{h}_space-fsaverage5_desc-modagnosticandcross_stat-{stat}_statmap.func.gii"
            img = nib.load(path)
            assert img.darrays[0].data.shape == (10242,) and img.darrays[0].data.dtype == np.float32
            assert img.meta["AnatomicalStructurePrimary"] == {"L": "CortexLeft", "R": "CortexRight"}[h]
            side = json.loads(path.with_name(path.name.replace(".func.gii", ".json")).read_text())
            assert side["tfce"] == {"e_power": 1.0, "h_power": 2.0, "dh": 0.1, "strict": True}
            assert side["min_p"] == pytest.approx(1 / 201) and side["null_scheme"] == "monte_carlo"
    shards = sorted((wd / "results/searchlight/sub-01").glob("*mode-agnostic_hemi-L_*.zarr"))
    assert [p.name for p in shards] == ["sub-01_mode-agnostic_hemi-L_shard-1of2.zarr",
                                        "sub-01_mode-agnostic_hemi-L_shard-2of2.zarr"]
    for name in ("fig8_searchlight_accuracy", "fig9_modality_invariant", "fig10_imagery", "app5_neighbourhood_size"):
        assert (wd / f"results/figures/{name}.png").stat().st_size > 20_000


def test_jobs_keep_to_their_declared_threads():
    # a rule with threads: 1 must not run 2 torch, numba or BLAS threads (Snakemake does not stop that itself)
    code = ("import numba, torch, numpy, threadpoolctl\n"
            "from amodal.workflow import limit_threads\n"
            "limit_threads(1)\n"
            "pools = [p['num_threads'] for p in threadpoolctl.threadpool_info()]\n"
            "print(torch.get_num_threads(), numba.get_num_threads(), max(pools))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["1", "1", "1"]


@pytest.mark.parametrize("numba_first", [True, False])
def test_numba_compiles_after_the_thread_limit(numba_first):
    # a job imports numba (the searchlight, TFCE), then limits its threads, then compiles kernels on first use:
    # changing NUMBA_NUM_THREADS after numba's import made that compile fail (every 1-thread searchlight job of a
    # fresh clone, whose numba cache is empty)
    code = ("import numba, numpy\n" if numba_first else "") + (
        "from amodal.workflow import limit_threads\n"
        "limit_threads(1)\n"
        "import numba, numpy\n"
        "@numba.njit(parallel=True)\n"
        "def total(x):\n"
        "    s = 0.0\n"
        "    for i in numba.prange(x.size):\n"
        "        s += x[i]\n"
        "    return s\n"
        "print(total(numpy.ones(10)), numba.get_num_threads())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["10.0", "1"]


def test_snakemake_keeps_to_cores(tmp_path):
    # Snakemake 9.10-9.15 started two 2-thread jobs at once under --cores 2 (snakemake issue #3913), which ran
    # the searchlight jobs about 3x slower; the pinned version must run them one after another
    (tmp_path / "Snakefile").write_text(
        'rule all:\n    input: expand("out{i}", i=range(3))\n'
        'rule first:\n    output: "common"\n    threads: 2\n    shell: "touch {output}"\n'
        'rule job:\n    input: "common"\n    output: "out{i}"\n    threads: 2\n'
        '    shell: "echo start $(date +%s.%N) >> trace; sleep 1; echo end $(date +%s.%N) >> trace; touch {output}"\n')
    subprocess.run([str(Path(sys.executable).parent / "snakemake"), "--cores", "2", "--quiet"], cwd=tmp_path,
                   check=True, capture_output=True, timeout=120)
    lines = (tmp_path / "trace").read_text().splitlines()
    events = sorted((float(t), kind) for kind, t in (line.split() for line in lines))
    running = peak = 0
    for _, kind in events:
        running += 1 if kind == "start" else -1
        peak = max(peak, running)
    assert peak == 1
