"""Searchlight figure helpers: counts in titles, and which vertices a view shows."""
import numpy as np

from amodal import viz
from amodal.viz._searchlight import _vertex_normals
from amodal.viz._surface import surface_assets


def test_cluster_phrase_counts():
    assert viz.cluster_phrase(1, 1) == "1 cluster, 1 vertex"
    assert viz.cluster_phrase(0, 0) == "0 clusters, 0 vertices"
    assert viz.cluster_phrase(4, 1993) == "4 clusters, 1993 vertices"


def test_facing_view_on_the_inflated_mesh():
    # the most lateral vertex of each hemisphere faces the lateral camera, the most medial one the medial camera
    inflated, _ = surface_assets("fsaverage5")
    for hemi, lateral in (("left", np.argmin), ("right", np.argmax)):
        part = inflated.parts[hemi]
        xyz = np.asarray(part.coordinates, float)
        normals = _vertex_normals(xyz, np.asarray(part.faces))
        out, inn = int(lateral(xyz[:, 0])), int((np.argmax if hemi == "left" else np.argmin)(xyz[:, 0]))
        assert viz.facing_view(normals, hemi, "lateral")[out] and not viz.facing_view(normals, hemi, "medial")[out]
        assert viz.facing_view(normals, hemi, "medial")[inn] and not viz.facing_view(normals, hemi, "lateral")[inn]
        # about half of the hemisphere faces each camera
        assert 0.3 < viz.facing_view(normals, hemi, "lateral").mean() < 0.7
