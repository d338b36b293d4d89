"""Snakemake adapter: group t-maps, TFCE, Stelzer permutations, GIFTI maps and the cluster table."""
import json
from pathlib import Path

from amodal import dataset, group
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
stores = {}
for path in inp.stores:
    name = Path(path).name  # sub-XX_mode-M_hemi-H_shard-KofN.zarr
    parts = dict(x.split("-", 1) for x in name[: -len(".zarr")].split("_")[1:])
    hemi = {"L": "left", "R": "right"}[parts["hemi"]]
    subject = name.split("_")[0]
    stores.setdefault((subject, parts["mode"], hemi), []).append(path)
atlas = {h: dataset.read_labels(f) for h, f in zip(("left", "right"), inp.atlas)}
planted = Path(inp.atlas[0]).parent / "planted.json"
region_types = json.loads(planted.read_text())["region_types"] if planted.exists() else None
group.group_analysis(stores, p.subjects, p.modes, p.mesh, atlas, p.stats, p.seed, Path(out.clusters).parent,
                     p.searchlight, log=log.info, region_types=region_types)
