"""Surface plotting helpers on the inflated fsaverage mesh with a sulcal background (nilearn)."""

from __future__ import annotations

from functools import lru_cache

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import HEMIS  # noqa: E402

VIEWS = (("left", "lateral"), ("left", "medial"), ("right", "lateral"), ("right", "medial"))


@lru_cache(maxsize=4)
def surface_assets(mesh: str = "fsaverage5"):
    """(inflated PolyMesh, {hemi: sulcal depth}) for plotting."""
    from nilearn.datasets import load_fsaverage, load_fsaverage_data

    name = "fsaverage" if mesh == "fsaverage7" else mesh
    inflated = load_fsaverage(name)["inflated"]
    sulc = load_fsaverage_data(mesh=name, mesh_type="inflated", data_type="sulcal")
    return inflated, {h: np.asarray(sulc.data.parts[h]).ravel() for h in HEMIS}


def surface_axes(fig, gridspec_row, n_cols: int = 4):
    return [fig.add_subplot(gridspec_row[k], projection="3d") for k in range(n_cols)]


def plot_surface_map(ax, data_by_hemi: dict, hemi: str, view: str, mesh: str = "fsaverage5", *, kind="stat",
                     threshold=None, vmin=None, vmax=None, cmap="cold_hot", title=None, labels=None,
                     colorbar=False, symmetric=True):
    """Draw one hemisphere/view into a 3-D matplotlib axis. ``kind`` is 'stat' or 'roi'."""
    from nilearn import plotting

    inflated, sulc = surface_assets(mesh)
    fig = ax.figure
    common = dict(surf_mesh=inflated.parts[hemi], hemi=hemi, view=view, bg_map=sulc[hemi], axes=ax,
                  figure=fig)
    if kind == "roi":
        plotting.plot_surf_roi(roi_map=np.asarray(data_by_hemi[hemi]), cmap=cmap, colorbar=colorbar,
                               vmin=vmin, vmax=vmax, **common)
    else:
        plotting.plot_surf_stat_map(stat_map=np.asarray(data_by_hemi[hemi], dtype=float), threshold=threshold,
                                    vmin=vmin, vmax=vmax, cmap=cmap, colorbar=colorbar,
                                    symmetric_cbar=symmetric, **common)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def save(fig, path, dpi: int = 110) -> None:
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
