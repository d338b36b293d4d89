import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

from amodal import synthetic

REPO = Path(__file__).resolve().parents[1]
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
