"""Snakemake adapter: group t-maps, TFCE, Stelzer permutations, GIFTI maps and the cluster table."""
from pathlib import Path

from amodal import data, stats
from amodal.surface import HEMIS
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
atlas = {h: data.read_labels(f) for h, f in zip(HEMIS, inp.atlas)}
planted = data.read_planted(inp.get("planted", []))  # synthetic ground truth; real data have none
stats.group_analysis(data.group_searchlight_stores(inp.stores), p.subjects, p.modes, p.mesh, atlas, p.stats, p.seed,
                     Path(out.clusters).parent, p.searchlight, log=log.info,
                     region_types=planted["region_types"] if planted else None)
