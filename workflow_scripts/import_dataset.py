"""Snakemake adapter: bring a real download (ds007272, NSD) into amodal's layout (stimuli and trials tables; the
betas stay in the download)."""
import json

from amodal.data.adapters import write_layout
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
p = snakemake.params  # noqa: F821
counts = write_layout(p.source, p.raw, p.root, p.subjects, coco_root=p.coco_root, log=log.info)
log.info("counts: %s", json.dumps(counts))
