"""Searchlight figures in the style of the reference paper: Fig. 8 (accuracy maps and their min-t), Fig. 9
(thresholded modality-invariant TFCE map with regions outlined and labelled), Fig. 10 (imagery), App. 5."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import nibabel as nib
import numpy as np
import pandas as pd

from ..stats import map_name
from ..surface import HEMIS
from . import _surface as plotting


def _load(out_dir, mesh, desc, stat):
    return {h: np.asarray(nib.load(map_name(out_dir, h, mesh, desc, stat)).darrays[0].data, float) for h in HEMIS}


def _row(fig, gs, row, data, mesh, title, label, **kw):
    for k, (hemi, view) in enumerate(plotting.VIEWS):
        ax = fig.add_subplot(gs[row, k], projection="3d")
        plotting.plot_surface_map(ax, data, hemi, view, mesh, colorbar=False,
                                  title=f"{title}\n{hemi} {view}" if k == 0 else f"{hemi} {view}", **kw)
    _colorbar(fig, ax, kw["cmap"], kw["vmin"], kw["vmax"], kw.get("threshold"), label)


def fig8(group_dir, mesh, out, dpi=120):
    """Fig. 8: mean searchlight accuracy maps across subjects (agnostic and cross decoders) and the min-t map of
    the modality-invariant test, from the group stage's GIFTIs.

    Parameters
    ----------
    group_dir : str or Path
    mesh : str
    out : str or Path
    dpi : int
    """
    maps = [("agnostic_image", "modality-agnostic decoder, images"),
            ("agnostic_caption", "modality-agnostic decoder, captions"),
            ("captions_image", "captions decoder on images (cross)"),
            ("images_caption", "images decoder on captions (cross)")]
    fig = plt.figure(figsize=(13, 3.0 * (len(maps) + 1)))
    gs = fig.add_gridspec(len(maps) + 1, 4, hspace=0.3)
    for r, (desc, title) in enumerate(maps):
        data = _load(group_dir, mesh, desc, "mean")
        _row(fig, gs, r, data, mesh, f"mean pairwise accuracy: {title}", "accuracy", kind="stat", cmap="hot",
             vmin=0.5, vmax=0.8, threshold=None, symmetric=False)
    tmin = _load(group_dir, mesh, "mod_agnostic_and_cross", "t")
    vmax = max(3.0, float(np.nanmax([np.abs(v).max() for v in tmin.values()])))
    _row(fig, gs, len(maps), tmin, mesh, "minimum of the four t-maps", "t", kind="stat", cmap="cold_hot",
         vmin=-vmax, vmax=vmax, threshold=None)
    fig.suptitle("Searchlight: modality-agnostic and cross-modal decoding (mean over subjects)", fontsize=12)
    plotting.save(fig, out, dpi)


NOT_OUTLINED = ("background", "medial-wall", "unknown", "Unknown", "Medial_wall")


def figure9_regions(atlas, clusters: pd.DataFrame, test_map: str = "mod_agnostic_and_cross") -> list[int]:
    """Atlas keys of the regions that Fig. 9 outlines: those its significant clusters overlap (every region
    but background and the medial wall when there is none). Fig. 10 outlines the same regions, as in the paper.

    Parameters
    ----------
    atlas : dict
        ``{hemi: (labels, {key: name})}``.
    clusters : pandas.DataFrame
        The cluster table.
    test_map : str

    Returns
    -------
    list of int
    """
    names = atlas["left"][1]
    overl = set()
    for regions in clusters.loc[clusters.test_map == test_map, "regions"]:
        overl |= {r.split(":")[0].strip() for r in str(regions).split(";") if r.strip()}
    keys = [k for k, n in names.items() if n in overl and n not in NOT_OUTLINED]
    return keys or [k for k, n in names.items() if k != 0 and n not in NOT_OUTLINED]


def _colorbar(fig, ax, cmap, vmin, vmax, threshold, label):
    """A colour bar beside ``ax`` that does not shrink it (nilearn's per-axis bar narrows the last panel). Below
    the threshold, where the map shows the sulcal background, the bar is grey; the ticks are the threshold (the
    middle when there is none) and the ends, leaving out the lower end where it would crowd the threshold's
    label."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize

    pos = ax.get_position()
    cax = fig.add_axes([pos.x1 + 0.01, pos.y0 + 0.2 * pos.height, 0.01, 0.6 * pos.height])
    colours = plt.get_cmap(cmap)(np.linspace(0, 1, 256))
    if threshold is not None:
        colours[np.linspace(vmin, vmax, 256) < threshold] = (0.6, 0.6, 0.6, 1.0)
    bar = fig.colorbar(ScalarMappable(Normalize(vmin, vmax), ListedColormap(colours)), cax=cax)
    ticks = [vmax] + ([threshold] if threshold is not None else [(vmin + vmax) / 2])
    ticks += [vmin] if all(abs(t - vmin) > 0.12 * (vmax - vmin) for t in ticks) else []
    bar.set_ticks(sorted(ticks), labels=[f"{t:.3g}" for t in sorted(ticks)])
    bar.ax.tick_params(labelsize=8)
    bar.set_label(label, fontsize=8)


SMALL_CLUSTER = 10
"""Clusters with fewer vertices than this are circled at their peak: a few vertices cannot be seen on the mesh."""


def cluster_phrase(n_clusters: int, n_vertices: int) -> str:
    """``"1 cluster, 1 vertex"``, ``"4 clusters, 1993 vertices"``: the counts in a figure title."""
    return (f"{n_clusters} cluster{'' if n_clusters == 1 else 's'}, "
            f"{n_vertices} {'vertex' if n_vertices == 1 else 'vertices'}")


def facing_view(normals: np.ndarray, hemi: str, view: str) -> np.ndarray:
    """Whether each vertex faces the camera of a lateral or medial view.

    nilearn's lateral view looks at the left hemisphere from −x and at the right one from +x; the medial views the
    other way.

    Parameters
    ----------
    normals : array of shape (n_vertices, 3)
        Outward vertex normals.
    hemi : {"left", "right"}
    view : {"lateral", "medial"}

    Returns
    -------
    bool array of shape (n_vertices,)
    """
    toward = -1.0 if (hemi == "left") == (view == "lateral") else 1.0
    return normals[:, 0] * toward > 0


def _vertex_normals(coords: np.ndarray, faces: np.ndarray) -> np.ndarray:
    tri = coords[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    vn = np.zeros_like(coords, dtype=np.float64)
    for k in range(3):
        np.add.at(vn, faces[:, k], fn)
    return vn / np.maximum(np.linalg.norm(vn, axis=1, keepdims=True), 1e-12)


def _outlined(fig, gs, row, group_dir, mesh, test_map, atlas, clusters: pd.DataFrame, regions, title, summary):
    tf = _load(group_dir, mesh, test_map, "tfce")
    cutoff = summary["test_maps"].get(test_map, {}).get("tfce_cutoff", np.inf)
    vmax = max(cutoff * 1.5, max(float(v.max()) for v in tf.values()), 1e-6)
    sig = clusters[clusters.test_map == test_map]
    names = atlas["left"][1]
    from nilearn import plotting as nplt

    inflated, _ = plotting.surface_assets(mesh)
    colours = plt.get_cmap("tab10")  # by atlas key, so a region has the same colour in Figs 9 and 10
    normals = {h: _vertex_normals(np.asarray(inflated.parts[h].coordinates, dtype=float),
                                  np.asarray(inflated.parts[h].faces))
               for h in HEMIS if ((sig.hemi == h) & (sig["size"] < SMALL_CLUSTER)).any()}  # once per hemisphere
    for k, (hemi, view) in enumerate(plotting.VIEWS):
        ax = fig.add_subplot(gs[row, k], projection="3d")
        plotting.plot_surface_map(ax, tf, hemi, view, mesh, kind="stat", cmap="hot", vmin=0, vmax=vmax,
                                  threshold=cutoff if np.isfinite(cutoff) else None, symmetric=False,
                                  colorbar=False, title=f"{hemi} {view}")
        labels = atlas[hemi][0]
        present = [key for key in regions if np.any(labels == key)]
        if present:
            nplt.plot_surf_contours(surf_mesh=inflated.parts[hemi], roi_map=labels, levels=present,
                                    colors=[colours(key % 10) for key in present], axes=ax, figure=fig,
                                    legend=False)
        small = sig[(sig.hemi == hemi) & (sig["size"] < SMALL_CLUSTER)]
        if len(small):
            xyz = np.asarray(inflated.parts[hemi].coordinates, dtype=float)
            seen = facing_view(normals[hemi], hemi, view)
            peaks = [int(v) for v in small["peak_vertex"] if seen[int(v)]]
            if peaks:
                ax.computed_zorder = False  # mplot3d would otherwise sort the circle behind the surface
                ax.scatter(*xyz[peaks].T, s=90, facecolors="none", edgecolors="#00b4ff", linewidths=1.8,
                           depthshade=False, zorder=10)
    _colorbar(fig, ax, "hot", 0.0, vmax, cutoff if np.isfinite(cutoff) else None, "TFCE")
    handles = [plt.Line2D([], [], color=colours(key % 10), lw=2, label=names[key]) for key in regions]
    if len(sig) and (sig["size"] < SMALL_CLUSTER).any():
        handles.append(plt.Line2D([], [], ls="", marker="o", markersize=8, markerfacecolor="none",
                                  markeredgecolor="#00b4ff", label=f"cluster of < {SMALL_CLUSTER} vertices"))
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.2), ncol=min(len(handles), 6),
               fontsize=8, frameon=False, title="outlined atlas regions", title_fontsize=8)
    n_sig = int(sig["size"].sum()) if len(sig) else 0
    fig.suptitle(f"{title}\nTFCE thresholded at {cutoff:.0f} (FWER p ≤ {summary['p_threshold']}); "
                 f"{cluster_phrase(len(sig), n_sig)}", fontsize=11)


def tfce_figure(group_dir, mesh, atlas, clusters, summary, test_map, title, out, dpi=120, regions=None):
    """Figs 9 and 10: a test map's TFCE thresholded at its FWER cut-off, with atlas regions outlined.

    Parameters
    ----------
    group_dir : str or Path
        The group stage's output folder.
    mesh : str
    atlas : dict
    clusters : pandas.DataFrame
    summary : dict
        ``group.json``.
    test_map : str
    title : str
    out : str or Path
    dpi : int
    regions : list of int, optional
        Atlas keys to outline (default: those the map's own significant clusters overlap; Fig. 10 passes Fig. 9's).
    """
    fig = plt.figure(figsize=(13, 4))
    gs = fig.add_gridspec(1, 4, wspace=0.02)
    regions = figure9_regions(atlas, clusters, test_map) if regions is None else regions
    _outlined(fig, gs, 0, group_dir, mesh, test_map, atlas, clusters, regions, title, summary)
    plotting.save(fig, out, dpi)


def app5(tables: list[pd.DataFrame], out, dpi=120):
    """Appendix 5: searchlight accuracy against neighbourhood size, per region.

    Parameters
    ----------
    tables : list of pandas.DataFrame
        :func:`amodal.searchlight.size_sweep` tables, one per subject.
    out : str or Path
    dpi : int
    """
    t = pd.concat(tables, ignore_index=True)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, metric, title in ((axes[0], "acc_image", "images"), (axes[1], "acc_caption", "captions")):
        sub = t[t.metric == metric]
        for region, grp in sub.groupby("region"):
            if region in ("all", "background", "medial-wall"):
                continue
            m = grp.groupby(["subject", "n_neighbors"])["mean"].mean().groupby("n_neighbors").mean()
            ax.plot(m.index, m.values, marker="o", label=f"mean in {region}")
        allv = sub[sub.region == "all"].groupby(["subject", "n_neighbors"])["mean"].mean().groupby("n_neighbors").mean()
        ax.plot(allv.index, allv.values, marker="s", color="k", ls="--", label="whole cortex")
        ax.axhline(0.5, color="grey", lw=0.8, ls=":")
        ax.set_xscale("log")
        sizes = sorted(sub.n_neighbors.unique())
        ax.set_xticks(sizes, [str(s) for s in sizes])  # label the sizes that were run, not log-axis minor ticks
        ax.minorticks_off()
        ax.set_xlabel("searchlight size (vertices)")
        ax.set_title(f"modality-agnostic decoder, {title}")
    axes[0].set_ylabel("pairwise accuracy (mean over subjects)")
    axes[1].legend(fontsize=7, frameon=False)
    plotting.save(fig, out, dpi)


def all_figures(group_dir, mesh, atlas, size_tables, paths: dict, dpi=120):
    """Every searchlight figure (Figs 8–10, Appendix 5) from the group stage's outputs.

    Parameters
    ----------
    group_dir : str or Path
    mesh : str
    atlas : dict
    size_tables : list of pandas.DataFrame
    paths : dict
        Output path per figure name (``fig8_searchlight_accuracy``, ``fig9_modality_invariant``,
        ``fig10_imagery``, ``app5_neighbourhood_size``).
    dpi : int
    """
    clusters = pd.read_csv(Path(group_dir) / "clusters.tsv", sep="\t")
    summary = json.loads((Path(group_dir) / "group.json").read_text())
    fig8(group_dir, mesh, paths["fig8_searchlight_accuracy"], dpi)
    tfce_figure(group_dir, mesh, atlas, clusters, summary, "mod_agnostic_and_cross",
                "Modality-invariant regions (min of 4 t-maps, TFCE)", paths["fig9_modality_invariant"], dpi)
    tfce_figure(group_dir, mesh, atlas, clusters, summary, "imagery",
                "Imagery decoding (agnostic decoder, 73 candidates, TFCE)", paths["fig10_imagery"], dpi,
                regions=figure9_regions(atlas, clusters))
    app5(size_tables, paths["app5_neighbourhood_size"], dpi)
