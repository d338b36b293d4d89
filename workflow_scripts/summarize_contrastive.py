"""Snakemake adapter: the contrastive decoders' long table, subject scores and across-subject summary."""
import pandas as pd

from amodal import evaluation
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
trials = pd.concat([pd.read_csv(f, sep="\t", dtype={"stimulus_id": str}) for f in inp.trial_scores],
                   ignore_index=True)
trials.to_csv(out.trial_scores, sep="\t", index=False, compression={"method": "gzip", "mtime": 0})
keys = evaluation.CONTRASTIVE_KEYS
evaluation.subject_scores(trials, keys).to_csv(out.scores, sep="\t", index=False)
summ = evaluation.contrastive_summary(trials, n_boot=p.n_bootstrap, seed=p.seed, ci=p.ci)
summ.to_csv(out.summary, sep="\t", index=False)
main = summ[summ.metric.isin(["recall@1", "mean_recall"]) & summ.eval_modality.isin(["image", "caption"])]
log.info("retrieval, mean over subjects:\n%s", main.to_string(index=False))
