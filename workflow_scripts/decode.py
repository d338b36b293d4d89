"""Snakemake adapter: ridge decoders for one subject x feature model x training mode."""
import json

from amodal import evaluation, features
from amodal.data import read_store, write_store
from amodal.device import resolve_device, track_device
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out, wc = snakemake.input, snakemake.params, snakemake.output, snakemake.wildcards  # noqa: F821
betas = read_store(inp.betas, "betas")
feats = features.open_features(inp.features)
cfg = p.decoding
sets = [features.default_feature_set(wc.model, p.definitions)] if cfg["feature_sets"] == "default" \
    else [v for v in features.FEATURE_SETS if v in feats.data_vars]
device = str(resolve_device(cfg["device"]))
report = track_device(device)
preds, trial_scores, info = evaluation.decode(
    betas, feats, sets, wc.mode, alphas=cfg["alphas"], n_folds=cfg["cv_folds"], cv_scheme=cfg["cv_scheme"],
    scorer=cfg["cv_scorer"], seed=p.seed, retrieval_k=cfg["retrieval_k"], device=device,
    features_path=inp.features, log=log.info)
write_store(preds, out.predictions)
trial_scores.to_csv(out.trial_scores, sep="\t", index=False)
info.update(device=device, seed=p.seed, features_store=inp.features, betas_store=inp.betas)
with open(out.info, "w") as fh:
    json.dump(info, fh, indent=2)
report(log.info)
