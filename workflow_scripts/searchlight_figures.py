"""Snakemake adapter: searchlight figures (Figs 8–10, Appendix 5)."""
from pathlib import Path

import pandas as pd

from amodal import data, viz
from amodal.surface import HEMIS
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
atlas = {h: data.read_labels(f) for h, f in zip(HEMIS, inp.atlas)}
tables = [pd.read_csv(f, sep="\t") for f in inp.sizes]
paths = dict(zip(p.names, out.figures))  # figure name -> path
viz.all_figures(Path(inp.clusters).parent, p.mesh, atlas, tables, paths, dpi=p.dpi)
log.info("wrote %s", list(paths.values()))
