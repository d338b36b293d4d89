"""Group statistics (METHOD §7, §10): one-sample t-maps, test maps (conjunctions), TFCE on the mesh, the Stelzer
group permutation null, FWER p-values, clusters, the group stage that writes them, and calibration.

:func:`group_analysis` is the group stage as the workflow runs it. :func:`tfce` is threshold-free cluster
enhancement, equal to MNE's; :func:`group_null` draws (or enumerates) group configurations of per-subject null
maps and returns the maximum TFCE of each; :func:`simulate_fwer` checks that the whole chain keeps the
family-wise error rate on pure-noise data.
"""

from ._calibration import simulate_fwer
from ._group import GroupResult, group_analysis, group_maps, map_name, write_group
from ._permutations import (TEST_MAPS, clusters, group_configurations, group_null, min_p, p_values, significance_cutoff,
                            test_map, ttest_1samp)
from ._tfce import tfce

__all__ = ["TEST_MAPS", "clusters", "group_analysis", "group_configurations", "group_maps", "group_null", "GroupResult",
           "map_name", "min_p", "p_values", "significance_cutoff", "simulate_fwer", "test_map", "tfce", "ttest_1samp",
           "write_group"]
