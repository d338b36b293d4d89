"""The synthetic dataset: deterministic, readable images and captions, signal exactly where planted."""
import json

import numpy as np
import pandas as pd
from PIL import Image

from amodal import data
from amodal.surface import HEMIS, N_VERTICES
from amodal.data import synthetic

from ..conftest import small_cfg


def _cv_r2(y, x, rng):
    """Cross-validated (2-fold) R^2 of each column of y predicted from x by ridge (alpha = 100)."""
    n = y.shape[0]
    idx = rng.permutation(n)
    a, b = idx[: n // 2], idx[n // 2:]
    out = []
    for tr, te in ((a, b), (b, a)):
        xm, ym = x[tr].mean(0), y[tr].mean(0)
        xc = x[tr] - xm
        coef = np.linalg.solve(xc.T @ xc + 100.0 * np.eye(x.shape[1]), xc.T @ (y[tr] - ym))
        pred = (x[te] - xm) @ coef + ym
        ss_res = ((y[te] - pred) ** 2).sum(0)
        ss_tot = ((y[te] - y[te].mean(0)) ** 2).sum(0)
        out.append(1 - ss_res / ss_tot)
    return np.mean(out, axis=0)


def _sources_by_trial(root, subject, cfg):
    stim, all_scenes = synthetic.make_stimuli(cfg, 7)
    images = [Image.open(root / "stimuli" / f) .convert("RGB") for f in stim["image_file"]]
    src = synthetic.stimulus_sources(stim, all_scenes, images)
    trials = data.read_trials(root, subject)
    rows = trials["stimulus_id"].map({s: i for i, s in enumerate(stim["id"])}).to_numpy()
    return src, trials, rows


def test_generator_is_deterministic(tmp_path, small_dataset):
    cfg = small_cfg(n_subjects=1)
    synthetic.generate(cfg, 7, tmp_path / "a", log=lambda *a: None)
    synthetic.generate(cfg, 7, tmp_path / "b", log=lambda *a: None)
    synthetic.generate(cfg, 8, tmp_path / "c", log=lambda *a: None)
    ta = data.read_trials(tmp_path / "a", "sub-01")
    pd.testing.assert_frame_equal(ta, data.read_trials(tmp_path / "b", "sub-01"))
    ba = data.read_betas(tmp_path / "a", "sub-01", "left", len(ta), N_VERTICES["fsaverage5"])
    bb = data.read_betas(tmp_path / "b", "sub-01", "left", len(ta), N_VERTICES["fsaverage5"])
    np.testing.assert_array_equal(ba, bb)
    image = "stimuli/images/s00001.png"
    assert (tmp_path / "a" / image).read_bytes() == (tmp_path / "b" / image).read_bytes()
    tc = data.read_trials(tmp_path / "c", "sub-01")
    assert not ta["stimulus_id"].equals(tc["stimulus_id"])
    # a subject's data do not depend on how many other subjects are generated
    t2 = data.read_trials(small_dataset, "sub-01")
    pd.testing.assert_frame_equal(ta, t2)


def test_layout_and_counts(small_dataset):
    cfg = small_cfg()
    stim = data.read_stimuli(small_dataset)
    assert len(stim) == cfg["n_train_pool"] + cfg["n_test"] + cfg["n_imagery_pool"]
    tests = []
    for s in ("sub-01", "sub-02"):
        t = data.read_trials(small_dataset, s, stimulus_ids=stim["id"])
        tr = t[t.split == "train"]
        img, cap = set(tr[tr.modality == "image"].stimulus_id), set(tr[tr.modality == "caption"].stimulus_id)
        assert len(img) == cfg["n_train_images"] and len(cap) == cfg["n_train_captions"]
        assert len(img & cap) == cfg["n_overlap"]
        assert (t.split == "imagery").sum() == cfg["n_imagery"]
        te = t[t.split == "test"]
        assert len(te) == 2 * cfg["n_test"] * cfg["n_test_repeats"]
        tests.append(set(te.stimulus_id))
        assert not (set(tr.stimulus_id) & tests[-1])
    assert tests[0] == tests[1] and len(tests[0]) == cfg["n_test"]
    for f in ("atlas/atlas_hemi-L.label.gii", "atlas/atlas_hemi-R.label.gii", "atlas/planted.json",
              "sub-01/sub-01_hemi-L_betas.func.gii", "dataset_description.json"):
        assert (small_dataset / f).is_file()


def test_images_show_the_caption(small_dataset):
    """Each image is a rendered scene, not noise, and its caption names what it shows."""
    stim = data.read_stimuli(small_dataset)
    cfg = small_cfg()
    _, all_scenes = synthetic.make_stimuli(cfg, 7)
    for k in range(20):
        scene, cap = all_scenes[k], stim["caption"].iloc[k]
        assert cap == synthetic.caption(scene)
        for o in scene.objects:
            assert o.category in cap and o.colour in cap
        img = np.asarray(Image.open(small_dataset / "stimuli" / stim["image_file"].iloc[k]).convert("RGB"))
        for o in scene.objects:  # the object's colour is present at its position
            cx, cy = int(synthetic.HPOS[o.hpos] * img.shape[1]), int(synthetic.VPOS[o.vpos] * img.shape[0])
            patch = img[max(cy - 4, 0): cy + 5, max(cx - 4, 0): cx + 5].reshape(-1, 3).astype(int)
            d = np.abs(patch - np.array(synthetic.COLOURS[o.colour])).sum(1)
            assert d.min() < 30, (cap, o)
        # flat regions: a rendered scene has few distinct colours (noise textures have thousands)
        assert len(np.unique(img.reshape(-1, 3), axis=0)) < 200


def _region_r2(root, cfg, subject="sub-01"):
    planted = json.loads(data.planted_json(root).read_text())
    src, trials, rows = _sources_by_trial(root, subject, cfg)
    gen = np.random.default_rng(1)
    out = {}
    for hemi in HEMIS:
        b = data.read_betas(root, subject, hemi, len(trials), N_VERTICES["fsaverage5"]).astype(float)
        regions = [r for r in planted["subjects"][subject] if r["hemi"] == hemi and r["type"] != "medial"]
        inside = np.zeros(b.shape[1], bool)
        for r in regions:
            inside[r["vertices"]] = True
        background = np.flatnonzero(~inside & (b.std(0) > 0))
        for r in regions:
            v = np.array(r["vertices"])
            for modality in ("image", "caption"):
                sel = ((trials.modality == modality) & (trials.split != "imagery")).to_numpy()
                for stype in ("visual", "language", "invariant"):
                    x = src[stype][rows[sel]]
                    out[(hemi, r["name"], r["type"], modality, stype)] = (
                        float(np.median(_cv_r2(b[sel][:, v], x, gen))),
                        float(np.median(_cv_r2(b[sel][:, background[::20]], x, gen))))
    return out


def test_signal_lies_where_planted(small_dataset):
    res = _region_r2(small_dataset, small_cfg())
    expected = {("visual", "image", "visual"), ("language", "caption", "language"),
                ("invariant", "image", "invariant"), ("invariant", "caption", "invariant")}
    for (hemi, name, rtype, modality, stype), (r2_in, r2_bg) in res.items():
        if (rtype, modality, stype) in expected:
            # background vertices give the chance level of this over-parameterised fit
            assert r2_in > r2_bg + 0.1, (hemi, name, modality, stype, r2_in, r2_bg)
        elif rtype in ("visual", "language") and (rtype, modality) in (("visual", "caption"),
                                                                      ("language", "image")):
            # a modality-specific region is silent on the other modality, whatever the source
            assert r2_in < r2_bg + 0.06, (hemi, name, modality, stype, r2_in, r2_bg)


def test_snr_zero_plants_nothing(null_dataset):
    res = _region_r2(null_dataset, small_cfg(snr=0.0))
    excess = np.array([r2_in - r2_bg for r2_in, r2_bg in res.values()])
    # no region is explained by any source beyond the chance level that background vertices give
    assert np.abs(excess).max() < 0.06, res  # planted regions give > 0.2
    planted = json.loads(data.planted_json(null_dataset).read_text())
    assert all(r["gain"] == 0 for r in planted["subjects"]["sub-01"])


def test_disjoint_train_gives_each_subject_its_own_training_stimuli():
    cfg = small_cfg(n_subjects=3, n_train_pool=700, disjoint_train=True)
    stim, _ = synthetic.make_stimuli(cfg, 7)
    trials = {s: synthetic.make_trials(stim, cfg, 7, s) for s in ("sub-01", "sub-02", "sub-03")}
    train = {s: set(t.loc[t.split == "train", "stimulus_id"]) for s, t in trials.items()}
    test = {s: set(t.loc[t.split == "test", "stimulus_id"]) for s, t in trials.items()}
    assert all(len(v) == 220 for v in train.values())
    assert not (train["sub-01"] & train["sub-02"]) and not (train["sub-01"] & train["sub-03"])
    assert not (train["sub-02"] & train["sub-03"])
    assert test["sub-01"] == test["sub-02"] == test["sub-03"] and len(test["sub-01"]) == 30
    # shared training stimuli by default (the reference study's design)
    shared = small_cfg(n_subjects=3, n_train_pool=700)
    a, b = (set(synthetic.make_trials(stim, shared, 7, s).query("split == 'train'").stimulus_id)
            for s in ("sub-01", "sub-02"))
    assert len(a & b) > 20


def test_disjoint_train_needs_a_pool_for_every_subject():
    import pytest

    from amodal.config import ConfigError, _check_consistency

    with pytest.raises(ConfigError, match="disjoint_train"):
        _check_consistency({"synthetic": small_cfg(n_subjects=3, disjoint_train=True)})  # 3 x 220 > 300
    _check_consistency({"synthetic": small_cfg(n_subjects=1, disjoint_train=True)})


def test_receptive_fields_form_a_smooth_retinotopic_map():
    from amodal.surface import load_mesh, smoothing_operator

    sphere = load_mesh("fsaverage5", "sphere")["left"]
    units = sphere.coords / np.linalg.norm(sphere.coords, axis=1, keepdims=True)
    tpl = synthetic.TEMPLATES[0]
    centre = synthetic._generator._direction(tpl, "left")
    inside = np.flatnonzero(synthetic._generator.region_profile(units, centre, tpl.radius_deg) > 0)
    rf = synthetic.receptive_fields(units[inside], centre, tpl.radius_deg)
    # the region covers most of the image
    assert rf["x"].min() < 0.2 and rf["x"].max() > 0.8 and rf["y"].min() < 0.2 and rf["y"].max() > 0.8
    # neighbours on the mesh see neighbouring parts of the image: mesh edges inside the region are short in
    # the image compared with random pairs of the region's vertices
    pos = np.full((units.shape[0], 2), np.nan)
    pos[inside] = np.c_[rf["x"], rf["y"]]
    edges = sphere.faces[:, [0, 1]]
    edges = edges[np.isfinite(pos[edges]).all(axis=(1, 2))]
    step = np.linalg.norm(pos[edges[:, 0]] - pos[edges[:, 1]], axis=1)
    pairs = np.random.default_rng(0).choice(inside, size=(2000, 2))
    spread = np.linalg.norm(pos[pairs[:, 0]] - pos[pairs[:, 1]], axis=1)
    assert np.median(step) < 0.2 * np.median(spread)
    # sizes grow with eccentricity
    ecc = np.hypot(rf["x"] - 0.5, rf["y"] - 0.5)
    assert np.corrcoef(ecc, rf["size"])[0, 1] > 0.99
    assert smoothing_operator  # the mesh helpers the generator uses import cleanly


def test_visual_vertices_respond_to_their_planted_receptive_field(tmp_path):
    cfg = small_cfg(n_subjects=1, receptive_fields=True, snr=2.0, n_train_pool=500, n_train_images=400)
    synthetic.generate(cfg, 7, tmp_path, log=lambda *a: None)
    planted = json.loads(data.planted_json(tmp_path).read_text())
    assert planted["receptive_fields"] is True
    region = next(r for r in planted["subjects"]["sub-01"] if r["type"] == "visual" and r["hemi"] == "left")
    rf = {k: np.asarray(v) for k, v in region["receptive_fields"].items()}
    vertices = np.asarray(region["vertices"])
    stim, _ = synthetic.make_stimuli(cfg, 7)
    images = [Image.open(tmp_path / "stimuli" / f).convert("RGB") for f in stim["image_file"]]
    local = synthetic.local_appearance(images)  # (n_stimuli, 16, 16, 4)
    trials = data.read_trials(tmp_path, "sub-01")
    betas = data.read_betas(tmp_path, "sub-01", "left", len(trials), N_VERTICES["fsaverage5"])
    img = (trials.modality == "image").to_numpy()
    rows = trials.loc[img, "stimulus_id"].map({s: i for i, s in enumerate(stim["id"])}).to_numpy()
    # for vertices with small receptive fields away from the centre, which cell of the image explains their
    # responses best (cross-validated R^2 of a ridge on that cell's 4 channels): the planted one
    pick = np.flatnonzero((rf["size"] < 0.1) & (np.hypot(rf["x"] - 0.5, rf["y"] - 0.5) > 0.15))[:60]
    assert pick.size >= 30
    y = betas[img][:, vertices[pick]]
    g = synthetic.RF_GRID
    r2 = np.stack([_cv_r2(y, local[rows, cy, cx], np.random.default_rng(0)) for cy in range(g) for cx in range(g)])
    best = np.unravel_index(r2.argmax(axis=0), (g, g))  # (rows, columns) of the best cell per vertex
    planted_cell = tuple(np.clip((rf[c][pick] * g).astype(int), 0, g - 1) for c in ("y", "x"))
    off = np.maximum(np.abs(best[0] - planted_cell[0]), np.abs(best[1] - planted_cell[1]))
    # within 2 cells (1/8 of the image; the fields' SD is 1 to 1.6 cells, and objects span several cells)
    assert np.mean(off <= 2) > 0.85, np.bincount(off)
    # and the point-mirrored cell explains far less
    mirror = r2[(g - 1 - planted_cell[0]) * g + (g - 1 - planted_cell[1]), np.arange(pick.size)]
    assert np.median(r2.max(axis=0)) > 0.3 and np.median(r2.max(axis=0) - mirror) > 0.2
