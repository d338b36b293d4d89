"""Snakemake adapter: generate the embedded synthetic dataset."""
from amodal.data import synthetic
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
p = snakemake.params  # noqa: F821
synthetic.generate(p.synthetic, p.seed, p.root, p.mesh, log=log.info)
