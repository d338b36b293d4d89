"""Cortical surface meshes, hemisphere names, adjacency and smoothing on the mesh graph."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from .errors import DataError

HEMIS = ("left", "right")
"""Hemisphere names, in the order every two-hemisphere array of amodal stacks them."""
HEMI_BIDS = {"left": "L", "right": "R"}
"""BIDS ``hemi-`` letter of each hemisphere."""


def hemi_from_bids(letter: str) -> str:
    """The hemisphere name (``"left"``/``"right"``) of a BIDS ``hemi-`` letter (``"L"``/``"R"``)."""
    for name, bids in HEMI_BIDS.items():
        if bids == letter:
            return name
    raise DataError(f"unknown hemisphere letter {letter!r}; BIDS uses {sorted(HEMI_BIDS.values())}")

N_VERTICES = {"fsaverage3": 642, "fsaverage4": 2562, "fsaverage5": 10242, "fsaverage6": 40962,
              "fsaverage7": 163842, "fsaverage": 163842}


@dataclass(frozen=True)
class HemiMesh:
    coords: np.ndarray  # (n_vertices, 3) float
    faces: np.ndarray  # (n_faces, 3) int

    @property
    def n_vertices(self) -> int:
        return int(self.coords.shape[0])


SHIPPED = ("fsaverage5",)
"""Meshes that nilearn ships (no download); the others are fetched once into nilearn's data folder."""


def _fetched(resolution: str, what: str, fetch):
    """``fetch()``'s result, or a :class:`DataError` that says what to download and where, when nilearn cannot fetch
    it (offline its fetcher raises requests' ConnectionError, and others)."""
    name = "fsaverage" if resolution == "fsaverage7" else resolution
    try:
        return fetch(name)
    except Exception as exc:
        raise DataError(
            f"the {resolution} {what} is not on this machine and nilearn could not fetch it ({type(exc).__name__}: "
            f"{str(exc)[:200]}). On a machine with internet access run: python -c \"from nilearn.datasets import "
            f"load_fsaverage, load_fsaverage_data; load_fsaverage('{name}'); load_fsaverage_data('{name}', "
            f"'inflated')\", then copy its nilearn_data/{name} folder into this machine's nilearn data folder "
            f"($NILEARN_DATA, or ~/nilearn_data)") from exc


def _check_resolution(resolution: str) -> None:
    if resolution not in N_VERTICES:
        raise DataError(f"unknown mesh resolution {resolution!r}; known: {sorted(N_VERTICES)}")


@lru_cache(maxsize=8)
def fsaverage_meshes(resolution: str = "fsaverage5") -> dict:
    """nilearn's fsaverage meshes of ``resolution`` (``{kind: PolyMesh}``, as ``load_fsaverage`` gives them): the one
    loader of every mesh amodal uses (fsaverage5 ships with nilearn; offline, another resolution fails at once with
    a :class:`DataError` naming what to download and where to put it)."""
    from nilearn.datasets import load_fsaverage

    _check_resolution(resolution)
    return _fetched(resolution, "mesh", load_fsaverage)


@lru_cache(maxsize=4)
def sulcal_depth(resolution: str = "fsaverage5") -> dict[str, np.ndarray]:
    """The inflated mesh's sulcal depth, ``{hemi: array (n_vertices,)}`` (figures' grey background), through the same
    fetcher and message as :func:`fsaverage_meshes`."""
    from nilearn.datasets import load_fsaverage_data

    _check_resolution(resolution)
    sulc = _fetched(resolution, "sulcal depth",
                    lambda name: load_fsaverage_data(mesh=name, mesh_type="inflated", data_type="sulcal"))
    return {h: np.asarray(sulc.data.parts[h]).ravel() for h in HEMIS}


def require_mesh(resolution: str) -> None:
    """Stop at once when the mesh (or its sulcal depth, for figures) cannot be had: the workflow calls this when it
    starts, not after hours of preprocessing. Nothing is loaded for a mesh that ships with nilearn."""
    _check_resolution(resolution)
    if resolution not in SHIPPED:
        fsaverage_meshes(resolution)
        sulcal_depth(resolution)


@lru_cache(maxsize=8)
def load_mesh(resolution: str = "fsaverage5", kind: str = "inflated") -> dict[str, HemiMesh]:
    """One fsaverage mesh as arrays, ``{hemi: HemiMesh}`` (through :func:`fsaverage_meshes`)."""
    meshes = fsaverage_meshes(resolution)
    if kind not in meshes:
        raise DataError(f"mesh kind {kind!r} not available for {resolution}; available: {sorted(meshes)}")
    poly = meshes[kind]
    return {h: HemiMesh(np.asarray(poly.parts[h].coordinates, dtype=np.float64),
                        np.asarray(poly.parts[h].faces, dtype=np.int64)) for h in HEMIS}


def group_surfaces(resolution: str = "fsaverage5") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{hemi: (faces, coords)}``: the inflated mesh's triangles (for vertex adjacency) and the pial coordinates
    (reported in cluster tables), as :func:`amodal.stats.group_analysis` uses them."""
    inflated, pial = load_mesh(resolution, "inflated"), load_mesh(resolution, "pial")
    return {h: (inflated[h].faces, pial[h].coords) for h in HEMIS}


def ico_mesh(grade: int):
    """MNE's icosahedral sphere of the given subdivision grade (radius 100 mm): ico-7 has fsaverage7's topology
    (163,842 vertices), ico-5 fsaverage5's. Ships with MNE, so benchmarks and calibration need no download.
    Uses ``mne.surface._get_ico_surface`` (private, stable since MNE 0.x; no public equivalent returns it)."""
    import mne

    surf = mne.surface._get_ico_surface(grade)
    return np.asarray(surf["rr"], np.float64) * 100, np.asarray(surf["tris"], np.int64)


def adjacency(faces: np.ndarray, n_vertices: int | None = None) -> sp.csr_matrix:
    """Symmetric 0/1 vertex adjacency over triangle edges (no self loops)."""
    faces = np.asarray(faces, dtype=np.int64)
    n = int(faces.max()) + 1 if n_vertices is None else int(n_vertices)
    i = np.concatenate([faces[:, 0], faces[:, 1], faces[:, 2]])
    j = np.concatenate([faces[:, 1], faces[:, 2], faces[:, 0]])
    a = sp.coo_matrix((np.ones(i.size, dtype=np.float32), (i, j)), shape=(n, n)).tocsr()
    a = ((a + a.T) > 0).astype(np.float32)
    a.setdiag(0)
    a.eliminate_zeros()
    return a.tocsr()


def smoothing_operator(faces: np.ndarray, n_vertices: int) -> sp.csr_matrix:
    """Row-stochastic operator that averages each vertex with its mesh neighbours."""
    a = adjacency(faces, n_vertices) + sp.identity(n_vertices, dtype=np.float32, format="csr")
    deg = np.asarray(a.sum(axis=1)).ravel()
    return (sp.diags(1.0 / deg) @ a).tocsr()


def smooth(data: np.ndarray, operator: sp.csr_matrix, n_iter: int) -> np.ndarray:
    """Smooth ``data`` by ``n_iter`` neighbour-averaging steps on the mesh graph.

    Parameters
    ----------
    data : array of shape (n_vertices,) or (n_vertices, n_maps)
    operator : sparse matrix of shape (n_vertices, n_vertices)
        :func:`smoothing_operator`.
    n_iter : int

    Returns
    -------
    float64 array of the shape of ``data``
    """
    out = np.asarray(data, dtype=np.float64)
    for _ in range(int(n_iter)):
        out = operator @ out
    return out
