"""Snakemake adapter: searchlight for one subject x training mode x hemisphere x shard."""
import torch

from amodal import features, preprocess, searchlight, store
from amodal.surface import load_mesh
from amodal.workflow import setup_logging, track_device

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out, wc = snakemake.input, snakemake.params, snakemake.output, snakemake.wildcards  # noqa: F821
sl = p.searchlight
hemi = {"L": "left", "R": "right"}[wc.h]
k, n = (int(v) for v in wc.shard.split("of"))
device = features.resolve_device(sl["device"])
report = track_device(device)
ds = searchlight.searchlight_subject(
    preprocess.open_zarr(inp.betas), features.open_features(inp.features), sl["feature_set"], wc.mode, hemi,
    load_mesh(p.mesh, "inflated")[hemi].coords, n_neighbors=sl["neighbors"], radius=sl["radius_mm"],
    alpha=sl["alpha"], n_perm=sl["n_permutations"], seed=p.seed, device=str(device),
    dtype=getattr(torch, sl["dtype"]), batch_size=sl["batch_size"], solver=sl["solver"], shard=(k - 1, n),
    features_path=inp.features, log=log.info)
ds.attrs["model"] = sl["model"]
ds.attrs["mesh"] = p.mesh
store.write(ds, out.store)
report(log.info)
