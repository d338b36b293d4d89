"""Snakemake adapter: one summary table as an HTML page that the report shows inline."""
from amodal.reporting import write_table_html
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
write_table_html(snakemake.input[0], snakemake.output[0], snakemake.params.title)  # noqa: F821
log.info(f"wrote {snakemake.output[0]}")  # noqa: F821
