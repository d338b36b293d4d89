"""Snakemake adapter: searchlight for one subject x training mode x hemisphere x shard."""
import torch

from amodal import data, features, searchlight
from amodal.device import resolve_device, track_device
from amodal.surface import hemi_from_bids, load_mesh
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out, wc = snakemake.input, snakemake.params, snakemake.output, snakemake.wildcards  # noqa: F821
sl = p.searchlight
hemi = hemi_from_bids(wc.h)
device = resolve_device(sl["device"])
report = track_device(device)
ds = searchlight.searchlight_subject(
    data.read_store(inp.betas, "betas"), features.open_features(inp.features), sl["feature_set"], wc.mode, hemi,
    load_mesh(p.mesh, "inflated")[hemi].coords, n_neighbors=sl["neighbors"], radius=sl["radius_mm"],
    alpha=sl["alpha"], n_perm=sl["n_permutations"], seed=p.seed, device=str(device),
    dtype=getattr(torch, sl["dtype"]), batch_size=sl["batch_size"], solver=sl["solver"],
    shard=data.parse_shard(wc.shard), features_path=inp.features, log=log.info)
ds.attrs["model"] = sl["model"]
ds.attrs["mesh"] = p.mesh
data.write_store(ds, out.store)
report(log.info)
