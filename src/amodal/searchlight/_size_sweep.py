"""Searchlight accuracy against neighbourhood size (the paper's Appendix 5): the agnostic decoder, no null."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..surface import HEMIS, load_mesh
from ._core import searchlight_subject


def region_summary(scores: np.ndarray, region: np.ndarray) -> list[tuple[str, float, float]]:
    """Mean and 99th percentile of ``scores`` over all vertices, then over each region.

    Parameters
    ----------
    scores : array of shape (n_vertices,)
    region : array of str, shape (n_vertices,)
        The region name of each vertex.

    Returns
    -------
    list of (region, mean, p99)
        ``"all"`` first, then each region in sorted order.
    """
    rows = [("all", float(np.mean(scores)), float(np.quantile(scores, 0.99)))]
    for r in np.unique(region):
        rows.append((str(r), float(scores[region == r].mean()), float(np.quantile(scores[region == r], 0.99))))
    return rows


def size_sweep(betas, features, feature_set: str, sizes, atlas: dict, mesh: str, subject: str, *, alpha: float,
               seed: int, device: str, dtype, batch_size: int, solver: str = "auto", log=print) -> pd.DataFrame:
    """Agnostic searchlight accuracy (image and caption test trials) for each neighbourhood size.

    Parameters
    ----------
    betas, features : xarray.Dataset
        A preprocessed store and a feature store.
    feature_set : str
    sizes : sequence of int
        Neighbourhood sizes k (nearest vertices).
    atlas : dict
        ``{hemi: (labels of shape (n_vertices,), {key: name})}``, as :func:`amodal.data.read_atlas` gives.
    mesh : str
        fsaverage resolution of the betas.
    subject : str
    alpha, seed, device, dtype, batch_size, solver, log
        As :func:`searchlight_subject`.

    Returns
    -------
    pandas.DataFrame
        One row per size × hemisphere × metric × region (``all`` and each atlas region), with columns
        ``subject, n_neighbors, hemi, metric, region, mean, p99``.
    """
    rows = []
    for k in sizes:
        for hemi in HEMIS:
            ds = searchlight_subject(
                betas, features, feature_set, "agnostic", hemi, load_mesh(mesh, "inflated")[hemi].coords,
                n_neighbors=k, alpha=alpha, n_perm=0, seed=seed, device=device, dtype=dtype,
                batch_size=batch_size, solver=solver, log=log)
            labels, names = atlas[hemi]
            region = np.array([names.get(int(v), "?") for v in labels[ds["vertex_index"].values]])
            for metric in ("acc_image", "acc_caption"):
                vals = ds["scores"].sel(metric=metric).values
                for r, mean, p99 in region_summary(vals, region):
                    rows.append({"subject": subject, "n_neighbors": k, "hemi": hemi, "metric": metric,
                                 "region": r, "mean": mean, "p99": p99})
    return pd.DataFrame(rows)
