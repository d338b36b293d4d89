"""Snakemake adapter: the dataset QC figure."""
import json
from pathlib import Path

from amodal import qc
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
p, out = snakemake.params, snakemake.output  # noqa: F821
planted_files = snakemake.input.get("planted", [])  # noqa: F821
planted = json.loads(Path(planted_files[0] if isinstance(planted_files, list) else planted_files).read_text()) \
    if planted_files else None
counts = qc.qc_figure(p.root, p.subjects, p.subject, p.mesh, out.figure, planted=planted, dpi=p.dpi)
Path(out.counts).parent.mkdir(parents=True, exist_ok=True)
counts.to_csv(out.counts, sep="\t", index=False)
log.info("trial counts:\n%s", counts.to_string(index=False))
