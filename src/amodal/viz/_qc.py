"""QC figure of a dataset: atlas, one subject's split-half reliability per region type, trial counts (Fig. 1B)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.gridspec import GridSpec

from .. import data as dataset
from ..surface import HEMIS, N_VERTICES
from . import _surface as plotting

TYPE_COLOURS = {"visual": "#e07b1f", "language": "#7b4fb0", "invariant": "#2a9d5c", "medial": "#888888",
                "background": "#cccccc"}


def trial_counts(root, subjects) -> pd.DataFrame:
    """Distinct train stimuli per subject: seen as image, as caption, and in both (as in Fig. 1B)."""
    rows = []
    for s in subjects:
        t = dataset.read_trials(root, s)
        tr = t[t["split"] == "train"]
        img = set(tr.loc[tr["modality"] == "image", "stimulus_id"])
        cap = set(tr.loc[tr["modality"] == "caption", "stimulus_id"])
        rows.append({"subject": s, "images": len(img), "captions": len(cap), "both": len(img & cap),
                     "test_trials": int((t["split"] == "test").sum()),
                     "imagery_trials": int((t["split"] == "imagery").sum())})
    return pd.DataFrame(rows)


def region_types(atlas, planted) -> dict[str, np.ndarray]:
    """Per hemisphere, the region type of each vertex from the atlas label names."""
    types = planted.get("region_types", {}) if planted else {}
    out = {}
    for hemi, (labels, names) in atlas.items():
        arr = np.array(["background"] * labels.size, dtype=object)
        for key, name in names.items():
            if key != 0:
                arr[labels == key] = types.get(name, name)
        out[hemi] = arr
    return out


def split_half_reliability(root, subject: str, mesh: str, read_betas=None) -> dict:
    """Per vertex, the correlation across test stimuli between their two presentations, per modality.

    The first and second presentation of each test stimulus form the two halves; planted signal is reliable,
    noise is not.

    Parameters
    ----------
    root : str or Path
    subject : str
    mesh : str
    read_betas : callable, optional
        A real-data adapter's ``read_betas(hemi, trials, n_vertices)`` (:func:`amodal.data.adapters.betas_reader`);
        only the test trials are read through it. By default the layout's betas GIFTI.

    Returns
    -------
    dict
        ``{hemi: {modality: array of shape (n_vertices,)}}``.
    """
    trials = dataset.read_trials(root, subject)
    test = trials[trials["split"] == "test"]
    if not test.duplicated(["stimulus_id", "modality"]).any():  # one beta per stimulus (ds007272's GLM): no halves
        return {h: {m: np.full(N_VERTICES[mesh], np.nan) for m in ("image", "caption")} for h in HEMIS}
    if read_betas is not None:  # read the test trials alone (a real dataset's subject holds far more)
        trials = test.reset_index(drop=True).assign(trial=np.arange(len(test)))
    out = {}
    for hemi in HEMIS:
        b = (dataset.read_betas(root, subject, hemi, len(trials), N_VERTICES[mesh]) if read_betas is None
             else read_betas(hemi, trials, N_VERTICES[mesh])).astype(np.float64)
        out[hemi] = {}
        for modality in ("image", "caption"):
            t = trials[(trials["split"] == "test") & (trials["modality"] == modality)]
            rep = t.groupby("stimulus_id").cumcount()
            first = t[rep == 0].set_index("stimulus_id")["trial"]
            second = t[rep == 1].set_index("stimulus_id")["trial"]
            ids = first.index.intersection(second.index)
            if len(ids) < 3:
                out[hemi][modality] = np.full(b.shape[1], np.nan)
                continue
            x, y = b[first[ids].to_numpy()], b[second[ids].to_numpy()]
            x, y = x - x.mean(0), y - y.mean(0)
            den = np.sqrt((x ** 2).sum(0) * (y ** 2).sum(0))
            with np.errstate(invalid="ignore", divide="ignore"):
                out[hemi][modality] = np.where(den > 0, (x * y).sum(0) / den, np.nan)
    return out


def qc_figure(root, subjects, subject: str, mesh: str, out_path, planted=None, dpi: int = 110,
              read_betas=None) -> pd.DataFrame:
    """The dataset QC figure (as Fig. 1B): the atlas, one subject's split-half reliability per modality and
    region type, and the trial counts.

    Parameters
    ----------
    root : str or Path
    subjects : sequence of str
    subject : str
        The subject whose reliability is shown.
    mesh : str
    out_path : str or Path
    planted : dict, optional
        The synthetic ground truth (:func:`amodal.data.read_planted`), for region types and colours.
    dpi : int
    read_betas : callable, optional
        ``subject``'s betas reader on real data (:func:`split_half_reliability`).

    Returns
    -------
    pandas.DataFrame
        The trial counts (:func:`trial_counts`).
    """
    atlas = dataset.read_atlas(root)
    types = region_types(atlas, planted)
    rel = split_half_reliability(root, subject, mesh, read_betas)
    counts = trial_counts(root, subjects)

    fig = plt.figure(figsize=(13, 12))
    gs = GridSpec(4, 4, figure=fig, height_ratios=[1, 1, 1, 1.1], hspace=0.35)
    names = atlas["left"][1]
    n_labels = max(names) + 1
    if planted is not None:  # synthetic: regions coloured by their planted type
        cols = [TYPE_COLOURS["background"]] + [
            TYPE_COLOURS[planted.get("region_types", {}).get(names[k], "background")]
            if k in names else "#000000" for k in range(1, n_labels)]
        atlas_title = "planted atlas"
    else:  # a real parcellation: one colour per region
        cycle = plt.get_cmap("tab20").colors
        cols = [TYPE_COLOURS["background"]] + [cycle[k % len(cycle)] for k in range(1, n_labels)]
        atlas_title = f"atlas ({len(names) - (0 in names)} regions)"
    cmap = ListedColormap(cols)
    for k, (hemi, view) in enumerate(plotting.VIEWS):
        ax = fig.add_subplot(gs[0, k], projection="3d")
        lab = {h: atlas[h][0].astype(float) for h in HEMIS}
        plotting.plot_surface_map(ax, lab, hemi, view, mesh, kind="roi", cmap=cmap, vmin=0, vmax=n_labels - 1,
                                  title=f"{atlas_title}: {hemi} {view}")
    for row, modality in ((1, "image"), (2, "caption")):
        for k, (hemi, view) in enumerate(plotting.VIEWS):
            ax = fig.add_subplot(gs[row, k], projection="3d")
            data = {h: np.nan_to_num(rel[h][modality]) for h in HEMIS}
            none = all(np.isnan(rel[h][modality]).all() for h in HEMIS)
            plotting.plot_surface_map(ax, data, hemi, view, mesh, kind="stat", cmap="cold_hot", vmin=-0.5,
                                      vmax=0.5, threshold=None, colorbar=(k == 3),
                                      title=f"{subject}: split-half r, {modality} test trials"
                                      + (" (no repeats)" if none else ""))
    # per region type bars
    ax = fig.add_subplot(gs[3, 0:2])
    rtypes = [t for t in ("visual", "language", "invariant", "background") if any((types[h] == t).any()
                                                                                    for h in HEMIS)]
    width = 0.27
    for j, modality in enumerate(("image", "caption")):
        vals = [np.nanmean(np.concatenate([rel[h][modality][types[h] == t] for h in HEMIS])) for t in rtypes]
        ax.bar(np.arange(len(rtypes)) + (j - 0.5) * width, vals, width, label=f"{modality} test trials",
               color=["#e07b1f", "#7b4fb0"][j])
    ax.set_xticks(np.arange(len(rtypes)), rtypes)
    ax.set_ylabel("mean split-half reliability r")
    ax.set_title(f"{subject}: reliable signal per region type")
    ax.axhline(0.0, color="k", lw=0.5)
    ax.legend(fontsize=8)
    # Fig. 1B style counts
    ax = fig.add_subplot(gs[3, 2:4])
    x = np.arange(len(counts))
    ax.bar(x - 0.27, counts["images"], 0.27, label="images", color="#e07b1f")
    ax.bar(x, counts["captions"], 0.27, label="captions", color="#7b4fb0")
    ax.bar(x + 0.27, counts["both"], 0.27, label="overlap (both)", color="#2a9d5c")
    ax.set_xticks(x, counts["subject"], rotation=45)
    ax.set_ylabel("distinct training stimuli")
    ax.set_title("Training stimuli per subject and modality")
    ax.legend(fontsize=8)
    fig.suptitle("amodal dataset QC", fontsize=13)
    plotting.save(fig, out_path, dpi=dpi)
    return counts
