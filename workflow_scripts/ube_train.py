"""Snakemake adapter: one Universal Brain Encoder training run (``joint``: every training subject together;
``single-<subject>``: one subject), scored on each subject's test images
(:func:`amodal.encoding.ube_study.train_run`)."""
from amodal.device import resolve_device, track_device
from amodal.encoding import ube_study
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
device = resolve_device(p.ube["device"])
report = track_device(str(device))
ube_study.train_run(dict(zip(p.subjects, inp.betas)), inp.features, inp.planted[0] if inp.planted else None,
                    dict(out.items()), cfg=p.ube, size=p.size, seed=p.seed, run=p.run, checkpoints=p.checkpoints,
                    device=device, log=log.info)
report(log.info)
