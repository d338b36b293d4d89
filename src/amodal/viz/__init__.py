"""Figures: surface plotting on the inflated fsaverage mesh, the dataset QC figure, the decoding figures (Figs 4–7,
Appendix 6), the contrastive decoders' retrieval comparison and examples, the voxelwise encoder's figure and the searchlight figures (Figs 8–10, Appendix 5), in the style of the reference paper.

Matplotlib runs with the Agg backend: figures are written to files, never shown.
"""

from ._surface import VIEWS, plot_surface_map, save, surface_assets, surface_axes  # first: selects Agg
from ._decoding import (MODE_COLOURS, MODE_LABELS, app6_per_subject, decoding_figures, fig4_decoder_types,
                        fig5_within_cross, retrieval_grid)
from ._encoding import encoding_figure, ube_figure
from ._contrastive import best_variant, contrastive_figures, contrastive_retrieval
from ._qc import TYPE_COLOURS, qc_figure, region_types, split_half_reliability, trial_counts
from ._searchlight import (NOT_OUTLINED, SMALL_CLUSTER, all_figures, app5, cluster_phrase, facing_view, fig8,
                           figure9_regions, tfce_figure)

__all__ = ["best_variant", "contrastive_figures", "contrastive_retrieval", "MODE_COLOURS", "MODE_LABELS", "NOT_OUTLINED", "SMALL_CLUSTER", "TYPE_COLOURS", "VIEWS", "all_figures",
           "app5", "app6_per_subject", "cluster_phrase", "decoding_figures", "encoding_figure", "facing_view", "fig4_decoder_types",
           "fig5_within_cross", "fig8", "figure9_regions", "plot_surface_map", "qc_figure", "region_types",
           "retrieval_grid", "save", "split_half_reliability", "surface_assets", "surface_axes", "tfce_figure",
           "trial_counts", "ube_figure"]
