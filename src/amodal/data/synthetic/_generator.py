"""The embedded synthetic dataset: rendered scenes with captions, and surface betas with planted regions.

Brains (METHOD §9). On the fsaverage mesh each hemisphere carries planted regions:

- ``visual``: driven by the image's appearance (its pixels), on image trials only; with
  ``receptive_fields: true`` each visual vertex sees only a patch of the image (:func:`receptive_fields`);
- ``language``: driven by the caption's words, on caption trials only;
- ``invariant``: driven by the scene's latent semantics on image and caption trials, and on imagery trials
  with a lower gain (``imagery_gain``).

Each region maps its (whitened) source vector to vertices through smooth random loadings. Noise is
spatially smooth on the mesh plus a white part. Each subject has its own layout jitter (region centres
rotate by up to ``region_jitter_deg``), gains (log-normal around ``snr``), noise and vertex scales/offsets.
A medial-wall cap is constant (0) as in real projected data, so preprocessing has vertices to mask.
``snr: 0`` removes every planted signal. With ``disjoint_train: true`` subjects see disjoint training stimuli (the
test and imagery stimuli stay shared), as the Natural Scenes Dataset's subjects do. The dataset is written in the
layout of :mod:`amodal.data`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ...seeding import rng
from ...surface import HEMIS, load_mesh, smoothing_operator
from ... import data as dataset
from .._layout import subject_ids
from . import _scenes as scenes



@dataclass(frozen=True)
class RegionTemplate:
    name: str
    type: str  # visual | language | invariant | medial
    direction: tuple[float, float, float]  # on the left-hemisphere sphere; x is mirrored for the right
    radius_deg: float


# Directions in fsaverage sphere coordinates (x lateral-negative for the left hemisphere, y anterior, z up).
# Invariant regions lie at least 19 degrees (edge to edge) from every modality-specific region, more than a
# default searchlight's radius (k = 100 on fsaverage5 spans about 11 degrees), so that neighbourhoods
# centred in a purely visual or language region do not reach invariant signal.
TEMPLATES = (
    RegionTemplate("VIS-occipital", "visual", (-0.15, -1.0, -0.25), 20.0),
    RegionTemplate("LANG-temporal", "language", (-1.0, -0.2, -0.1), 18.0),
    RegionTemplate("LANG-frontal", "language", (-0.7, 0.75, 0.3), 16.0),
    RegionTemplate("INV-parietal", "invariant", (-0.6, -0.3, 0.8), 20.0),
    RegionTemplate("INV-temporal", "invariant", (-0.35, 0.5, -0.85), 20.0),
    RegionTemplate("medial-wall", "medial", (1.0, 0.0, -0.1), 22.0),
)
TYPE_GAIN = {"visual": 1.0, "language": 1.0, "invariant": 1.0}


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


def _direction(tpl: RegionTemplate, hemi: str) -> np.ndarray:
    d = np.array(tpl.direction, dtype=np.float64)
    if hemi == "right":
        d[0] = -d[0]
    return _unit(d)


def _jitter(direction: np.ndarray, max_deg: float, gen: np.random.Generator) -> np.ndarray:
    """Rotate ``direction`` by a uniformly drawn angle up to ``max_deg`` about a random perpendicular axis."""
    if max_deg <= 0:
        return direction
    axis = np.cross(direction, _unit(gen.normal(size=3)))
    axis = _unit(axis)
    ang = np.deg2rad(gen.uniform(0, max_deg))
    return _unit(direction * np.cos(ang) + np.cross(axis, direction) * np.sin(ang))


def region_profile(sphere_unit: np.ndarray, direction: np.ndarray, radius_deg: float) -> np.ndarray:
    """Flat-topped weight of each vertex for one planted region.

    Parameters
    ----------
    sphere_unit : array of shape (n_vertices, 3)
        Unit vectors of the vertices on the sphere.
    direction : array of shape (3,)
        Unit vector of the region's centre.
    radius_deg : float
        Angular radius.

    Returns
    -------
    array of shape (n_vertices,)
        1 within 60% of the radius, a cosine taper to 0 at the radius, 0 beyond.
    """
    ang = np.degrees(np.arccos(np.clip(sphere_unit @ direction, -1, 1)))
    inner = 0.6 * radius_deg
    taper = 0.5 * (1 + np.cos(np.pi * np.clip((ang - inner) / (radius_deg - inner), 0, 1)))
    return np.where(ang <= radius_deg, taper, 0.0)


def _whiten(x: np.ndarray, n_components: int) -> np.ndarray:
    """Centre, then whiten onto the top principal components (unit variance each)."""
    x = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    keep = min(n_components, int((s > s[0] * 1e-6).sum()))
    return u[:, :keep] * np.sqrt(x.shape[0])


def make_stimuli(cfg: dict, seed: int) -> tuple[pd.DataFrame, list[scenes.Scene]]:
    """Draw the stimulus pool: the train pool, the shared test set and the imagery pool, with their scenes.

    Parameters
    ----------
    cfg : dict
        The config's ``synthetic`` section.
    seed : int
        The master seed.

    Returns
    -------
    stimuli : pandas.DataFrame
        One row per stimulus: ``id``, ``caption``, ``image_file``, ``pool`` and ``categories`` (the object
        categories of the scene, ``;``-separated: the labels of zero-shot classification).
    scenes : list of Scene
        The scene of each row.
    """
    n = {"train": cfg["n_train_pool"], "test": cfg["n_test"], "imagery": cfg["n_imagery_pool"]}
    gen = rng(seed, "synthetic", "scenes")
    rows, all_scenes, seen = [], [], set()
    for split in ("train", "test", "imagery"):
        for scene, cap in unique_scenes(gen, n[split], seen):
            sid = f"s{len(rows) + 1:05d}"
            rows.append({"id": sid, "caption": cap, "image_file": f"images/{sid}.png", "pool": split,
                         "categories": ";".join(sorted({o.category for o in scene.objects}))})
            all_scenes.append(scene)
    return pd.DataFrame(rows), all_scenes


def make_trials(stim: pd.DataFrame, cfg: dict, seed: int, subject: str) -> pd.DataFrame:
    """A subject's trials: train images and captions (``n_overlap`` stimuli seen both ways), the test set
    repeated ``n_test_repeats`` times in each modality, and the imagery trials, spread over ``n_runs`` runs.

    Parameters
    ----------
    stim : pandas.DataFrame
        From :func:`make_stimuli`.
    cfg : dict
    seed : int
    subject : str

    Returns
    -------
    pandas.DataFrame
        The trials table (``trial``, ``stimulus_id``, ``modality``, ``split``, ``run``).
    """
    gen = rng(seed, "synthetic", "trials", subject)
    pool = stim.loc[stim["pool"] == "train", "id"].to_numpy()
    n_img, n_cap, n_both = cfg["n_train_images"], cfg["n_train_captions"], cfg["n_overlap"]
    n_own = n_img + n_cap - n_both
    if cfg.get("disjoint_train", False):
        # one shared shuffle of the pool, cut into consecutive blocks: subject k takes block k
        k = subjects_of(cfg).index(subject)
        pool = rng(seed, "synthetic", "disjoint-train").permutation(pool)[k * n_own:(k + 1) * n_own]
    chosen = gen.permutation(pool)[:n_own]
    img_ids = chosen[:n_img]
    cap_ids = np.concatenate([chosen[:n_both], chosen[n_img:]])
    rows = [(s, "image", "train") for s in img_ids] + [(s, "caption", "train") for s in cap_ids]
    test_ids = stim.loc[stim["pool"] == "test", "id"].to_numpy()
    for _ in range(cfg["n_test_repeats"]):
        rows += [(s, "image", "test") for s in test_ids] + [(s, "caption", "test") for s in test_ids]
    imagery_pool = stim.loc[stim["pool"] == "imagery", "id"].to_numpy()
    imagery_ids = gen.choice(imagery_pool, size=cfg["n_imagery"], replace=False)
    order = gen.permutation(len(rows))
    rows = [rows[i] for i in order]
    n_runs = cfg["n_runs"]
    runs = np.sort(np.arange(len(rows)) % n_runs)  # contiguous blocks of trials form runs
    trials = pd.DataFrame(rows, columns=["stimulus_id", "modality", "split"])
    trials["run"] = [f"{r + 1:02d}" for r in runs]
    # imagery trials open the first runs, as in the reference experiment
    imagery = pd.DataFrame({"stimulus_id": imagery_ids, "modality": "imagery", "split": "imagery",
                            "run": [f"{(k % n_runs) + 1:02d}" for k in range(len(imagery_ids))]})
    trials = pd.concat([imagery, trials], ignore_index=True)
    trials = trials.sort_values("run", kind="stable").reset_index(drop=True)
    trials.insert(0, "trial", np.arange(len(trials)))
    return trials


def stimulus_sources(stim: pd.DataFrame, all_scenes, images, local_maps: bool = False) -> dict[str, np.ndarray]:
    """Whitened source vectors of every stimulus, one per kind of planted region.

    Parameters
    ----------
    stim : pandas.DataFrame
    all_scenes : list of Scene
    images : list of PIL.Image.Image
        The rendered image of each stimulus.
    local_maps : bool
        Also return ``local``: :func:`local_appearance` of every image (for receptive fields).

    Returns
    -------
    dict
        ``visual`` (from appearance), ``language`` (from caption text) and ``invariant`` (from scene semantics),
        each an array of shape (n_stimuli, n_components); and ``local`` when asked.
    """
    appearance = np.stack([scenes.appearance_vector(im) for im in images])
    text = np.stack([scenes.text_vector(c) for c in stim["caption"]])
    semantic = np.stack([scenes.semantic_vector(s) for s in all_scenes])
    out = {"visual": _whiten(appearance, 48), "language": _whiten(text, 48), "invariant": _whiten(semantic, 48)}
    if local_maps:
        out["local"] = local_appearance(images)
    return out


#: The grid on which receptive fields read the image (cells per side), and its channels.
RF_GRID = 16
RF_CHANNELS = ("red", "green", "blue", "contrast")


def local_appearance(images, grid: int = RF_GRID) -> np.ndarray:
    """What each part of each image looks like: RGB means and luminance contrast (the SD of luminance) in each
    cell of a ``grid`` × ``grid`` grid, every channel z-scored over images and cells.

    Parameters
    ----------
    images : list of PIL.Image.Image
    grid : int

    Returns
    -------
    array of shape (n_images, grid, grid, 4)
        Channels :data:`RF_CHANNELS`; row 0 is the top of the image.
    """
    out = []
    for im in images:
        px = np.asarray(im.convert("RGB"), dtype=np.float64) / 255.0
        h, w = px.shape[:2]
        cells = px[: h - h % grid, : w - w % grid].reshape(grid, h // grid, grid, w // grid, 3)
        lum = cells @ np.array([0.299, 0.587, 0.114])
        out.append(np.concatenate([cells.mean(axis=(1, 3)), lum.std(axis=(1, 3))[..., None]], axis=-1))
    maps = np.stack(out)
    return (maps - maps.mean(axis=(0, 1, 2))) / maps.std(axis=(0, 1, 2))


def tangent_frame(centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit tangents of the sphere at ``centre``: horizontal (perpendicular to the pole) and vertical."""
    e1 = _unit(np.cross(np.array([0.0, 0.0, 1.0]), centre))
    return e1, np.cross(centre, e1)


def unique_scenes(gen: np.random.Generator, n: int, seen: set) -> list[tuple[scenes.Scene, str]]:
    """Draw ``n`` scenes with their captions, skipping any whose caption is in ``seen`` (captions identify stimuli);
    ``seen`` gains the new captions."""
    out = []
    while len(out) < n:
        scene = scenes.sample_scene(gen)
        cap = scenes.caption(scene)
        if cap not in seen:
            seen.add(cap)
            out.append((scene, cap))
    return out


def receptive_fields(units: np.ndarray, centre: np.ndarray, radius_deg: float) -> dict[str, np.ndarray]:
    """A retinotopic map over a visual region: each vertex's receptive field (centre and size, in image units).

    The vertex's position on the sphere relative to the region's centre, in two fixed tangent directions (one
    towards the pole), maps linearly onto the image: the region's extent covers the central 80 % of the image,
    so neighbouring vertices see neighbouring parts of it and the map drifts smoothly across the region. The
    size grows with eccentricity (distance from the image centre), as in visual cortex.

    Parameters
    ----------
    units : array of shape (n, 3)
        Unit vectors on the sphere of the region's vertices.
    centre : array of shape (3,)
        Unit vector of the region's centre.
    radius_deg : float
        The region's angular radius.

    Returns
    -------
    dict
        ``x`` (0 left to 1 right), ``y`` (0 top to 1 bottom) and ``size`` (the Gaussian's SD), each (n,).
    """
    e1, e2 = tangent_frame(centre)
    scale = np.sin(np.deg2rad(radius_deg))
    u = np.clip(units @ e1 / scale, -1, 1)
    v = np.clip(units @ e2 / scale, -1, 1)
    x, y = 0.5 + 0.4 * u, 0.5 - 0.4 * v
    ecc = np.hypot(x - 0.5, y - 0.5)
    return {"x": x, "y": y, "size": 0.05 + 0.15 * ecc}


def rf_responses(local: np.ndarray, rf: dict, mix: np.ndarray) -> np.ndarray:
    """Each vertex's response to each image: its channel mixture of the local appearance, pooled by its
    Gaussian receptive field; unit variance over images per vertex.

    Parameters
    ----------
    local : array of shape (n_images, grid, grid, n_channels)
        :func:`local_appearance`.
    rf : dict
        :func:`receptive_fields`.
    mix : array of shape (n_vertices, n_channels)
        Each vertex's weights over the channels (smooth across the mesh).

    Returns
    -------
    array of shape (n_images, n_vertices)
    """
    grid = local.shape[1]
    centres = (np.arange(grid) + 0.5) / grid
    gx = np.exp(-0.5 * ((centres[None, :] - rf["x"][:, None]) / rf["size"][:, None]) ** 2)  # (v, grid)
    gy = np.exp(-0.5 * ((centres[None, :] - rf["y"][:, None]) / rf["size"][:, None]) ** 2)
    pooled = np.einsum("iyxc,vy,vx->ivc", local, gy / gy.sum(1, keepdims=True), gx / gx.sum(1, keepdims=True),
                       optimize=True)
    response = np.einsum("ivc,vc->iv", pooled, mix)
    response -= response.mean(axis=0)
    return response / response.std(axis=0)


def _smooth(x: np.ndarray, op, steps: int) -> np.ndarray:
    """``steps`` neighbour-averaging steps of ``x`` (vertices × anything) with the mesh's smoothing operator."""
    for _ in range(steps):
        x = op @ x
    return x


def _region_layout(seed: int, subject: str, sphere_units: dict, jitter_deg: float):
    gen = rng(seed, "synthetic", "layout", subject)
    layout = []
    for hemi in HEMIS:
        for tpl in TEMPLATES:
            d = _direction(tpl, hemi)
            if tpl.type != "medial":
                d = _jitter(d, jitter_deg, gen)
            layout.append((hemi, tpl, d, region_profile(sphere_units[hemi], d, tpl.radius_deg)))
    return layout


def template_atlas(sphere_units: dict) -> dict[str, tuple[np.ndarray, dict[int, str]]]:
    """The ground-truth atlas: every template region (without subject jitter) labelled on each hemisphere.

    Parameters
    ----------
    sphere_units : dict
        ``{hemi: array of shape (n_vertices, 3)}``, unit vectors on the sphere.

    Returns
    -------
    dict
        ``{hemi: (labels of shape (n_vertices,), {key: region name})}``.
    """
    names = {0: "background"}
    for k, tpl in enumerate(TEMPLATES, start=1):
        names[k] = tpl.name
    out = {}
    for hemi in HEMIS:
        labels = np.zeros(sphere_units[hemi].shape[0], dtype=int)
        for k, tpl in enumerate(TEMPLATES, start=1):
            labels[region_profile(sphere_units[hemi], _direction(tpl, hemi), tpl.radius_deg) > 0] = k
        out[hemi] = (labels, names)
    return out


def simulate_subject(trials: pd.DataFrame, stim_index: dict[str, int], sources: dict[str, np.ndarray],
                     cfg: dict, seed: int, subject: str, meshes: dict, sphere_units: dict):
    """Simulate one subject's betas: planted regions driven by their sources, plus smooth and white noise.

    Parameters
    ----------
    trials : pandas.DataFrame
    stim_index : dict of str to int
        Row of each stimulus id in ``sources``.
    sources : dict
        From :func:`stimulus_sources`.
    cfg : dict
    seed : int
    subject : str
    meshes : dict
        ``{hemi: HemiMesh}`` (the sphere mesh; its faces give the smoothing graph).
    sphere_units : dict
        ``{hemi: array of shape (n_vertices, 3)}``.

    Returns
    -------
    betas : dict
        ``{hemi: float32 array of shape (n_trials, n_vertices)}``.
    planted : dict
        What was planted for this subject (regions, gains, jitter).
    """
    n_trials = len(trials)
    rows = trials["stimulus_id"].map(stim_index).to_numpy()
    local = sources.get("local")  # the images' local appearance maps, with receptive_fields: true
    modality = trials["modality"].to_numpy()
    on = {"visual": (modality == "image").astype(float),
          "language": (modality == "caption").astype(float),
          "invariant": np.where(modality == "imagery", cfg["imagery_gain"], 1.0)}
    layout = _region_layout(seed, subject, sphere_units, cfg["region_jitter_deg"])
    gen_gain = rng(seed, "synthetic", "gains", subject)
    betas, record = {}, []
    for hemi in HEMIS:
        mesh = meshes[hemi]
        nv = mesh.n_vertices
        op = smoothing_operator(mesh.faces, nv)
        gen = rng(seed, "synthetic", "noise", subject, hemi)
        smooth_noise = _smooth(gen.standard_normal((nv, n_trials)), op, cfg["noise_smoothness"])
        smooth_noise /= smooth_noise.std(axis=1, keepdims=True)
        noise = (np.sqrt(0.7) * smooth_noise + np.sqrt(0.3) * gen.standard_normal((nv, n_trials))).T
        signal = np.zeros((n_trials, nv))
        constant = np.zeros(nv, dtype=bool)
        for h, tpl, d, profile in layout:
            if h != hemi:
                continue
            inside = np.flatnonzero(profile > 0)
            if tpl.type == "medial":
                constant[inside] = True
                continue
            gain = cfg["snr"] * TYPE_GAIN[tpl.type] * float(np.exp(gen_gain.normal(0, cfg["gain_jitter"])))
            gen_w = rng(seed, "synthetic", "loadings", subject, hemi, tpl.name)
            extra = {}
            if tpl.type == "visual" and local is not None:
                rf = receptive_fields(sphere_units[hemi][inside], d, tpl.radius_deg)
                mix = _smooth(gen_w.standard_normal((nv, local.shape[-1])), op, cfg["loading_smoothness"])
                response = rf_responses(local, rf, mix[inside]) * profile[inside]
                extra = {"receptive_fields": {k: v.round(4).tolist() for k, v in rf.items()}}
            else:
                src = sources[tpl.type]
                w = np.zeros((nv, src.shape[1]))
                w[inside] = gen_w.standard_normal((inside.size, src.shape[1]))
                w = _smooth(w, op, cfg["loading_smoothness"])
                w[inside] /= np.linalg.norm(w[inside], axis=1, keepdims=True)
                w *= profile[:, None]
                response = src @ w[inside].T  # (n_stimuli, n_inside), unit variance at full profile
            signal[:, inside] += gain * on[tpl.type][:, None] * response[rows]
            record.append({"name": tpl.name, "type": tpl.type, "hemi": hemi, "gain": gain,
                           "centre": d.round(6).tolist(), "radius_deg": tpl.radius_deg,
                           "vertices": inside.tolist(), "n_vertices": int(inside.size), **extra})
        gen_scale = rng(seed, "synthetic", "vertex-scale", subject, hemi)
        scale = np.exp(gen_scale.normal(0, 0.3, size=nv))
        offset = gen_scale.normal(0, 2.0, size=nv)
        data = offset + scale * (signal + noise)
        data[:, constant] = 0.0
        betas[hemi] = data.astype(np.float32)
        record.append({"name": "medial-wall", "type": "medial", "hemi": hemi, "gain": 0.0,
                       "vertices": np.flatnonzero(constant).tolist(), "n_vertices": int(constant.sum())})
    return betas, record


def subjects_of(cfg: dict) -> list[str]:
    """The subjects the synthetic config ``cfg`` makes: ``sub-01`` .. ``sub-<n_subjects>``."""
    return subject_ids(cfg["n_subjects"])


def generate(cfg: dict, seed: int, out_root, mesh_name: str = "fsaverage5", log=print) -> None:
    """Write the whole synthetic dataset under ``out_root`` in the layout of :mod:`amodal.data`.

    Parameters
    ----------
    cfg : dict
        The config's ``synthetic`` section.
    seed : int
        The master seed; every draw derives from it (:mod:`amodal.seeding`).
    out_root : str or Path
    mesh_name : str
        fsaverage resolution of the betas.
    log : callable
    """
    out = Path(out_root)
    (out / "stimuli" / "images").mkdir(parents=True, exist_ok=True)
    (out / "atlas").mkdir(parents=True, exist_ok=True)
    stim, all_scenes = make_stimuli(cfg, seed)
    images = [scenes.render(s, cfg["image_size"]) for s in all_scenes]
    for sid, im in zip(stim["id"], images):
        im.save(out / "stimuli" / "images" / f"{sid}.png", optimize=True)
    stim.to_csv(dataset.stimuli_tsv(out), sep="\t", index=False)
    log(f"wrote {len(stim)} stimuli to {out / 'stimuli'}")
    sources = stimulus_sources(stim, all_scenes, images, local_maps=cfg.get("receptive_fields", False))
    stim_index = {s: i for i, s in enumerate(stim["id"])}
    meshes = load_mesh(mesh_name, "inflated")
    spheres = load_mesh(mesh_name, "sphere")
    sphere_units = {h: spheres[h].coords / np.linalg.norm(spheres[h].coords, axis=1, keepdims=True)
                    for h in HEMIS}
    for hemi, (labels, names) in template_atlas(sphere_units).items():
        dataset.write_labels(dataset.atlas_gifti(out, hemi), labels, names, hemi)
    planted = {"seed": seed, "mesh": mesh_name, "snr": cfg["snr"], "imagery_gain": cfg["imagery_gain"],
               "receptive_fields": bool(cfg.get("receptive_fields", False)),
               "disjoint_train": bool(cfg.get("disjoint_train", False)),
               "region_types": {t.name: t.type for t in TEMPLATES}, "subjects": {}}
    for subject in subjects_of(cfg):
        trials = make_trials(stim, cfg, seed, subject)
        (out / subject).mkdir(exist_ok=True)
        trials.to_csv(dataset.trials_tsv(out, subject), sep="\t", index=False)
        betas, record = simulate_subject(trials, stim_index, sources, cfg, seed, subject, meshes, sphere_units)
        for hemi in HEMIS:
            dataset.write_betas(dataset.betas_gifti(out, subject, hemi), betas[hemi], hemi, compress=False)
        planted["subjects"][subject] = record
        log(f"{subject}: {len(trials)} trials, betas written")
    dataset.planted_json(out).write_text(json.dumps(planted))
    (out / "dataset_description.json").write_text(json.dumps({
        "Name": "amodal synthetic dataset", "BIDSVersion": "1.10.0", "DatasetType": "derivative",
        "GeneratedBy": [{"Name": "amodal.synthetic"}], "Mesh": mesh_name, "Seed": seed,
        "SyntheticParameters": cfg}, indent=2))
