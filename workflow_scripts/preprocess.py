"""Snakemake adapter: preprocess one subject's betas into a Zarr store."""
import json

from amodal import data
from amodal.workflow import setup_logging, write_sidecar

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
p, out, subject = snakemake.params, snakemake.output, snakemake.wildcards.subject  # noqa: F821
reader = None
if p.source == "ds007272":  # the betas are read from the download, in the order of the trials table
    from amodal.data.adapters import ds007272

    def reader(hemi, trials, n_vertices):
        return ds007272.read_betas(p.raw, subject, hemi, trials, n_vertices)

ds = data.preprocess_subject(p.root, subject, p.mesh, average=p.average_repeats, log=log.info, read_betas=reader)
data.write_store(ds, out.store)
write_sidecar(out.report, subject=ds.attrs["subject"], mesh=p.mesh, average_repeats=p.average_repeats,
              n_trials=int(ds.sizes["trial"]), n_vertices_kept=int(ds.sizes["vertex"]),
              mask=json.loads(ds.attrs["mask_report"]), source=p.source)
