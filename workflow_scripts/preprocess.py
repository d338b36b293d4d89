"""Snakemake adapter: preprocess one subject's betas into a Zarr store."""
import json

from amodal import data
from amodal.workflow import setup_logging, write_sidecar

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
p, out = snakemake.params, snakemake.output  # noqa: F821
ds = data.preprocess_subject(p.root, snakemake.wildcards.subject, p.mesh,  # noqa: F821
                             average=p.average_repeats, log=log.info)
data.write_store(ds, out.store)
write_sidecar(out.report, subject=ds.attrs["subject"], mesh=p.mesh, average_repeats=p.average_repeats,
              n_trials=int(ds.sizes["trial"]), n_vertices_kept=int(ds.sizes["vertex"]),
              mask=json.loads(ds.attrs["mask_report"]))
