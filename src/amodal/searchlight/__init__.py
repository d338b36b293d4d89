"""Surface searchlight: ridge decoders in every neighbourhood of the mesh, batched in torch (METHOD §6, §10).

:func:`searchlight_subject` runs one subject × training mode × hemisphere (× shard): :func:`prepare` reads and
standardises the rows, :func:`neighbourhoods` and :func:`shard_centres` choose the vertices, :func:`run` solves
and scores every neighbourhood with its per-subject null (:func:`null_permutations`), and :func:`to_dataset`
packs the maps. :func:`size_sweep` is the neighbourhood-size analysis of Appendix 5.
"""

from ._core import (IMAGERY_NULL_METRICS, NULL_METRICS, OBS_METRICS, SOLVERS, DirectSolver, SearchlightData,
                    SharedSolver, centre_groups, choose_solver, neighbourhoods, prepare, run, searchlight_subject,
                    shard_centres, shared_plan, take_block, take_rows, to_dataset, win_matrix, win_sums, win_sums_torch)
from ._permutations import (derangement, imagery_null_is_exhaustive, imagery_orderings, null_permutations,
                            target_assignments)
from ._size_sweep import region_summary, size_sweep

__all__ = ["IMAGERY_NULL_METRICS", "NULL_METRICS", "OBS_METRICS", "SOLVERS", "centre_groups", "choose_solver",
           "derangement", "DirectSolver", "imagery_null_is_exhaustive", "imagery_orderings", "neighbourhoods",
           "null_permutations", "prepare", "region_summary", "run", "searchlight_subject", "SearchlightData",
           "shard_centres", "shared_plan", "SharedSolver", "size_sweep", "take_block", "take_rows",
           "target_assignments", "to_dataset", "win_matrix", "win_sums", "win_sums_torch"]
