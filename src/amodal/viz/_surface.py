"""Surface plotting helpers on the inflated fsaverage mesh with a sulcal background (nilearn)."""

from __future__ import annotations

from functools import lru_cache

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ..surface import fsaverage_meshes, sulcal_depth

VIEWS = (("left", "lateral"), ("left", "medial"), ("right", "lateral"), ("right", "medial"))


@lru_cache(maxsize=4)
def surface_assets(mesh: str = "fsaverage5"):
    """The inflated mesh and the sulcal depth (the grey background) of ``mesh``, for plotting.

    Returns
    -------
    inflated : nilearn PolyMesh
    sulc : dict
        ``{hemi: array of shape (n_vertices,)}``.
    """
    return fsaverage_meshes(mesh)["inflated"], sulcal_depth(mesh)


def surface_axes(fig, gridspec_row, n_cols: int = 4):
    """One row of 3-D matplotlib axes, one per view of :data:`VIEWS`.

    Parameters
    ----------
    fig : matplotlib Figure
    gridspec_row : GridSpec row
    n_cols : int

    Returns
    -------
    list of 3-D axes
    """
    return [fig.add_subplot(gridspec_row[k], projection="3d") for k in range(n_cols)]


def plot_surface_map(ax, data_by_hemi: dict, hemi: str, view: str, mesh: str = "fsaverage5", *, kind="stat",
                     threshold=None, vmin=None, vmax=None, cmap="cold_hot", title=None, labels=None,
                     colorbar=False, symmetric=True):
    """Draw one hemisphere in one view into a 3-D matplotlib axis, on the inflated mesh with sulcal shading.

    Parameters
    ----------
    ax : matplotlib 3-D axis
    data_by_hemi : dict
        ``{hemi: array of shape (n_vertices,)}``.
    hemi : {"left", "right"}
    view : {"lateral", "medial"}
    mesh : str
    kind : {"stat", "roi"}
        A statistical map (nilearn's ``plot_surf_stat_map``) or a label map (``plot_surf_roi``).
    threshold, vmin, vmax : float, optional
    cmap : str or Colormap
    title : str, optional
    labels : list, optional
        Label names of an ROI map.
    colorbar : bool
    symmetric : bool
        Symmetric colour range around 0 (stat maps).
    """
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
    """Write ``fig`` (tight bounding box) and close it.

    Parameters
    ----------
    fig : matplotlib Figure
    path : str or Path
    dpi : int
    """
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
