"""Feature stores and targets: reading a model's cached features, the rows of a feature set for given stimuli,
and the ``avg`` set of two models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..data import read_store
from ..errors import DataError


def _standardize(x: np.ndarray) -> np.ndarray:
    # Over every stimulus, in the features' own dtype: no fMRI rows are involved, so this is not the train-split
    # standardisation of amodal.standardize (which works on betas and targets, in float64).
    sd = x.std(0)
    return (x - x.mean(0)) / np.where(sd > 0, sd, 1)


def average_sets(vision: np.ndarray, lang: np.ndarray) -> tuple[np.ndarray, str]:
    """The ``avg`` feature set: the mean of the standardised vision and lang vectors (METHOD §2).

    When the two have different widths (two unimodal models), each is first reduced by PCA to the smaller width so
    that the average is defined *(ours)*; PCA is fitted on the stimulus features only (no fMRI).

    Parameters
    ----------
    vision : array of shape (n_stimuli, n_vision)
    lang : array of shape (n_stimuli, n_lang)

    Returns
    -------
    avg : float32 array of shape (n_stimuli, min(n_vision, n_lang))
    note : str
        How it was made (for the store's attributes).
    """
    v, l_ = _standardize(vision), _standardize(lang)
    note = "mean of standardised vision and lang"
    if v.shape[1] != l_.shape[1]:
        from sklearn.decomposition import PCA

        d = min(v.shape[1], l_.shape[1], v.shape[0])
        v = _standardize(PCA(n_components=d, random_state=0).fit_transform(v)) if v.shape[1] > d else v
        l_ = _standardize(PCA(n_components=d, random_state=0).fit_transform(l_)) if l_.shape[1] > d else l_
        note += f", each reduced by PCA to {d} dimensions first"
    return ((v + l_) / 2).astype(np.float32), note



def open_features(path) -> xr.Dataset:
    """Load a model's feature store (Dataset of ``(stimulus, dim_<set>)`` arrays, one per feature set)."""
    return read_store(path, "features")


def targets_for(features: xr.Dataset, feature_set: str, stimulus_ids, store_path="<features>") -> np.ndarray:
    """Rows of ``feature_set`` for ``stimulus_ids``.

    Parameters
    ----------
    features : xarray.Dataset
        A feature store (:func:`open_features`).
    feature_set : str
        ``vision``, ``lang``, ``avg`` or ``fused``.
    stimulus_ids : array-like of str, shape (n_trials,)
    store_path : str
        Named in errors.

    Returns
    -------
    array of shape (n_trials, n_dims)

    Raises
    ------
    DataError
        When the set is not in the store, or stimulus ids have no features (they are named).
    """
    if feature_set not in features:
        raise DataError(f"{store_path}: feature set {feature_set!r} not in this store (it has "
                        f"{sorted(features.data_vars)})")
    index = pd.Index(features["stimulus"].values)
    pos = index.get_indexer(np.asarray(stimulus_ids, dtype=str))
    if (pos < 0).any():
        missing = sorted({str(s) for s in np.asarray(stimulus_ids, dtype=str)[pos < 0]})
        raise DataError(f"{store_path}: {len(missing)} stimulus id(s) have no features: {missing[:10]}"
                        f"{' ...' if len(missing) > 10 else ''}. The feature store was made from a different "
                        f"stimulus set; delete it and rerun extract_features.")
    return features[feature_set].values[pos]
