"""Rerun guarantees: a parameter change reruns exactly what depends on it; no change reruns nothing."""
import re

import pytest
import yaml

from .test_workflow import snakemake

# every config change rewrites the run's provenance record, and any new output the manifest (seconds each)
RECORD = {"provenance", "manifest"}


def planned_rules(wd, *extra, config="tiny.yaml"):
    out = snakemake(wd, "-n", *extra, config=config)
    text = out.stdout + out.stderr
    if "Nothing to be done" in text:
        return set()
    table = text.split("Job stats:")[1].split("total")[0]
    return {m.group(1) for m in re.finditer(r"^(\w+)\s+\d+\s*$", table, flags=re.M)} - {"job", "all"}


def jobs_of(wd, rule, *extra, wildcard="decoder", config="tiny.yaml"):
    """The values of one wildcard over the planned jobs of ``rule``."""
    out = snakemake(wd, "-n", *extra, config=config)
    text = out.stdout + out.stderr
    blocks = re.findall(rf"^rule {rule}:\n(.*?)(?=^\S|\Z)", text, flags=re.M | re.S)
    return {m.group(1) for b in blocks for m in re.finditer(rf"wildcards: .*\b{wildcard}=([\w.-]+)", b)}


def override(wd, name, mutate):
    cfg = yaml.safe_load((wd / "tiny.yaml").read_text())
    mutate(cfg)
    (wd / name).write_text(yaml.safe_dump(cfg))
    return ["--configfile", "tiny.yaml", name]


@pytest.mark.integration
def test_no_change_reruns_nothing(tiny_run):
    assert planned_rules(tiny_run) == set()


@pytest.mark.integration
def test_decoder_parameter_reruns_decoders_and_what_follows(tiny_run):
    args = override(tiny_run, "cv.yaml", lambda c: c.setdefault("decoding", {}).update(cv_folds=4))
    rules = planned_rules(tiny_run, *args)
    # ridge into the contrastive space uses the ridge decoders' folds too
    assert rules == {"decode", "summarize_decoding", "decoding_figures", "contrastive_decode",
                     "summarize_contrastive", "contrastive_figures", "report_tables"} | RECORD, rules
    assert jobs_of(tiny_run, "contrastive_decode", *args) == {"ridge"}


@pytest.mark.integration
def test_figure_parameter_reruns_only_figures(tiny_run):
    args = override(tiny_run, "fig.yaml", lambda c: c.setdefault("figures", {}).update(dpi=70))
    rules = planned_rules(tiny_run, *args)
    assert rules == {"decoding_figures", "searchlight_figures", "contrastive_figures"} | RECORD, rules


@pytest.mark.integration
def test_a_contrastive_decoders_parameter_reruns_only_that_decoder(tiny_run):
    args = override(tiny_run, "mr.yaml", lambda c: c.setdefault("contrastive", {}).setdefault(
        "mindreader", {}).update(lr=[0.001]))
    rules = planned_rules(tiny_run, *args)
    assert rules == {"contrastive_decode", "summarize_contrastive", "contrastive_figures",
                     "report_tables"} | RECORD, rules
    assert jobs_of(tiny_run, "contrastive_decode", *args) == {"mindreader"}


@pytest.mark.integration
def test_searchlight_parameter_spares_decoders(tiny_run):
    args = override(tiny_run, "sl.yaml", lambda c: c["searchlight"].update(alpha=2.0))
    rules = planned_rules(tiny_run, *args)
    assert rules == {"searchlight", "searchlight_size_sweep", "group_stats", "searchlight_figures",
                     "report_tables"} | RECORD, rules
