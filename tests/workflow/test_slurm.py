"""The tiny workflow through `--executor slurm` on a real one-node SLURM cluster gives the local run's outputs."""
import shutil
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ..slurm_cluster import Cluster, can_install
from .test_workflow import REPO, SNAKEMAKE, make_workdir

# a handful of jobs (each costs seconds of status polling): dataset, preprocessing, features, one decoder
TARGETS = ("results/decoding/sub-01/minilm/agnostic/trial_scores.tsv",)


@pytest.mark.integration
def test_slurm_run_equals_local_run(tiny_run, tmp_path):
    reason = can_install()
    if reason:
        pytest.skip(reason)
    wd = make_workdir(tmp_path)
    shutil.copytree(REPO / "tests" / "fixtures" / "slurm-profile", wd / "slurm-profile")
    start = time.time()
    with Cluster(tmp_path / "slurm"):
        # targets first: --configfile takes several values and would swallow them
        cmd = ["timeout", "-k", "20", "900", SNAKEMAKE, *TARGETS, "--profile", "slurm-profile", "--configfile",
               "tiny.yaml"]
        proc = subprocess.run(cmd, cwd=wd, capture_output=True, text=True, timeout=960)
        if proc.returncode != 0:
            subprocess.run([SNAKEMAKE, "--unlock"], cwd=wd, capture_output=True)
        assert proc.returncode == 0, f"SLURM run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    out = proc.stdout + proc.stderr
    assert "submitted" in out.lower(), out[-3000:]  # jobs went through sbatch
    print(f"SLURM run took {time.time() - start:.0f} s", file=sys.stderr)
    for target in TARGETS:
        a = pd.read_csv(wd / target, sep="\t")
        b = pd.read_csv(tiny_run / target, sep="\t")
        pd.testing.assert_frame_equal(a, b)
    x = xr.open_zarr(wd / "results/preprocessed/sub-01_betas.zarr", consolidated=False)
    y = xr.open_zarr(tiny_run / "results/preprocessed/sub-01_betas.zarr", consolidated=False)
    np.testing.assert_array_equal(x["betas"].values, y["betas"].values)
    f1 = xr.open_zarr(wd / "results/features/minilm.zarr", consolidated=False)["lang"].values
    f2 = xr.open_zarr(tiny_run / "results/features/minilm.zarr", consolidated=False)["lang"].values
    np.testing.assert_allclose(f1, f2, atol=1e-6)
