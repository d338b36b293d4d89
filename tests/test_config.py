"""The config schema stops bad configs with a message that names the key."""
import copy

import pytest
import yaml
from snakemake.utils import update_config

from amodal import config
from amodal.errors import ConfigError

from .conftest import DEFAULT, REPO


def test_default_config_is_valid():
    config.validate(copy.deepcopy(DEFAULT))
    assert config.ube_size(DEFAULT["ube"]) == config.UBE_SIZES["cpu"]
    assert config.UBE_SIZES["paper"]["embedding"] == 256 and config.UBE_SIZES["paper"]["n_sampled"] == 5000
    assert config.subjects(DEFAULT) == [f"sub-0{k}" for k in range(1, 7)]


@pytest.mark.parametrize("mutate, pattern", [
    (lambda c: c["synthetic"].update(n_subjets=3), r"unknown key 'synthetic.n_subjets' \(misspelled\?\)"),
    (lambda c: c.update(sed=1), r"unknown key 'sed'"),
    (lambda c: c["synthetic"].update(snr="high"), r"key 'synthetic.snr': 'high' is not of type 'number'"),
    (lambda c: c["synthetic"].update(snr=-1), r"key 'synthetic.snr': -1 is less than the minimum of 0"),
    (lambda c: c["dataset"].update(mesh="fsaverage9"), r"key 'dataset.mesh': 'fsaverage9' is not one of"),
    (lambda c: c["preprocess"].update(average_repeats="yes"), r"key 'preprocess.average_repeats'"),
    (lambda c: c["synthetic"].pop("n_test"), r"'synthetic': 'n_test' is a required property"),
    (lambda c: c["synthetic"].update(n_overlap=10_000), r"synthetic.n_overlap"),
    (lambda c: c["dataset"].update(source="path", subjects=[]), r"dataset.subjects"),
    (lambda c: c["ube"].update(size="huge"), r"key 'ube.size': 'huge' is not one of \['cpu', 'paper'\]"),
    (lambda c: c["ube"].update(patch_model="gabor"),
     r"key 'ube.patch_model': 'gabor' \(backend gabor\) makes no patch"),
    (lambda c: c["ube"].update(patch_model="gabor_patches", transfer_subject="sub-09"),
     r"key 'ube.transfer_subject': 'sub-09' is not among the subjects"),
    (lambda c: (c["ube"].update(patch_model="gabor_patches"), c["synthetic"].update(n_subjects=1)),
     r"needs ≥ 2 subjects"),
])
def test_schema_errors_name_the_key(mutate, pattern):
    cfg = copy.deepcopy(DEFAULT)
    mutate(cfg)
    with pytest.raises(ConfigError, match=pattern):
        config.validate(cfg)


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "config").glob("*.yaml") if p.name != "config.yaml"))
def test_every_shipped_config_is_valid_over_the_default(name):
    """config/<name> merged over config/config.yaml as Snakemake merges --configfile, then validated."""
    cfg = copy.deepcopy(DEFAULT)
    update_config(cfg, yaml.safe_load((REPO / "config" / name).read_text()))
    config.validate(cfg)


def test_schema_lists_every_feature_backend_the_registry_has():
    """The schema's backend enum is a copy of amodal.features' BACKEND_NAMES: they must not drift apart (they had:
    the patch backends were missing from the schema)."""
    from amodal.features._registry import BACKEND_NAMES

    schema = yaml.safe_load(config.SCHEMA_PATH.read_text())
    backend = schema["properties"]["features"]["properties"]["definitions"]["additionalProperties"]["properties"]
    assert set(backend["backend"]["enum"]) == set(BACKEND_NAMES)


def test_decoder_families_have_one_source():
    """The schema's decoder enum and the Snakefile's wildcard copy amodal.data.DECODER_FAMILIES, which is ridge and
    the registry's contrastive families."""
    from amodal.data import DECODER_FAMILIES
    from amodal.models import CONTRASTIVE_FAMILIES

    assert DECODER_FAMILIES == ("ridge", *CONTRASTIVE_FAMILIES)
    schema = yaml.safe_load(config.SCHEMA_PATH.read_text())
    assert schema["properties"]["contrastive"]["properties"]["decoders"]["items"]["enum"] == list(DECODER_FAMILIES)


def test_env_file_is_read_as_the_workflow_sets_it():
    env = config.read_env_file(REPO / "envs" / "malloc.env")
    assert set(env) == {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"} and all(v.isdigit() for v in env.values())
