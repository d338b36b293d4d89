"""Snakemake adapter: the summary tables as HTML pages that the report shows inline (one job for all: seconds)."""
from amodal.reporting import write_table_html
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
for tsv, html, title in zip(snakemake.input, snakemake.output, snakemake.params.titles):  # noqa: F821
    write_table_html(tsv, html, title)
    log.info(f"{tsv} -> {html}")
