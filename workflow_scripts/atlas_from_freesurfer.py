"""Snakemake adapter: a FreeSurfer annotation of fsaverage as the layout's atlas (cluster labels on real data)."""
from amodal.data.adapters import freesurfer
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
p = snakemake.params  # noqa: F821
freesurfer.write_atlas(p.mesh, list(snakemake.output.atlas), p.name, p.subjects_dir, log=log.info)  # noqa: F821
