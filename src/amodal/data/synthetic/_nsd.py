"""A synthetic Natural Scenes Dataset, written in NSD's download format (:mod:`amodal.data.adapters.nsd`).

The regime is NSD's, scaled down: each subject sees its own train images and a test set shared by every subject,
each image ``n_repeats`` times, single trials in sessions of 750 with their own offsets and scales (so z-scoring
within session matters); the responses live in an nsdgeneral-like region over the occipital pole, and the rest of
the cortex is noise. The tree is read back through the NSD adapter, the same code path as the real download.

Planted truth (``planted.json`` beside the tree), one *vertex type* per component, each with the finding it exists
for (:data:`VERTEX_TYPES`):

- ``rf-contrast``, ``rf-colour``: a Gaussian receptive field in image space (a retinotopic map over the region,
  :func:`~amodal.data.synthetic.receptive_fields`) pooling the local luminance contrast, or a colour mixture: the
  Universal Brain Encoder's attention and its embedding clusters;
- ``category``: each vertex prefers one scene category and responds when an object of it is in the scene, wherever
  it is: zero-shot category decoding is possible in principle;
- ``semantic-nonlinear``: a rectified projection of the scene's meaning (:func:`~amodal.data.synthetic._scenes.
  semantic_vector`), *not* a linear function of it: ridge reads only its linear part, a nonlinear mapper more.

Every subject has the same types, but its own layout of them: the region's centre is jittered, and the sectors that
hold the types rotate by a subject's own angle, so a vertex index means a different type in each subject (what a
multi-subject encoder with per-subject vertex embeddings must learn).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from ...seeding import rng
from ...standardize import standardize_train
from ...surface import HEMIS, load_mesh, smoothing_operator
from ..adapters import freesurfer, nsd
from . import _scenes as scenes
from ._generator import (_direction, _jitter, _smooth, _whiten, TEMPLATES, local_appearance, receptive_fields,
                         region_profile, rf_responses, tangent_frame, unique_scenes)

NSD_DEFAULTS = {
    "n_subjects": 4, "n_shared": 100, "n_train": 900, "n_repeats": 3, "image_size": 128, "snr": 1.0,
    "region_radius_deg": 45.0, "region_jitter_deg": 5.0, "session_offset_sd": 1.0, "session_scale_sd": 0.2,
    "noise_smoothness": 4, "loading_smoothness": 2,
}
"""The synthetic NSD's sizes and gains (``n_train``: each subject's own images; ``n_shared``: the test set)."""


NSD_ATLAS = "planted"
"""The name of the synthetic NSD's FreeSurfer annotation (``dataset.atlas``): its nsdgeneral-like region."""


def _standardise(x: np.ndarray) -> np.ndarray:
    """Each column centred and scaled to unit SD over all images (a constant column only centred)."""
    return standardize_train(x, np.arange(x.shape[0]))


CONTRAST = np.array([0.0, 0.0, 0.0, 1.0])
"""The rf-contrast type's channel weights over ``RF_CHANNELS`` (red, green, blue, contrast)."""

# Each type's responses to every image, (n_images, n) for its n vertices, unit variance per vertex, and what was
# drawn for them: (n, sources, rf, gen, smooth) -> (responses, record); ``smooth`` smooths an (n, k) array over the
# mesh so that loadings and preferences vary smoothly across neighbouring vertices.


def _rf_contrast(n, sources, rf, gen, smooth):
    return rf_responses(sources["local"], rf, np.tile(CONTRAST, (n, 1))), {}


def _rf_colour(n, sources, rf, gen, smooth):
    mix = smooth(gen.standard_normal((n, 3)))
    mix = np.concatenate([mix / np.linalg.norm(mix, axis=1, keepdims=True), np.zeros((n, 1))], axis=1)
    return rf_responses(sources["local"], rf, mix), {}


def _category(n, sources, rf, gen, smooth):
    prefer = np.argmax(smooth(gen.standard_normal((n, sources["categories"].shape[1]))), axis=1)
    return _standardise(sources["categories"][:, prefer]), {"preferred_category": prefer.tolist()}


def _semantic_nonlinear(n, sources, rf, gen, smooth):
    w = smooth(gen.standard_normal((n, sources["semantic"].shape[1])))
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    return _standardise(np.maximum(sources["semantic"] @ w.T, 0.0)), {}


@dataclass(frozen=True)
class VertexType:
    """One kind of planted vertex: what drives it (``respond``), the finding it exists for, and which method it
    favours."""
    name: str
    receptive_field: bool
    respond: object
    finding: str
    favours: str


VERTEX_TYPES = (
    VertexType("rf-contrast", True, _rf_contrast,
               "UBE: attention peaks inside the vertex's receptive field; embeddings cluster by type",
               "encoders that see where in the image (UBE's attention, ridge on Gabor or patch features); a "
               "whole-image embedding reads it only through what it keeps of the layout"),
    VertexType("rf-colour", True, _rf_colour,
               "UBE: attention and embedding clusters (a second RF type, told apart from rf-contrast by what it "
               "pools)", "the same as rf-contrast"),
    VertexType("category", False, _category,
               "zero-shot: the scene's object categories drive these vertices, so they can be decoded and named",
               "decoders into a space that encodes objects (an aligned image-text space), and ridge into it alike"),
    VertexType("semantic-nonlinear", False, _semantic_nonlinear,
               "contrastive mappers against ridge: a rectified, not linear, function of the scene's meaning",
               "nonlinear mappers (the Mind Reader MLP); ridge reads only its linear part"),
)


def nsd_design(cfg: dict, seed: int) -> dict:
    """NSD's design for the synthetic tree: one chronological ``masterordering`` shared by the subjects (each image
    of a subject's 10k list ``n_repeats`` times), and ``subjectim``: the shared images first, then each subject's
    own. NSD's reader takes the first 1,000 entries of every list as the shared test set, so with fewer shared images
    the list is padded up to 1,000 with repeats of them; the padding is never shown.

    Parameters
    ----------
    cfg : dict
        :data:`NSD_DEFAULTS` or a copy with other values.
    seed : int
        The master seed.

    Returns
    -------
    dict
        ``masterordering`` (n_trials,), ``subjectim`` (n_subjects, 1000 + n_train), both 1-based as NSD's, and
        ``n_sessions``.
    """
    n_trials = (cfg["n_shared"] + cfg["n_train"]) * cfg["n_repeats"]
    if not 0 < cfg["n_shared"] <= nsd.N_SHARED:
        raise ValueError(f"n_shared = {cfg['n_shared']}: NSD's shared test set holds at most {nsd.N_SHARED} images")
    if n_trials % nsd.TRIALS_PER_SESSION:
        raise ValueError(f"(n_shared + n_train) x n_repeats = {n_trials} trials is not a whole number of NSD "
                         f"sessions ({nsd.TRIALS_PER_SESSION} trials each); choose n_train so that it is")
    shown = np.concatenate([np.arange(1, cfg["n_shared"] + 1), nsd.N_SHARED + np.arange(1, cfg["n_train"] + 1)])
    order = rng(seed, "synthetic-nsd", "order").permutation(np.repeat(shown, cfg["n_repeats"]))
    k = np.arange(cfg["n_subjects"])[:, None]
    own = cfg["n_shared"] + k * cfg["n_train"] + np.arange(cfg["n_train"])[None, :]
    shared = np.resize(np.arange(cfg["n_shared"]), nsd.N_SHARED)
    subjectim = np.concatenate([np.broadcast_to(shared, (cfg["n_subjects"], nsd.N_SHARED)), own], axis=1) + 1
    return {"masterordering": order, "subjectim": subjectim, "n_sessions": n_trials // nsd.TRIALS_PER_SESSION}


def vertex_types(units: np.ndarray, centre: np.ndarray, rotation: float) -> np.ndarray:
    """Each vertex's type (an index into :data:`VERTEX_TYPES`): equal sectors around the region's ``centre``,
    turned by ``rotation`` (radians), so that every type spans the map's eccentricities.

    Parameters
    ----------
    units : array of shape (n, 3)
        Unit vectors of the region's vertices on the sphere.
    centre : array of shape (3,)
    rotation : float

    Returns
    -------
    array of int, (n,)
    """
    e1, e2 = tangent_frame(centre)
    angle = np.mod(np.arctan2(units @ e2, units @ e1) + rotation, 2 * np.pi)
    return np.minimum((angle / (2 * np.pi) * len(VERTEX_TYPES)).astype(int), len(VERTEX_TYPES) - 1)


def _smooth_rows(x: np.ndarray, rows: np.ndarray, op, steps: int) -> np.ndarray:
    """``x`` (one row per vertex of ``rows``) smoothed over the mesh, with zeros at every other vertex."""
    full = np.zeros((op.shape[0], x.shape[1]))
    full[rows] = x
    return _smooth(full, op, steps)[rows]


def _sources(all_scenes, images) -> dict:
    cats = np.array([[any(o.category == c for o in s.objects) for c in scenes.CATEGORIES] for s in all_scenes],
                    dtype=np.float64)
    return {"local": local_appearance(images), "categories": cats,
            "semantic": _whiten(np.stack([scenes.semantic_vector(s) for s in all_scenes]), 48)}


def _visual_direction(hemi: str) -> np.ndarray:
    return _direction(next(t for t in TEMPLATES if t.type == "visual"), hemi)


def simulate_nsd_subject(k: int, design: dict, sources: dict, cfg: dict, seed: int, meshes: dict,
                         units: dict) -> tuple[dict, dict]:
    """One subject's single-trial betas on both hemispheres, in chronological order, and what was planted.

    Parameters
    ----------
    k : int
        The subject's row in ``design["subjectim"]`` (0-based).
    design : dict
        :func:`nsd_design`.
    sources : dict
        Per 73k image (0-based rows): ``local``, ``categories``, ``semantic``.
    cfg : dict
    seed : int
    meshes : dict
        ``{hemi: HemiMesh}`` of the sphere.
    units : dict
        ``{hemi: (n_vertices, 3)}`` unit vectors.

    Returns
    -------
    betas : dict
        ``{hemi: float32 (n_vertices, n_trials)}``.
    planted : dict
        Per hemisphere: the region's centre and rotation, its vertices, their types and receptive fields, and per
        type what was drawn for it.
    """
    subject = f"sub-{k + 1:02d}"
    img = design["subjectim"][k, design["masterordering"] - 1] - 1  # 0-based 73k id of each trial
    n_trials, n_sess = img.size, design["n_sessions"]
    session = np.arange(n_trials) // nsd.TRIALS_PER_SESSION
    layout = rng(seed, "synthetic-nsd", "layout", subject)
    betas, record = {}, {}
    for hemi in HEMIS:
        nv = units[hemi].shape[0]
        op = smoothing_operator(meshes[hemi].faces, nv)
        gen = rng(seed, "synthetic-nsd", "noise", subject, hemi)
        smooth_noise = _smooth(gen.standard_normal((nv, n_trials)), op, cfg["noise_smoothness"])
        smooth_noise /= smooth_noise.std(axis=1, keepdims=True)
        data = np.sqrt(0.7) * smooth_noise + np.sqrt(0.3) * gen.standard_normal((nv, n_trials))
        centre = _jitter(_visual_direction(hemi), cfg["region_jitter_deg"], layout)
        rotation = float(layout.uniform(0, 2 * np.pi))
        profile = region_profile(units[hemi], centre, cfg["region_radius_deg"])
        inside = np.flatnonzero(profile > 0)
        types = vertex_types(units[hemi][inside], centre, rotation)
        rf = receptive_fields(units[hemi][inside], centre, cfg["region_radius_deg"])
        gen_w = rng(seed, "synthetic-nsd", "loadings", subject, hemi)
        rec = {"centre": centre.round(6).tolist(), "rotation": round(rotation, 6), "vertices": inside.tolist(),
               "type": [VERTEX_TYPES[t].name for t in types],
               "receptive_fields": {key: v.round(4).tolist() for key, v in rf.items()}, "types": {}}
        for t, vt in enumerate(VERTEX_TYPES):
            sel = np.flatnonzero(types == t)
            if not sel.size:
                continue
            rows = inside[sel]
            response, extra = vt.respond(sel.size, sources, {key: v[sel] for key, v in rf.items()}, gen_w,
                                         partial(_smooth_rows, rows=rows, op=op, steps=cfg["loading_smoothness"]))
            data[rows] += cfg["snr"] * profile[rows, None] * response[img].T
            rec["types"][vt.name] = {"n_vertices": int(sel.size), **extra}
        # session effects: each session its own offset and scale per vertex (drift between scanning days), and a
        # fixed offset per vertex (the baseline of percent signal change)
        gen_s = rng(seed, "synthetic-nsd", "sessions", subject, hemi)
        offset = gen_s.normal(0, cfg["session_offset_sd"], (nv, n_sess)) + gen_s.normal(0, 2.0, (nv, 1))
        scale = np.exp(gen_s.normal(0, cfg["session_scale_sd"], (nv, n_sess)))
        data = offset[:, session] + scale[:, session] * data
        betas[hemi] = data.astype(np.float32)
        record[hemi] = rec
    return betas, record


def nsdgeneral_masks(units: dict, cfg: dict) -> dict:
    """The nsdgeneral-like region: the template centre's cap, wide enough to hold every subject's jittered region."""
    return {h: region_profile(units[h], _visual_direction(h), cfg["region_radius_deg"] + cfg["region_jitter_deg"])
            > 0 for h in HEMIS}


def generate_nsd(root, coco_root, cfg: dict | None = None, seed: int = 0, mesh_name: str = "fsaverage5",
                 log=print) -> dict:
    """Write a synthetic NSD under ``root`` in NSD's download format, its COCO-style captions under ``coco_root``,
    and ``planted.json`` in ``root``.

    Parameters
    ----------
    root, coco_root : str or Path
    cfg : dict, optional
        Values that replace :data:`NSD_DEFAULTS`'.
    seed : int
        The master seed; every draw derives from it.
    mesh_name : str
        The fsaverage resolution of the betas (real NSD: fsaverage, i.e. fsaverage7).
    log : callable

    Returns
    -------
    dict
        What ``planted.json`` holds.
    """
    cfg = {**NSD_DEFAULTS, **(cfg or {})}
    unknown = sorted(set(cfg) - set(NSD_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown synthetic NSD setting(s) {unknown}; known: {sorted(NSD_DEFAULTS)}")
    root = Path(root)
    design = nsd_design(cfg, seed)
    n_images = cfg["n_shared"] + cfg["n_subjects"] * cfg["n_train"]
    all_scenes, captions = zip(*unique_scenes(rng(seed, "synthetic-nsd", "scenes"), n_images, set()))
    images = [scenes.render(s, cfg["image_size"]) for s in all_scenes]
    sources = _sources(all_scenes, images)
    nsd.write_images(root, np.stack([np.asarray(im.convert("RGB"), dtype=np.uint8) for im in images]))
    coco_ids = 200000 + np.arange(n_images)
    splits = np.where(np.arange(n_images) < cfg["n_shared"], "val2017", "train2017")
    nsd.write_stim_info(root, coco_ids, splits)
    nsd.write_coco_captions(coco_root, coco_ids, splits, [[c] for c in captions])
    nsd.write_design(root, design["masterordering"], design["subjectim"])
    spheres = load_mesh(mesh_name, "sphere")
    units = {h: spheres[h].coords / np.linalg.norm(spheres[h].coords, axis=1, keepdims=True) for h in HEMIS}
    masks = nsdgeneral_masks(units, cfg)
    nsd.write_nsdgeneral(root, masks)
    # the QC figure's atlas (dataset.atlas: planted), where NSD keeps its FreeSurfer folder
    for h in HEMIS:
        path = freesurfer.annotation_path(root / "nsddata" / "freesurfer", mesh_name, h, NSD_ATLAS)
        freesurfer.write_annotation(path, masks[h].astype(int), ["unknown", "nsdgeneral"])
    planted = {"seed": seed, "mesh": mesh_name, "settings": cfg,
               "vertex_types": {t.name: {"receptive_field": t.receptive_field, "finding": t.finding,
                                         "favours": t.favours} for t in VERTEX_TYPES},
               "categories": list(scenes.CATEGORIES),
               "image_categories": [sorted({o.category for o in s.objects}) for s in all_scenes],
               "nonlinear": "semantic-nonlinear vertices respond max(0, w . semantic): not a linear function of the "
                            "scene's meaning", "subjects": {}}
    for k in range(cfg["n_subjects"]):
        subject = f"sub-{k + 1:02d}"
        nsd.write_responses(root, subject, design["masterordering"], design["subjectim"], design["n_sessions"])
        betas, record = simulate_nsd_subject(k, design, sources, cfg, seed, spheres, units)
        for hemi in HEMIS:
            for s in range(design["n_sessions"]):
                cols = slice(s * nsd.TRIALS_PER_SESSION, (s + 1) * nsd.TRIALS_PER_SESSION)
                nsd.write_session_betas(root, subject, hemi, s + 1, betas[hemi][:, cols])
        planted["subjects"][subject] = record
        log(f"{subject}: {design['n_sessions']} sessions of {nsd.TRIALS_PER_SESSION} trials written")
    (root / "planted.json").write_text(json.dumps(planted))
    return planted
