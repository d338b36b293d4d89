"""Meshes: fsaverage5 offline; any other resolution fetched by nilearn, or a clear error that says how to get it."""
import pytest

from amodal import surface
from amodal.errors import DataError


def test_fsaverage5_ships_offline():
    mesh = surface.load_mesh("fsaverage5")
    assert mesh["left"].n_vertices == surface.N_VERTICES["fsaverage5"]


def test_a_mesh_that_cannot_be_fetched_says_how_to_get_it(monkeypatch):
    import nilearn.datasets

    def offline(name):
        raise ConnectionError(f"Failed to resolve 'osf.io' for {name}")

    monkeypatch.setattr(nilearn.datasets, "load_fsaverage", offline)
    surface.load_mesh.cache_clear()
    with pytest.raises(DataError, match=r"fsaverage7 mesh is not on this machine.*ConnectionError.*"
                                        r"load_fsaverage\('fsaverage'\).*nilearn_data/fsaverage"):
        surface.load_mesh("fsaverage7")
    surface.load_mesh.cache_clear()
