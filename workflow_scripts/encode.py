"""Snakemake adapter: a voxelwise banded-ridge encoder for one subject x feature model."""
import json

import numpy as np

from amodal import data, encoding, features
from amodal.device import resolve_device, track_device
from amodal.surface import N_VERTICES
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out, wc = snakemake.input, snakemake.params, snakemake.output, snakemake.wildcards  # noqa: F821
cfg = p.encoding
device = str(resolve_device(cfg["device"]))
report = track_device(device)
betas = data.read_store(inp.betas, "betas")
ds = encoding.encode_subject(betas, features.open_features(inp.features), cfg["feature_sets"],
                             alphas=cfg["alphas"], n_iter=cfg["n_iter"], n_folds=cfg["cv_folds"],
                             modality=cfg["modality"], seed=p.seed, device=device, features_path=inp.features,
                             log=log.info)
ds.attrs.update(model=wc.model, mesh=p.mesh, seed=p.seed)
data.write_store(ds, out.store)
planted = data.read_planted(inp.planted[0]) if inp.planted else None
table, retrieval = encoding.summarize_subject(ds, (planted or {}).get("subjects", {}).get(wc.subject))
table.insert(0, "model", wc.model)
table.insert(0, "subject", wc.subject)
table.to_csv(out.scores, sep="\t", index=False)
with open(out.retrieval, "w") as fh:
    json.dump(dict(subject=wc.subject, model=wc.model, **retrieval), fh, indent=2)
maps = dict(zip(data.encoding_maps("", wc.subject, wc.model, p.mesh), out.maps))  # (hemi, stat) -> path, as declared
encoding.write_encoder_maps(ds, maps, N_VERTICES[p.mesh], {**ds.attrs, "subject": wc.subject, "model": wc.model,
                                                           "mesh": p.mesh, "seed": p.seed, "masked": "NaN",
                                                           "encoding": cfg})
log.info(f"median r {np.nanmedian(ds['r'].values):.3f}; retrieval top-1 {retrieval['top1']:.3f}")
report(log.info)
