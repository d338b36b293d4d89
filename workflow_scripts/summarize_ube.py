"""Snakemake adapter: the Universal Brain Encoder's tables (joint, single-subject and transfer runs), the
k-means clusters of the joint network's vertex embeddings (maps and agreement with the planted region types), and
its figure."""
import json
from pathlib import Path

import numpy as np
import pandas as pd

from amodal import data
from amodal.encoding import full_mesh_maps, ube_study
from amodal.surface import N_VERTICES, hemi_from_bids
from amodal.viz import ube_figure
from amodal.workflow import setup_logging, write_sidecar

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
scores = pd.concat([pd.read_csv(f, sep="\t") for f in inp.scores], ignore_index=True)
scores["run"] = scores["run"].str.replace(r"^single-.*", "single", regex=True)
retrieval = pd.concat([pd.read_csv(f, sep="\t") for f in inp.retrieval], ignore_index=True)
retrieval["run"] = retrieval["run"].str.replace(r"^single-.*", "single", regex=True)
scores["n_images"] = scores["n_images"].astype("Int64")  # the transfer runs' n; empty for the others
scores.to_csv(out.scores, sep="\t", index=False)
retrieval.to_csv(out.retrieval, sep="\t", index=False)
paired = scores[scores["run"].isin(["joint", "single"])].pivot_table(
    index=["subject", "region_type"], columns="run", values="r_median").reset_index()
paired["gain"] = paired["joint"] - paired["single"]
paired.to_csv(out.gain, sep="\t", index=False)
joint = {s: data.read_store(Path(inp.joint) / f"{s}.zarr", "ube") for s in p.subjects}
labels, agreement = ube_study.embedding_clusters(list(joint.values()), p.n_clusters, p.seed)
agreement = {k: None if isinstance(v, float) and np.isnan(v) else v  # NaN: no planted types to compare with
             for k, v in agreement.items()}
with open(out.clusters, "w") as fh:
    json.dump({**agreement, "subjects": list(p.subjects), "seed": p.seed,
               "method": "k-means (scikit-learn, 10 starts) on the unit-length vertex embeddings of the joint network, "
                         "all training subjects together"}, fh, indent=2)
maps = {}
for (s, ds), lab in zip(joint.items(), labels):
    ds["cluster"] = ("vertex", (lab + 1).astype(np.float32))
    maps[s] = {"r": full_mesh_maps(ds, "r", N_VERTICES[p.mesh]), "cluster": full_mesh_maps(ds, "cluster",
                                                                                           N_VERTICES[p.mesh])}
what = {"r": "Pearson r between the joint Universal Brain Encoder's prediction and the measured test responses",
        "cluster": "k-means cluster (1..k) of the joint network's vertex embedding; NaN where masked"}
for path in out.maps:
    name = Path(path).name
    s, h, stat = name.split("_")[0], name.split("_hemi-")[1][0], name.split("_stat-")[1].split("_")[0]
    hemi = hemi_from_bids(h)
    data.write_func_gifti(path, maps[s][stat][hemi], hemi)
    write_sidecar(path.replace(".func.gii", ".json"), Description=what[stat], subject=s, hemisphere=hemi,
                  mesh=p.mesh, seed=p.seed, run="joint", ube=p.ube, **({"agreement": agreement} if stat == "cluster"
                                                                       else {}))
example = p.example_subject if p.example_subject in maps else next(iter(maps))
ube_figure(scores, retrieval, maps[example]["cluster"], agreement, p.mesh, out.figure, example, dpi=p.dpi)
log.info(paired.to_string())
log.info(f"clusters: {agreement}")
