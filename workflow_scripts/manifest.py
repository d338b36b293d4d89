"""Snakemake adapter: results/manifest.json, every output with its size and SHA-256."""
from amodal.provenance import write_manifest
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
doc = write_manifest(snakemake.params.root, snakemake.output[0], exclude=snakemake.params.exclude)  # noqa: F821
log.info(f"{doc['n_outputs']} outputs, {doc['total_bytes'] / 1e6:.1f} MB")
