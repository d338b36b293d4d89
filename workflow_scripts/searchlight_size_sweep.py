"""Snakemake adapter: agnostic searchlight accuracy against neighbourhood size (Appendix 5), one subject."""
import torch

from amodal import data, features, searchlight
from amodal.device import resolve_device, track_device
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out, wc = snakemake.input, snakemake.params, snakemake.output, snakemake.wildcards  # noqa: F821
sl = p.searchlight
device = resolve_device(sl["device"])
report = track_device(device)
table = searchlight.size_sweep(
    data.read_store(inp.betas, "betas"), features.open_features(inp.features), sl["feature_set"], sl["size_sweep"],
    data.read_atlas(p.root), p.mesh, wc.subject, alpha=sl["alpha"], seed=p.seed, device=str(device),
    dtype=getattr(torch, sl["dtype"]), batch_size=sl["batch_size"], solver=sl["solver"], log=log.info)
table.to_csv(out.table, sep="\t", index=False)
report(log.info)
