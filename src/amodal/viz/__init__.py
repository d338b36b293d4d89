"""Figures: surface plotting on the inflated fsaverage mesh, the dataset QC figure, the decoding figures (Figs 4–7,
Appendix 6), the contrastive decoders' retrieval comparison and examples, the encoders' figures and the searchlight
figures (Figs 8–10, Appendix 5), in the style of the reference paper.

Matplotlib runs with the Agg backend: figures are written to files, never shown.
"""

from ._surface import plot_surface_map, save, surface_assets  # first: selects Agg
from ._contrastive import contrastive_figures, contrastive_retrieval
from ._decoding import app6_per_subject, decoding_figures, fig4_decoder_types, fig5_within_cross, retrieval_grid
from ._encoding import encoding_figure, ube_figure
from ._qc import qc_figure, region_types, trial_counts
from ._searchlight import all_figures, app5, cluster_phrase, facing_view, fig8, figure9_regions, tfce_figure

__all__ = ["all_figures", "app5", "app6_per_subject", "cluster_phrase", "contrastive_figures", "contrastive_retrieval",
           "decoding_figures", "encoding_figure", "facing_view", "fig4_decoder_types", "fig5_within_cross", "fig8",
           "figure9_regions", "plot_surface_map", "qc_figure", "region_types", "retrieval_grid", "save",
           "surface_assets", "tfce_figure", "trial_counts", "ube_figure"]
