"""Snakemake adapter: the Universal Brain Encoder's tables (joint, single-subject and transfer runs), the k-means
clusters of the joint network's vertex embeddings (maps and agreement with the planted region types), and its
figure (:func:`amodal.encoding.ube_study.summarize`)."""
from amodal import data
from amodal.encoding import ube_study
from amodal.viz import ube_figure
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
map_paths = dict(zip(data.ube_maps("", p.subjects, p.mesh), out.maps))  # (subject, hemi, stat) -> path, as declared
scores, retrieval, maps, agreement = ube_study.summarize(inp.scores, inp.retrieval, inp.joint, p.subjects,
                                                         dict(out.items()), map_paths, n_clusters=p.n_clusters,
                                                         seed=p.seed, mesh=p.mesh, cfg=p.ube)
example = p.example_subject if p.example_subject in maps else next(iter(maps))
ube_figure(scores, retrieval, maps[example]["cluster"], agreement, p.mesh, out.figure, example, dpi=p.dpi)
log.info(f"clusters: {agreement}")
