"""Snakemake adapter: bring OpenNeuro ds007272 into amodal's layout (stimuli and trials tables; betas stay put)."""
import json

from amodal.data.adapters import ds007272
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
p = snakemake.params  # noqa: F821
counts = ds007272.write_layout(p.raw, p.root, p.subjects, coco_root=p.coco_root, log=log.info)
log.info("counts: %s", json.dumps(counts))
