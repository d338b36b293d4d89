"""Snakemake adapter: one Universal Brain Encoder run. ``ube_joint`` trains one network on every training subject
together; ``ube_single`` on one subject. Each subject is scored on its test images."""
import json
import shutil
from pathlib import Path

import pandas as pd
import torch

from amodal import data, features
from amodal.device import resolve_device, track_device
from amodal.encoding import ube_study
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
cfg, size = p.ube, p.size
device = resolve_device(cfg["device"])
report = track_device(str(device))
tokens, rows = ube_study.patch_tokens(features.open_features(inp.features), inp.features)
planted = (data.read_planted(inp.planted[0]) or {}).get("subjects", {}) if inp.planted else {}
subjects = list(p.subjects)
train = {s: ube_study.subject_data(data.read_store(f, "betas"), rows, val_fraction=cfg["val_fraction"], seed=p.seed,
                                   features_path=inp.features) for s, f in zip(subjects, inp.betas)}
model = ube_study.new_model(tokens, {s: d["n_vertices"] for s, d in train.items()}, size, p.seed, device)
log.info(f"{p.run}: {sum(x.numel() for x in model.parameters())} parameters, subjects {subjects}, "
         f"{sum(d['train'][0].numel() for d in train.values())} train images, size {cfg['size']} {size}, on {device}")
Path(p.checkpoints).mkdir(parents=True, exist_ok=True)
result = ube_study.fit(model, tokens, train, cfg, size, p.seed, key=p.run, checkpoint=Path(p.checkpoints) / "last.pt",
                       log=log.info)
tables, retrievals = [], []
Path(out.stores).mkdir(parents=True, exist_ok=True)
for s, d in train.items():
    ds, table, retrieval = ube_study.evaluate(model, tokens, s, d, p.run, planted.get(s))
    ds.attrs.update(seed=p.seed, size=cfg["size"], features_store=inp.features)
    data.write_store(ds, Path(out.stores) / f"{s}.zarr")
    tables.append(table)
    retrievals.append(retrieval)
    log.info(f"{s}: median test r {table['r_median'].iloc[0]:.3f}; top-1 {retrieval['top1']:.3f}")
pd.concat(tables).to_csv(out.scores, sep="\t", index=False)
pd.DataFrame(retrievals).to_csv(out.retrieval, sep="\t", index=False)
torch.save({"state_dict": model.state_dict(), "n_vertices": {s: d["n_vertices"] for s, d in train.items()},
            "size": size, "subjects": subjects}, out.model)
with open(out.history, "w") as fh:
    json.dump({"run": p.run, "subjects": subjects, "seed": p.seed, "ube": cfg, "size": size,
               "device": str(device), **result}, fh, indent=2)
shutil.rmtree(p.checkpoints, ignore_errors=True)  # the outputs are written: the checkpoint is no longer needed
report(log.info)
