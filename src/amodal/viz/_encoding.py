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


def ube_figure(scores: pd.DataFrame, retrieval: pd.DataFrame, clusters: dict, agreement: dict, mesh: str, out,
               subject: str, dpi: int = 110) -> None:
    """Draw the Universal Brain Encoder figure: joint versus single-subject training per region type, image
    retrieval, the transfer curve against training from scratch, and the k-means clusters of the vertex
    embeddings of one subject on the surface.

    Parameters
    ----------
    scores : pandas.DataFrame
        ``run`` (``joint``, ``single``, ``transfer_n<k>``, ``scratch_n<k>``), ``subject``, ``region_type``,
        ``r_median``, ``r_q25``, ``r_q75``, and ``n_images`` for the transfer runs.
    retrieval : pandas.DataFrame
        ``run``, ``subject``, ``top1``, ``top5``, ``chance_top1``, ``n_images``.
    clusters : dict
        ``{hemi: array}``: the cluster of every vertex of ``subject`` (1..k, NaN where masked).
    agreement : dict
        From :func:`amodal.encoding.ube_study.embedding_clusters`.
    mesh : str
    out : path
    subject : str
    dpi : int
    """
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(12, 8.5))
    gs = fig.add_gridspec(2, 4, height_ratios=[1.2, 1], hspace=0.55, wspace=0.35)
    ax = fig.add_subplot(gs[0, :2])
    paired = scores[scores["run"].isin(["joint", "single"])]
    types = [t for t in dict.fromkeys(paired["region_type"]) if t != "all"] or ["all"]
    for k, run in enumerate(("single", "joint")):
        med = [paired[(paired["run"] == run) & (paired["region_type"] == t)]["r_median"] for t in types]
        x = np.arange(len(types)) + (k - 0.5) * 0.38
        ax.bar(x, [m.mean() for m in med], 0.38, label=f"{run} (mean over subjects)", alpha=0.8)
        for xi, m in zip(x, med):
            ax.scatter(np.full(len(m), xi), m, s=8, color="k", zorder=3)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(np.arange(len(types)), types)
    ax.set_ylabel("median test r over vertices")
    ax.set_title("joint (all training subjects) versus single-subject training; dots: subjects", fontsize=9)
    ax.legend(fontsize=7)
    ax = fig.add_subplot(gs[0, 2])
    r = retrieval[retrieval["run"].isin(["joint", "single"])]
    for k, run in enumerate(("single", "joint")):
        v = r[r["run"] == run]["top1"]
        ax.bar(k, v.mean(), 0.6, alpha=0.8, color=f"C{k}")
        ax.scatter(np.full(len(v), k), v, s=8, color="k", zorder=3)
    if not r.empty:
        ax.axhline(float(r["chance_top1"].iloc[0]), color="grey", ls=":", lw=1, label="chance")
        ax.set_title(f"top-1 retrieval among {int(r['n_images'].iloc[0])} test images", fontsize=9)
        ax.legend(fontsize=7)
    ax.set_xticks([0, 1], ["single", "joint"])
    if not r.empty:  # room for the best subject and for chance, up to 1
        ax.set_ylim(0, min(1.0, 1.25 * max(float(r["top1"].max()), 3 * float(r["chance_top1"].iloc[0]))))
    ax = fig.add_subplot(gs[0, 3])
    tr = scores[scores["run"].str.match(r"(transfer|scratch)_n")]
    # per planted region type that carries signal (on real data: every vertex), as the median over all vertices
    # is dominated by the vertices no image drives
    shown = [t for t in dict.fromkeys(tr["region_type"]) if t not in ("all", "background", "cortex")] or ["all"]
    for j, t in enumerate(shown):
        for kind, style in (("transfer", "o-"), ("scratch", "s--")):
            d = tr[tr["run"].str.startswith(kind) & (tr["region_type"] == t)].sort_values("n_images")
            ax.plot(d["n_images"], d["r_median"], style, color=f"C{j}")
    from matplotlib.lines import Line2D

    keys = [Line2D([], [], color="k", ls="-", marker="o", label="transfer (new embeddings only)"),
            Line2D([], [], color="k", ls="--", marker="s", label="from scratch")]
    keys += [Line2D([], [], color=f"C{j}", lw=3, label=t) for j, t in enumerate(shown)] if len(shown) > 1 else []
    ax.legend(handles=keys, fontsize=6, loc="upper left")
    if not tr.empty:
        ax.set_xticks(sorted(set(tr["n_images"].astype(int))))
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("train images of the held-out subject")
    ax.set_ylabel("median test r" + (" (all vertices)" if shown == ["all"] else ""))
    who = tr["subject"].iloc[0] if not tr.empty else "?"
    ax.set_title(f"transfer to {who}", fontsize=9)
    k = int(agreement.get("n_clusters", 0))
    for ax, (hemi, view) in zip(surface_axes(fig, [gs[1, c] for c in range(4)]), VIEWS):
        plot_surface_map(ax, clusters, hemi, view, mesh, kind="roi", cmap="tab10", vmin=1, vmax=10,
                         title=f"{hemi} {view}")
    ari, vi = agreement.get("ari_all_types"), agreement.get("ari_visual_invariant")
    if ari is None or np.isnan(ari):
        truth = "no planted region types to compare with"
    else:
        vi = "n/a" if vi is None or np.isnan(vi) else f"{vi:.2f}"
        truth = f"adjusted Rand index with the planted region types {ari:.2f}, visual vs invariant {vi}"
    top = gs[1, 0].get_position(fig).y1
    fig.text(0.5, top + 0.01, f"k-means (k = {k}) of the vertex embeddings of every training subject, drawn on "
             f"{subject}; {truth}", ha="center", fontsize=9)
    save(fig, out, dpi)
