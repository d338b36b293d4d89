"""Snakemake adapter: transfer of the joint Universal Brain Encoder to a held-out subject. For each n of
``ube.transfer_n``, everything is frozen except the new subject's vertex embeddings, trained on its first n train
images; beside it, a network trained from scratch on the same n images. Both are scored on its test images."""
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
cfg, size, subject = p.ube, p.size, p.subject
device = resolve_device(cfg["device"])
report = track_device(str(device))
tokens, rows = ube_study.patch_tokens(features.open_features(inp.features), inp.features)
planted = (data.read_planted(inp.planted[0]) or {}).get("subjects", {}) if inp.planted else {}
full = ube_study.subject_data(data.read_store(inp.betas, "betas"), rows, val_fraction=cfg["val_fraction"],
                              seed=p.seed, features_path=inp.features)
saved = torch.load(inp.model, map_location=device, weights_only=False)
joint = ube_study.new_model(tokens, saved["n_vertices"], saved["size"], p.seed, device)
joint.load_state_dict(saved["state_dict"])
tables, retrievals, history = [], [], {}
Path(out.stores).mkdir(parents=True, exist_ok=True)
ckpt = Path(p.checkpoints)
ckpt.mkdir(parents=True, exist_ok=True)
for n in cfg["transfer_n"]:
    d = ube_study.first_images(full, n)
    runs = {}
    runs[f"transfer_n{n}"] = ube_study.for_transfer(joint, subject, d["n_vertices"])
    runs[f"scratch_n{n}"] = (ube_study.new_model(tokens, {subject: d["n_vertices"]}, size, p.seed, device), None)
    for run, (model, params) in runs.items():
        log.info(f"{run}: {subject}, {n} train images")
        history[run] = ube_study.fit(model, tokens, {subject: d}, cfg, size, p.seed, key=f"{run}-{subject}",
                                     parameters=params, checkpoint=ckpt / f"{run}.pt", log=log.info)
        ds, table, retrieval = ube_study.evaluate(model, tokens, subject, d, run, planted.get(subject))
        ds.attrs.update(seed=p.seed, size=cfg["size"], n_images=n, features_store=inp.features)
        data.write_store(ds, Path(out.stores) / f"{run}.zarr")
        table.insert(1, "n_images", n)
        retrieval["n_train_images"] = n
        tables.append(table)
        retrievals.append(retrieval)
        log.info(f"{run}: median test r {table['r_median'].iloc[0]:.3f}; top-1 {retrieval['top1']:.3f}")
pd.concat(tables).to_csv(out.scores, sep="\t", index=False)
pd.DataFrame(retrievals).to_csv(out.retrieval, sep="\t", index=False)
with open(out.history, "w") as fh:
    json.dump({"subject": subject, "seed": p.seed, "ube": cfg, "size": size, "device": str(device),
               "runs": history}, fh, indent=2)
shutil.rmtree(p.checkpoints, ignore_errors=True)
report(log.info)
