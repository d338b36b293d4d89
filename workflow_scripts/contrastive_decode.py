"""Snakemake adapter: one contrastive decoder family (or ridge into the same space) for one subject x mode."""
import json
import shutil
from pathlib import Path

from amodal import data, evaluation, features
from amodal.device import resolve_device, track_device
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out, wc = snakemake.input, snakemake.params, snakemake.output, snakemake.wildcards  # noqa: F821
betas = data.read_store(inp.betas, "betas")
feats = features.open_features(inp.features)
labels = data.stimulus_labels(data.read_stimuli(Path(inp.stimuli).parents[1]))  # zero-shot classes, if any
cfg = p.contrastive  # this family's part of the config (rules/contrastive.smk)
device = str(resolve_device(cfg["device"]))
report = track_device(device)
preds, trial_scores, info = evaluation.decode_contrastive(
    betas, feats, wc.decoder, wc.mode, cfg, seed=p.seed, labels=labels, retrieval_k=p.retrieval_k, device=device,
    checkpoint_dir=p.checkpoints, features_path=inp.features, log=log.info)
data.write_store(preds, out.predictions)
trial_scores.to_csv(out.trial_scores, sep="\t", index=False)
info.update(device=device, seed=p.seed, features_store=inp.features, betas_store=inp.betas)
with open(out.info, "w") as fh:
    json.dump(info, fh, indent=2)
shutil.rmtree(p.checkpoints, ignore_errors=True)  # the outputs are written: the checkpoints are no longer needed
report(log.info)
