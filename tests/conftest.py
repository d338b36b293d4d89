import copy
import os
from pathlib import Path

import numpy as np
import pytest
import yaml

from amodal.data import synthetic

REPO = Path(__file__).resolve().parents[1]

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs two workers on two cores: each keeps to one thread (torch, numba, BLAS/OpenMP pools), as a
    # 1-thread Snakemake job does. Two 2-thread workers on 2 cores made torch's parallel regions wait on descheduled
    # threads (the searchlight science test ran 4-5x slower than alone). In this process only: the workflow tests'
    # Snakemake jobs keep to their rules' threads.
    import numba  # noqa: F401 - imported first, so that limit_threads limits numba's pool and torch's
    import torch  # noqa: F401

    from amodal.workflow import limit_threads

    limit_threads(1, environ=False)

DEFAULT = yaml.safe_load((REPO / "config" / "config.yaml").read_text())

SMALL = dict(DEFAULT["synthetic"], n_subjects=2, n_train_pool=300, n_train_images=120, n_train_captions=120,
             n_overlap=20, n_test=30, n_test_repeats=2, n_imagery=3, n_imagery_pool=4, n_runs=4, image_size=64,
             snr=1.0)


def small_cfg(**overrides):
    cfg = copy.deepcopy(SMALL)
    cfg.update(overrides)
    return cfg


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("small_ds")
    synthetic.generate(small_cfg(), 7, root, log=lambda *a: None)
    return root


@pytest.fixture(scope="session")
def null_dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("null_ds")
    synthetic.generate(small_cfg(snr=0.0), 7, root, log=lambda *a: None)
    return root


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def default_snr_decoding(tmp_path_factory):
    """The default synthetic dataset (6 subjects, default sizes and SNR) with its default features, and a
    pure-noise twin (snr 0, 3 subjects) that shares the same stimuli and therefore the same features."""
    from amodal import data, features

    base = tmp_path_factory.mktemp("default_snr")
    cfg = dict(DEFAULT["synthetic"])  # the embedded default: 6 subjects, default sizes and SNR
    synthetic.generate(cfg, DEFAULT["seed"], base / "signal", log=lambda *a: None)
    synthetic.generate(dict(cfg, snr=0.0, n_subjects=3), DEFAULT["seed"], base / "null", log=lambda *a: None)
    stim = data.read_stimuli(base / "signal")
    quiet = dict(device="cpu", batch_size=64, log=lambda *a: None)
    g = features.extract("gabor", stim, base / "signal" / "stimuli", **quiet)
    m = features.extract("minilm", stim, base / "signal" / "stimuli", **quiet)
    feats = {"gabor": g, "minilm": m,
             "minilm_gabor": features.extract("minilm_gabor", stim, base / "signal" / "stimuli",
                                              components={"gabor": g, "minilm": m}, **quiet)}
    betas = {kind: {s: data.preprocess_subject(base / kind, s, "fsaverage5", log=lambda *a: None)
                    for s in synthetic.subjects_of(dict(cfg, n_subjects=n))}
             for kind, n in (("signal", cfg["n_subjects"]), ("null", 3))}
    return {"features": feats, "betas": betas, "root": base}


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """The whole workflow run once, locally, on the tiny config (tests/fixtures/tiny.yaml)."""
    from .workflow.test_workflow import make_workdir, snakemake

    wd = make_workdir(tmp_path_factory.mktemp("tiny"))
    snakemake(wd)
    return wd


# Tests that share an expensive session fixture run on one pytest-xdist worker (`make test` runs two, with
# --dist loadgroup), so that the fixture is built once, not once per worker.
SHARED_FIXTURES = ("tiny_run", "default_snr_decoding")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the group marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        for name in SHARED_FIXTURES:
            if name in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(name))
                break


def pytest_addoption(parser):
    parser.addoption("--device", default="cuda",
                     help="the device tests/test_devices.py compares with the CPU (default cuda: skipped without one)")


def pytest_configure(config):
    config.addinivalue_line("markers", "device: CPU-versus-device agreement (tests/test_devices.py, --device)")
    # pytest 9.2 with xdist 3.8: --dist loadgroup silently stops grouping (pytest-xdist#1386): every worker would
    # build the shared fixtures and the suite would run past CI's budget; say so instead
    from packaging.version import Version

    if getattr(config.option, "dist", "no") == "loadgroup" and Version(pytest.__version__) >= Version("9.2"):
        raise pytest.UsageError(f"pytest {pytest.__version__} breaks pytest-xdist's --dist loadgroup "
                                "(pytest-xdist#1386): install pytest<9.2, as pyproject.toml asks")
