"""The voxelwise encoder's figure: group maps of r and of r over its noise ceiling, per-subject medians by region
type, and image retrieval from measured fMRI."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._surface import VIEWS, plot_surface_map, save, surface_axes


def encoding_figure(maps: dict, summary: pd.DataFrame, retrieval: pd.DataFrame, mesh: str, out, model: str,
                    dpi: int = 110) -> None:
    """Draw the encoder figure.

    Parameters
    ----------
    maps : dict
        ``{"r": {hemi: array}, "r_normalized": {hemi: array}}``: maps on the full mesh (the subjects' median).
    summary : pandas.DataFrame
        The encoding summary (``subject``, ``model``, ``region_type``, ``r_median``, ``r_q25``, ``r_q75``,
        ``ceiling_median``).
    retrieval : pandas.DataFrame
        ``subject``, ``model``, ``top1``, ``top5``, ``mean_rank``, ``n_images``, ``chance_top1``, ``chance_top5``.
    mesh : str
    out : path
    model : str
        The feature model drawn.
    dpi : int
    """
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(12, 9.5))
    gs = fig.add_gridspec(3, 4, height_ratios=[1, 1, 1.15], hspace=0.3)
    vmax_r = float(np.nanpercentile(np.concatenate([v for v in maps["r"].values()]), 99.5)) or 0.1
    rows = ((maps["r"], "median test r (predicted vs measured)", max(vmax_r, 0.05)),
            (maps["r_normalized"], "median r / noise ceiling", 1.0))
    for row, (m, label, vmax) in enumerate(rows):
        for ax, (hemi, view) in zip(surface_axes(fig, [gs[row, k] for k in range(4)]), VIEWS):
            plot_surface_map(ax, m, hemi, view, mesh, vmin=0, vmax=vmax, cmap="inferno", symmetric=False,
                             threshold=1e-6, title=f"{hemi} {view}" if row == 0 else None)
        fig.text(0.5, 0.905 - row * 0.29, f"{label} ({model}; colour scale 0 to {vmax:.2f})", ha="center",
                 fontsize=10)
    s = summary[(summary["model"] == model) & (summary["region_type"] != "all")]
    if s.empty:
        s = summary[summary["model"] == model]
    ax = fig.add_subplot(gs[2, :3])
    types = list(dict.fromkeys(s["region_type"]))
    subjects = list(dict.fromkeys(s["subject"]))
    width = 0.8 / max(len(types), 1)
    for k, t in enumerate(types):
        d = s[s["region_type"] == t].set_index("subject").reindex(subjects)
        x = np.arange(len(subjects)) + (k - (len(types) - 1) / 2) * width
        ax.bar(x, d["r_median"], width, label=t, yerr=[d["r_median"] - d["r_q25"], d["r_q75"] - d["r_median"]],
               capsize=2, alpha=0.85)
        ax.scatter(x, d["ceiling_median"], marker="_", s=120, color="k", zorder=3,
                   label="median noise ceiling" if k == 0 else None)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(np.arange(len(subjects)), subjects, fontsize=8)
    ax.set_ylabel("test r (median, 25–75% over vertices)")
    ax.legend(fontsize=7, ncol=len(types) + 1, loc="upper left")
    ax.set_title("voxelwise banded ridge: per-vertex prediction accuracy by region type", fontsize=9)
    ax2 = fig.add_subplot(gs[2, 3])
    r = retrieval[retrieval["model"] == model].set_index("subject").reindex(subjects)
    x = np.arange(len(subjects))
    ax2.bar(x - 0.2, r["top1"], 0.4, label="top-1")
    ax2.bar(x + 0.2, r["top5"], 0.4, label="top-5")
    ax2.axhline(float(r["chance_top1"].iloc[0]), color="C0", ls=":", lw=1, label="chance top-1")
    ax2.axhline(float(r["chance_top5"].iloc[0]), color="C1", ls=":", lw=1, label="chance top-5")
    ax2.set_xticks(x, subjects, fontsize=7, rotation=45)
    ax2.set_ylim(0, 1)
    ax2.set_title(f"image retrieval among {int(r['n_images'].iloc[0])} test images", fontsize=9)
    ax2.legend(fontsize=6)
    save(fig, out, dpi)
