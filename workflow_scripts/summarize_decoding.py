"""Snakemake adapter: gather per-trial scores into the long scores table and the across-subject summary."""
import pandas as pd

from amodal import evaluation
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
trials = pd.concat([pd.read_csv(f, sep="\t", dtype={"stimulus_id": str}) for f in inp.trial_scores],
                   ignore_index=True)
# mtime 0: the gzip header would otherwise hold the time of writing, so equal results would differ in bytes
trials.to_csv(out.trial_scores, sep="\t", index=False, compression={"method": "gzip", "mtime": 0})
scores = evaluation.subject_scores(trials)
scores.to_csv(out.scores, sep="\t", index=False)
summ = evaluation.summary(trials, n_boot=p.evaluation["n_bootstrap"], seed=p.seed, ci=p.evaluation["ci"])
summ.to_csv(out.summary, sep="\t", index=False)
main = summ[summ.metric == "pairwise_acc"]
log.info("pairwise accuracy, mean over subjects:\n%s", main.to_string(index=False))
