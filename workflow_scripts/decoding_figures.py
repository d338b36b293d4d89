"""Snakemake adapter: decoding figures (Figs 4–7, Appendix 6)."""
from pathlib import Path

import pandas as pd
import xarray as xr

from amodal import dataset, features, figures
from amodal.workflow import setup_logging

log = setup_logging(snakemake)  # noqa: F821 - injected by Snakemake
inp, p, out = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
fig = p.figures
summary = pd.read_csv(inp.summary, sep="\t")
scores = pd.read_csv(inp.scores, sep="\t")
paths = {Path(f).stem: f for f in out.figures}
figures.fig4_decoder_types(summary, paths["fig4_decoder_types"], fig["dpi"])
figures.fig5_within_cross(summary, paths["fig5_within_cross"], fig["dpi"])
figures.app6_per_subject(scores, paths["app6_per_subject"], fig["dpi"])
stim_dir = Path(inp.stimuli).parent
stimuli = dataset.read_stimuli(stim_dir.parent)
preds = xr.open_zarr(inp.predictions[0], consolidated=False).load()  # one example decoder
fs = features.open_features(inp.features).attrs["default_set"]
for modality, name in (("image", "fig6_retrieval_images"), ("caption", "fig7_retrieval_captions")):
    figures.retrieval_grid(preds, stimuli, stim_dir, modality, fs, paths[name], n_examples=fig["n_examples"],
                           dpi=fig["dpi"], title=f"{fig['example_subject']}: modality-agnostic decoder "
                           f"({fig['example_model']}, {fs}), decoding {modality}s: top-5 test candidates")
log.info("wrote %s", list(paths.values()))
