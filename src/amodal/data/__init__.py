"""Data: the on-disk dataset layout, GIFTI and Zarr I/O, and beta preprocessing.

One layout serves synthetic and real data (see :mod:`amodal.data._layout` for the tree). Sub-packages:
:mod:`amodal.data.synthetic` (the embedded default dataset) and :mod:`amodal.data.adapters` (real datasets).
"""

from ._gifti import write_func_gifti, write_map
from ._io import (read_atlas, read_betas, read_labels, read_planted, read_stimuli, read_trials, stimulus_labels,
                  write_betas, write_labels)
from ._layout import (DECODER_FAMILIES, MODALITIES, MODE_MODALITIES, SPLITS, TRAINING_MODES, atlas_gifti, betas_gifti,
                      dataset_files, dataset_root, group_searchlight_stores, parse_shard, planted_json,
                      searchlight_store_path, shard_label, stimuli_tsv, subject_ids, trials_tsv)
from ._preprocess import average_repeats, preprocess_subject, zscore_train
from ._results import (ENCODING_MAP_STATS, RESULT_PATHS, UBE_MAP_STATS, encoding_maps, result_path,
                       ube_maps)
from ._zarr import read_store, write_store

__all__ = ["DECODER_FAMILIES", "ENCODING_MAP_STATS", "MODALITIES", "MODE_MODALITIES", "RESULT_PATHS", "SPLITS",
           "TRAINING_MODES", "UBE_MAP_STATS", "atlas_gifti", "average_repeats", "betas_gifti",
           "dataset_files", "dataset_root", "encoding_maps", "group_searchlight_stores", "parse_shard",
           "planted_json", "preprocess_subject", "read_atlas", "read_betas", "read_labels", "read_planted",
           "read_stimuli", "read_store", "read_trials", "result_path", "searchlight_store_path", "shard_label",
           "stimuli_tsv", "stimulus_labels", "subject_ids", "trials_tsv", "ube_maps", "write_betas",
           "write_func_gifti", "write_labels", "write_map", "write_store", "zscore_train"]
