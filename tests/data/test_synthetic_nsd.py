"""The synthetic NSD (amodal.data.synthetic.generate_nsd), read back through the NSD adapter as the real download
is: NSD's regime (a shared test set, each subject's own train images, three repeats, sessions with their own
offsets) and the planted vertex types, each found in the betas where planted.json puts it and not elsewhere."""
import h5py
import numpy as np
import pytest
from PIL import Image

from amodal.data import _io, read_labels
from amodal.data.adapters import freesurfer, nsd
from amodal.data.synthetic import NSD_ATLAS, VERTEX_TYPES, generate_nsd, local_appearance, nsd_design
from amodal.data.synthetic._generator import rf_responses
from amodal.surface import N_VERTICES

NV = N_VERTICES["fsaverage5"]
CFG = {"n_subjects": 2, "n_shared": 50, "n_train": 450, "image_size": 32}  # 1,500 trials: two sessions each


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic-nsd")
    planted = generate_nsd(root / "nsd", root / "coco", CFG, seed=3, log=lambda *a: None)
    return root, planted


def _betas(root, subject, hemi, vertices):
    trials = nsd.index_subject(root / "nsd", subject)
    return trials, nsd.read_betas(root / "nsd", subject, hemi, trials, NV, vertices=vertices)


def _zscore_by_session(x, trials):
    out = np.empty_like(x)
    for rows in trials.groupby("session").indices.values():
        out[rows] = (x[rows] - x[rows].mean(0)) / x[rows].std(0)
    return out


def test_nsds_regime_through_the_adapter(tree):
    root, _ = tree
    tables = {s: nsd.index_subject(root / "nsd", s) for s in ("sub-01", "sub-02")}
    for t in tables.values():
        assert t["split"].value_counts().to_dict() == {"train": 1350, "test": 150}
        assert set(t.groupby("stimulus_id").size()) == {3} and t["session"].nunique() == 2
    test = [set(t.loc[t["split"] == "test", "stimulus_id"]) for t in tables.values()]
    train = [set(t.loc[t["split"] == "train", "stimulus_id"]) for t in tables.values()]
    assert test[0] == test[1] and len(test[0]) == 50  # one test set, seen by every subject
    assert not train[0] & train[1] and len(train[0]) == 450  # each subject's own train images
    out = root / "layout"
    counts = nsd.write_layout(root / "nsd", out, ["sub-01", "sub-02"], coco_root=root / "coco", log=lambda *a: None)
    assert counts["n_stimuli"] == 950
    assert _io.read_stimuli(out)["caption"].str.endswith(".").all()
    mask = nsd.read_nsdgeneral(root / "nsd", NV)
    assert all(1000 < m.sum() < 3000 for m in mask.values())
    # the atlas (dataset.atlas: planted), where NSD keeps its FreeSurfer folder: the nsdgeneral-like region
    atlas = [root / f"atlas_{h}.label.gii" for h in "LR"]
    freesurfer.write_atlas("fsaverage5", atlas, NSD_ATLAS, root / "nsd" / "nsddata" / "freesurfer", log=lambda *a: None)
    for path, m in zip(atlas, mask.values()):
        keys, table = read_labels(path)
        np.testing.assert_array_equal(np.array([table[k] for k in keys]) == "nsdgeneral", m)


def test_design_is_checked():
    with pytest.raises(ValueError, match="whole number of NSD sessions"):
        nsd_design({**CFG, "n_train": 451, "n_repeats": 3}, 0)
    with pytest.raises(ValueError, match="at most 1000"):
        nsd_design({**CFG, "n_shared": 1500, "n_repeats": 3}, 0)
    with pytest.raises(ValueError, match="unknown synthetic NSD setting"):
        generate_nsd("unused", "unused", {"n_sujbects": 2})


def test_sessions_have_their_own_offsets(tree):
    root, planted = tree
    rec = planted["subjects"]["sub-01"]["left"]
    trials, x = _betas(root, "sub-01", "left", np.array(rec["vertices"]))
    means = np.stack([x[rows].mean(0) for rows in trials.groupby("session").indices.values()])
    # session_offset_sd 1.0 between the two sessions' means, against a noise SE of about 1/sqrt(750)
    assert np.median(np.abs(means[0] - means[1])) > 0.5


def _planted(planted, subject, hemi, kind):
    rec = planted["subjects"][subject][hemi]
    sel = np.flatnonzero(np.array(rec["type"]) == kind)
    return rec, sel, np.array(rec["vertices"])[sel]


def test_receptive_fields_are_where_planted_json_puts_them(tree):
    root, planted = tree
    rec, sel, vertices = _planted(planted, "sub-01", "left", "rf-contrast")
    trials, x = _betas(root, "sub-01", "left", vertices)
    x = _zscore_by_session(x, trials)
    with h5py.File(nsd.images_path(root / "nsd"), "r") as f:
        local = local_appearance([Image.fromarray(im) for im in f["imgBrick"][:]])
    img = trials["stimulus_id"].astype(int).to_numpy()
    rf = {k: np.array(v)[sel] for k, v in rec["receptive_fields"].items()}
    contrast = np.tile([0.0, 0.0, 0.0, 1.0], (sel.size, 1))

    def median_r(fields):
        pred = rf_responses(local, fields, contrast)[img]
        pred = (pred - pred.mean(0)) / pred.std(0)
        return np.median((pred * x).mean(0))

    # every vertex's field moved to a vertex at the other side of the map: the fit must drop
    order = np.argsort(rf["x"] + rf["y"])
    far = np.empty_like(order)
    far[order] = order[::-1]
    assert median_r(rf) > 0.3
    assert median_r(rf) > median_r({k: v[far] for k, v in rf.items()}) + 0.15


def test_category_vertices_prefer_their_category(tree):
    root, planted = tree
    rec, _, vertices = _planted(planted, "sub-02", "right", "category")
    prefer = np.array(rec["types"]["category"]["preferred_category"])
    trials, x = _betas(root, "sub-02", "right", vertices)
    x = _zscore_by_session(x, trials)
    shown = [planted["image_categories"][int(i)] for i in trials["stimulus_id"]]
    has = np.array([[planted["categories"][c] in cats for c in prefer] for cats in shown])
    effect = np.array([x[has[:, v], v].mean() - x[~has[:, v], v].mean() for v in range(prefer.size)])
    assert np.median(effect) > 0.5
    shuffled = np.random.default_rng(0).permutation(prefer)  # another vertex's preference
    has_s = np.array([[planted["categories"][c] in cats for c in shuffled] for cats in shown])
    effect_s = np.array([x[has_s[:, v], v].mean() - x[~has_s[:, v], v].mean() for v in range(prefer.size)])
    assert np.median(effect) > np.median(effect_s) + 0.3


def test_every_type_has_vertices_in_every_subject(tree):
    _, planted = tree
    for subject, hemis in planted["subjects"].items():
        for hemi, rec in hemis.items():
            assert set(rec["type"]) == {t.name for t in VERTEX_TYPES}, (subject, hemi)
    # the layouts differ: a vertex index is not the same type in both subjects
    a, b = (planted["subjects"][s]["left"] for s in ("sub-01", "sub-02"))
    common = sorted(set(a["vertices"]) & set(b["vertices"]))
    ta, tb = (dict(zip(r["vertices"], r["type"])) for r in (a, b))
    assert np.mean([ta[v] == tb[v] for v in common]) < 0.6
