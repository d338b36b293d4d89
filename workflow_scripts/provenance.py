"""Snakemake adapter: the run's provenance (config, master seed, code and library versions), as JSON and HTML."""
import json
from pathlib import Path

from amodal.provenance import record
from amodal.reporting import provenance_html
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
rec = record(dict(snakemake.config))  # noqa: F821
Path(snakemake.output.record).write_text(json.dumps(rec, indent=2, default=str))  # noqa: F821
Path(snakemake.output.html).write_text(provenance_html(rec))  # noqa: F821
log.info(f"amodal {rec['amodal_version']}, commit {rec['git']['commit']}, seed {rec['master_seed']}")
