"""Group statistics (METHOD §7, §10): one-sample t-maps, test maps (conjunctions), TFCE on the mesh, the Stelzer
group permutation null, FWER p-values, clusters, the group stage that writes them, and calibration.

:func:`group_analysis` is the group stage as the workflow runs it. :func:`tfce` is threshold-free cluster
enhancement, equal to MNE's; :func:`group_null` draws (or enumerates) group configurations of per-subject null
maps and returns the maximum TFCE of each; :func:`simulate_fwer` checks that the whole chain keeps the
family-wise error rate on pure-noise data.
"""

from ._calibration import null_subject, simulate_fwer, subject_maps
from ._group import NULL_VARIABLES, group_analysis, load_stores, map_name, write_gifti
from ._permutations import (BASE, CHANCE, DIFFS, FAMILY, STREAMS, TEST_MAPS, base_values, cluster_table, clusters,
                            family_of, ground_truth_overlap, group_configurations, group_null, min_p, p_values,
                            significance_cutoff, t_maps, test_map, ttest_1samp)
from ._tfce import MAX_THRESHOLDS, tfce

__all__ = ["BASE", "CHANCE", "DIFFS", "FAMILY", "MAX_THRESHOLDS", "NULL_VARIABLES", "STREAMS", "TEST_MAPS",
           "base_values", "cluster_table", "clusters", "family_of", "ground_truth_overlap", "group_analysis",
           "group_configurations", "group_null", "load_stores", "map_name", "min_p", "null_subject", "p_values",
           "significance_cutoff", "simulate_fwer", "subject_maps", "t_maps", "test_map", "tfce", "ttest_1samp",
           "write_gifti"]
