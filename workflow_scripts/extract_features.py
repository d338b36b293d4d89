"""Snakemake adapter: extract and cache one feature model's features."""
from pathlib import Path

from amodal import data, features
from amodal.device import track_device
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
model = snakemake.wildcards.model  # noqa: F821
root = Path(inp.stimuli).parents[1]
stimuli = data.read_stimuli(root)
components = {}
if p.definition["backend"] == "combine":
    for part, path in zip(("vision_model", "lang_model"), inp.components):
        components[p.definition[part]] = features.open_features(path)
report = track_device(p.device)
ds = features.extract(model, stimuli, Path(inp.stimuli).parent, p.definitions, device=p.device,
                      batch_size=p.batch_size, log=log.info, components=components,
                      seed=p.seed or 0)
data.write_store(ds, out.store)
log.info("wrote %s: %s", out.store, {k: v.shape for k, v in ds.data_vars.items()})
report(log.info)
