"""Snakemake adapter: preprocess one subject's betas into a Zarr store."""
import json

from amodal import data
from amodal.data.adapters import betas_reader
from amodal.sidecars import write_sidecar
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
p, out, subject = snakemake.params, snakemake.output, snakemake.wildcards.subject  # noqa: F821
roi = None
if p.roi == "nsdgeneral":
    from amodal.data.adapters import nsd
    from amodal.surface import N_VERTICES

    roi = nsd.read_nsdgeneral(p.raw, N_VERTICES[p.mesh])
ds = data.preprocess_subject(p.root, subject, p.mesh, average=p.average_repeats, log=log.info, zscore=p.zscore,
                             roi=roi, read_betas=betas_reader(p.source, p.raw, subject))  # None: the layout's GIFTIs
data.write_store(ds, out.store)
write_sidecar(out.report, dict(subject=ds.attrs["subject"], mesh=p.mesh, average_repeats=p.average_repeats,
                               n_trials=int(ds.sizes["trial"]), n_vertices_kept=int(ds.sizes["vertex"]),
                               mask=json.loads(ds.attrs["mask_report"]), source=p.source, zscore=p.zscore, roi=p.roi))
