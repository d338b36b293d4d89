"""Snakemake adapter: transfer of the joint Universal Brain Encoder to the held-out subject, beside networks trained
from scratch on the same images (:func:`amodal.encoding.ube_study.transfer_runs`)."""
from amodal.device import resolve_device, track_device
from amodal.encoding import ube_study
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
device = resolve_device(p.ube["device"])
report = track_device(str(device))
ube_study.transfer_runs(p.subject, inp.betas, inp.features, inp.model, inp.planted[0] if inp.planted else None,
                        dict(out.items()), cfg=p.ube, size=p.size, seed=p.seed, checkpoints=p.checkpoints,
                        device=device, log=log.info)
report(log.info)
