"""Snakemake adapter: the dataset QC figure."""
from pathlib import Path

from amodal import data, viz
from amodal.data.adapters import betas_reader
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
p, out = snakemake.params, snakemake.output  # noqa: F821
planted = data.read_planted(snakemake.input.get("planted", []))  # noqa: F821 - synthetic ground truth, or None
counts = viz.qc_figure(p.root, p.subjects, p.subject, p.mesh, out.figure, planted=planted, dpi=p.dpi,
                       read_betas=betas_reader(p.source, p.raw, p.subject))  # None: the layout's GIFTIs
Path(out.counts).parent.mkdir(parents=True, exist_ok=True)
counts.to_csv(out.counts, sep="\t", index=False)
log.info("trial counts:\n%s", counts.to_string(index=False))
