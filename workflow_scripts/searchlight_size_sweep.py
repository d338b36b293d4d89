"""Snakemake adapter: agnostic searchlight accuracy against neighbourhood size (Appendix 5), one subject."""
import numpy as np
import pandas as pd
import torch

from amodal import HEMIS, dataset, features, preprocess, searchlight
from amodal.surface import load_mesh
from amodal.workflow import setup_logging, track_device

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out, wc = snakemake.input, snakemake.params, snakemake.output, snakemake.wildcards  # noqa: F821
sl = p.searchlight
report = track_device(features.resolve_device(sl["device"]))
betas, feats = preprocess.open_zarr(inp.betas), features.open_features(inp.features)
atlas = dataset.read_atlas(p.root)
rows = []
for k in sl["size_sweep"]:
    for hemi in HEMIS:
        ds = searchlight.searchlight_subject(
            betas, feats, sl["feature_set"], "agnostic", hemi, load_mesh(p.mesh, "inflated")[hemi].coords,
            n_neighbors=k, alpha=sl["alpha"], n_perm=0, seed=p.seed,
            device=str(features.resolve_device(sl["device"])), dtype=getattr(torch, sl["dtype"]),
            batch_size=sl["batch_size"], solver=sl["solver"], log=log.info)
        labels, names = atlas[hemi]
        region = np.array([names.get(int(v), "?") for v in labels[ds["vertex_index"].values]])
        for metric in ("acc_image", "acc_caption"):
            vals = ds["scores"].sel(metric=metric).values
            rows.append({"subject": wc.subject, "n_neighbors": k, "hemi": hemi, "metric": metric,
                         "region": "all", "mean": float(np.mean(vals)), "p99": float(np.quantile(vals, 0.99))})
            for r in np.unique(region):
                rows.append({"subject": wc.subject, "n_neighbors": k, "hemi": hemi, "metric": metric, "region": r,
                             "mean": float(vals[region == r].mean()), "p99": float(np.quantile(vals[region == r], 0.99))})
pd.DataFrame(rows).to_csv(out.table, sep="\t", index=False)
report(log.info)
