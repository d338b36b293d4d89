"""Snakemake adapter: the encoders' tables (every subject and model) and their figure."""
import json

import numpy as np
import pandas as pd

from amodal import data, encoding
from amodal.surface import N_VERTICES
from amodal.viz import encoding_figure
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
summary = pd.concat([pd.read_csv(f, sep="\t") for f in inp.scores], ignore_index=True)
summary.to_csv(out.summary, sep="\t", index=False)
retrieval = pd.DataFrame([json.loads(open(f).read()) for f in inp.retrieval])
retrieval.to_csv(out.retrieval, sep="\t", index=False)
model = p.models[0]
maps = {}
for var in ("r", "r_normalized"):
    per_subject = [encoding.full_mesh_maps(data.read_store(f, "encoder"), var, N_VERTICES[p.mesh])
                   for f in inp.stores if f"/{model}/" in f]
    maps[var] = {h: np.nanmedian(np.stack([m[h] for m in per_subject]), axis=0) for h in ("left", "right")}
encoding_figure(maps, summary, retrieval, p.mesh, out.figure, model, dpi=p.dpi)
log.info(summary[summary["region_type"] != "cortex"].to_string())
log.info(retrieval.to_string())
