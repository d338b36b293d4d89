"""Snakemake adapter: the contrastive decoders' retrieval comparison and top-5 examples."""
from pathlib import Path

import pandas as pd

from amodal import data, viz
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
paths = dict(zip(p.names, out.figures))  # figure name -> path
stim_dir = Path(inp.stimuli).parent
viz.contrastive_figures(
    pd.read_csv(inp.summary, sep="\t"), [data.read_store(f, "predictions") for f in inp.predictions],
    data.read_stimuli(stim_dir.parent), stim_dir, paths, example_subject=p.figures["example_subject"],
    n_examples=p.figures["n_examples"], dpi=p.figures["dpi"], mode=p.mode)
log.info("wrote %s", list(paths.values()))
