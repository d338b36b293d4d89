"""Snakemake adapter: decoding figures (Figs 4–7, Appendix 6)."""
from pathlib import Path

import pandas as pd

from amodal import data, features, viz
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
fig = p.figures
paths = dict(zip(p.names, out.figures))  # figure name -> path
stim_dir = Path(inp.stimuli).parent
viz.decoding_figures(
    pd.read_csv(inp.summary, sep="\t"), pd.read_csv(inp.scores, sep="\t"),
    data.read_store(inp.predictions[0], "predictions"), data.read_stimuli(stim_dir.parent), stim_dir,
    features.open_features(inp.features).attrs["default_set"], paths, example_subject=fig["example_subject"],
    example_model=fig["example_model"], n_examples=fig["n_examples"], dpi=fig["dpi"])
log.info("wrote %s", list(paths.values()))
