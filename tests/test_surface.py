"""Meshes: fsaverage5 offline; any other resolution fetched by nilearn, or a clear error that says how to get it."""
import pytest

from amodal import surface
from amodal.errors import DataError


def test_fsaverage5_ships_offline():
    mesh = surface.load_mesh("fsaverage5")
    assert mesh["left"].n_vertices == surface.N_VERTICES["fsaverage5"]


@pytest.fixture
def offline(monkeypatch):
    """nilearn's fetchers as they fail with no internet access."""
    import nilearn.datasets

    def fail(name, *args, **kwargs):
        raise ConnectionError(f"Failed to resolve 'osf.io' for {name}")

    monkeypatch.setattr(nilearn.datasets, "load_fsaverage", fail)
    monkeypatch.setattr(nilearn.datasets, "load_fsaverage_data", fail)
    for cached in (surface.load_mesh, surface.fsaverage_meshes, surface.sulcal_depth):
        cached.cache_clear()
    yield
    for cached in (surface.load_mesh, surface.fsaverage_meshes, surface.sulcal_depth):
        cached.cache_clear()


def test_a_mesh_that_cannot_be_fetched_says_how_to_get_it(offline):
    with pytest.raises(DataError, match=r"fsaverage7 mesh is not on this machine.*ConnectionError.*"
                                        r"load_fsaverage\('fsaverage'\).*nilearn_data/fsaverage"):
        surface.load_mesh("fsaverage7")
    with pytest.raises(DataError, match="fsaverage7 mesh is not on this machine"):
        surface.require_mesh("fsaverage7")
    surface.require_mesh("fsaverage5")  # ships with nilearn: nothing fetched


def test_figures_get_their_mesh_through_the_same_loader(offline):
    """The QC figure called nilearn's fetcher itself and died with a raw ConnectionError."""
    from amodal.viz._surface import surface_assets

    surface_assets.cache_clear()
    with pytest.raises(DataError, match="fsaverage6 mesh is not on this machine"):
        surface_assets("fsaverage6")
    surface_assets.cache_clear()
