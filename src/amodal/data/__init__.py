"""Data: the on-disk dataset layout, GIFTI and Zarr I/O, and beta preprocessing.

One layout serves synthetic and real data (see :mod:`amodal.data._layout` for the tree). Sub-packages:
:mod:`amodal.data.synthetic` (the embedded default dataset) and :mod:`amodal.data.adapters` (real datasets).
"""

from ._gifti import write_func_gifti, write_label_gifti
from ._io import (read_atlas, read_betas, read_labels, read_planted, read_stimuli, read_trials, write_betas,
                  write_labels)
from ._layout import (MODALITIES, MODE_MODALITIES, SPLITS, STIMULUS_COLUMNS, TRAINING_MODES, TRIAL_COLUMNS, atlas_gifti, betas_gifti, dataset_files,
                      dataset_root, group_searchlight_stores, planted_json, searchlight_store_path, stimuli_tsv,
                      subject_ids, trials_tsv)
from ._preprocess import average_repeats, bad_vertex_mask, preprocess_subject, zscore_train
from ._zarr import read_store, write_store

__all__ = ["MODALITIES", "MODE_MODALITIES", "SPLITS", "STIMULUS_COLUMNS", "TRAINING_MODES", "TRIAL_COLUMNS", "atlas_gifti", "average_repeats",
           "bad_vertex_mask", "betas_gifti", "dataset_files", "dataset_root", "group_searchlight_stores",
           "planted_json", "preprocess_subject", "read_atlas", "read_betas", "read_labels",
           "read_planted", "read_stimuli", "read_store", "read_trials", "searchlight_store_path",
           "stimuli_tsv", "subject_ids", "trials_tsv", "write_betas", "write_func_gifti", "write_label_gifti",
           "write_labels", "write_store", "zscore_train"]
