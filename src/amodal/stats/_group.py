"""The group stage: gather per-subject searchlight stores, compute t/TFCE/p maps, write GIFTIs and clusters."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import read_store, write_func_gifti
from ..errors import DataError
from ..sidecars import sidecar_path, write_sidecar
from ..surface import HEMI_BIDS, HEMIS, adjacency, group_surfaces
from . import _permutations as stats
from ._tfce import tfce


NULL_VARIABLES = (("null", "null_metric", "perm"), ("null_imagery", "imagery_null_metric", "imagery_perm"))


def load_stores(paths: dict, subjects, modes, n_vertices: int, exhaustive: dict | None = None):
    """Align every searchlight store onto full hemispheres.

    Parameters
    ----------
    paths : dict
        ``{(subject, mode, hemi): [store path of each shard]}`` (:func:`amodal.data.group_searchlight_stores`).
    subjects, modes : sequence of str
    n_vertices : int
        Vertices per hemisphere of the mesh.
    exhaustive : dict, optional
        Receives per null family whether every store's null holds every relabelling (for imagery: all orderings
        of the imagery targets, identity first).

    Returns
    -------
    obs : dict
        ``(mode, metric)`` → array of shape (n_subjects, 2 * n_vertices), NaN where masked.
    null : dict
        ``(mode, metric)`` → array of shape (n_subjects, n_null, 2 * n_vertices).
    """
    obs, null = {}, {}
    flags = {"targets": [False], "imagery": []}
    for si, subject in enumerate(subjects):
        for mode in modes:
            for hi, hemi in enumerate(HEMIS):
                shards = paths[(subject, mode, hemi)]
                for path in shards:
                    ds = read_store(path, "searchlight")
                    if "null_imagery" not in ds:
                        raise DataError(f"{path} was written by an older amodal without the imagery null; delete "
                                        "it and rerun the searchlight rule")
                    flags["imagery"].append(ds.attrs.get("imagery_null_exhaustive") == "1")
                    cols = hi * n_vertices + ds["vertex_index"].values
                    for metric in ds["metric"].values:
                        key = (mode, str(metric))
                        if key not in obs:
                            obs[key] = np.full((len(subjects), 2 * n_vertices), np.nan)
                        obs[key][si, cols] = ds["scores"].sel(metric=metric).values
                    for var, dim, perm in NULL_VARIABLES:
                        for metric in ds[dim].values:
                            key = (mode, str(metric))
                            arr = ds[var].sel({dim: metric}).values
                            if key not in null:
                                null[key] = np.full((len(subjects), ds.sizes[perm], 2 * n_vertices), np.nan,
                                                    np.float32)
                            if arr.shape[0] != null[key].shape[1]:
                                raise DataError(f"{path} holds {arr.shape[0]} {perm} null maps where the other "
                                                f"stores hold {null[key].shape[1]}: every subject needs the same "
                                                "number (rerun the searchlight rules with one config)")
                            null[key][si][:, cols] = arr
    if exhaustive is not None:
        exhaustive.update({fam: bool(v) and all(v) for fam, v in flags.items()})
    return obs, null


def write_gifti(path, data: np.ndarray, hemi: str, sidecar: dict) -> None:
    """Write one group map as float32 GIFTI, with its JSON sidecar next to it.

    Parameters
    ----------
    path : str or Path
        A ``.func.gii`` path (:func:`map_name`).
    data : array of shape (n_vertices,)
    hemi : {"left", "right"}
    sidecar : dict
    """
    write_func_gifti(path, data, hemi)
    write_sidecar(sidecar_path(path), sidecar, sort_keys=False)


def map_name(out_dir, hemi, mesh, desc, stat) -> Path:
    """BIDS-derivative name of a group map (underscores dropped from ``desc``).

    Parameters
    ----------
    out_dir : str or Path
    hemi : {"left", "right"}
    mesh : str
    desc : str
        The map (a test map or a base value).
    stat : str
        ``t``, ``tfce``, ``logp``, ``clusters`` or ``mean``.

    Returns
    -------
    Path
        ``<out_dir>/group_hemi-<L|R>_space-<mesh>_desc-<desc>_stat-<stat>_statmap.func.gii``.
    """
    desc = desc.replace("_", "")
    return Path(out_dir) / f"group_hemi-{HEMI_BIDS[hemi]}_space-{mesh}_desc-{desc}_stat-{stat}_statmap.func.gii"


def group_analysis(paths: dict, subjects, modes, mesh: str, atlas, cfg: dict, seed: int, out_dir,
                   searchlight_params: dict, log=print, region_types: dict | None = None,
                   surfaces: dict | None = None) -> dict:
    """The group stage: t-maps, test maps, TFCE, the Stelzer null, p-values, clusters and every output file.

    Parameters
    ----------
    paths : dict
        ``{(subject, mode, hemi): [store paths]}``.
    subjects, modes : sequence of str
    mesh : str
    atlas : dict or None
        ``{hemi: (labels, {key: name})}`` for the cluster table.
    cfg : dict
        The config's ``stats`` section.
    seed : int
    out_dir : str or Path
    searchlight_params : dict
        Recorded in every sidecar.
    log : callable
    region_types : dict, optional
        Synthetic data: region name → type, to score the recovery of the planted truth.
    surfaces : dict, optional
        ``{hemi: (faces, coords)}``: the mesh's triangles (for the adjacency) and the coordinates reported in the
        cluster table, instead of fsaverage's inflated faces and pial coordinates loaded by the name ``mesh``
        (which then only labels the outputs; benchmarks pass MNE's icosahedron at fsaverage7 size this way).

    Returns
    -------
    dict
        Per test map: TFCE cut-off, number of significant vertices, maximum TFCE, null scheme, smallest p,
        whether ``p_threshold`` is reachable (and the ground-truth overlap on synthetic data). Also written to
        ``group.json``; the cluster table goes to ``clusters.tsv`` with ``clusters.json``, the maps to GIFTIs.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    surfaces = group_surfaces(mesh) if surfaces is None else surfaces
    nv = surfaces["left"][1].shape[0]
    exhaustive = {}
    obs, null = load_stores(paths, subjects, modes, nv, exhaustive)
    adj = {h: adjacency(surfaces[h][0], nv) for h in HEMIS}
    pial = {h: surfaces[h][1] for h in HEMIS}
    cols = {h: slice(i * nv, (i + 1) * nv) for i, h in enumerate(HEMIS)}
    tfce_kw = {"e_power": cfg["tfce_e"], "h_power": cfg["tfce_h"], "dh": cfg["tfce_dh"], "strict": True}
    base = stats.base_values(obs)
    ts = stats.t_maps(base)
    names = [n for n in cfg["test_maps"] if all(k in ts for k in stats.TEST_MAPS[n])]
    log(f"group: {len(subjects)} subjects, test maps {names}, {cfg['n_permutations']} group permutations")
    null_info = {}
    maxima = stats.group_null(null, cols, adj, names, cfg["n_permutations"], seed, tfce_kw, log=log,
                              exhaustive=exhaustive, info=null_info)
    unreachable = {n: i["min_p"] for n, i in null_info.items() if cfg["p_threshold"] < i["min_p"]}
    for n, mp in unreachable.items():
        log(f"WARNING: {n}: stats.p_threshold {cfg['p_threshold']:g} is below the smallest p this null can give "
            f"({mp:.3g}, {null_info[n]['n_null_maxima']} null maxima, {null_info[n]['null_scheme']}): no vertex can "
            "be significant. Raise stats.n_permutations (or the threshold).")
    sidecar_common = {"subjects": list(subjects), "mesh": mesh, "seed": seed, "tfce": tfce_kw,
                      "n_permutations": cfg["n_permutations"], "p_threshold": cfg["p_threshold"],
                      "null_scheme": "Stelzer et al. 2013: for each group permutation, every subject's null map "
                                     "index is drawn independently and uniformly from the master seed; imagery "
                                     "nulls hold every ordering of the imagery targets and are enumerated "
                                     "exactly when there are at most n_permutations group configurations",
                      "p_definition": "(1 + number of null maxima over both hemispheres >= observed TFCE) / "
                                      "(1 + number of null maxima)",
                      "t_test": "one-sample t (ddof 1) against chance, no variance floor, NaN at zero variance",
                      "searchlight": searchlight_params}
    tables, summary = [], {}
    for name, maxv in maxima.items():
        tm = stats.test_map(ts, name)
        cutoff = stats.significance_cutoff(maxv, cfg["p_threshold"])
        maps = {"t": {}, "tfce": {}, "p": {}}
        for h in HEMIS:
            maps["t"][h] = tm[cols[h]]
            maps["tfce"][h] = tfce(np.nan_to_num(tm[cols[h]], nan=-np.inf), adj[h], **tfce_kw) \
                if np.isfinite(tm[cols[h]]).any() else np.zeros(nv)
            maps["p"][h] = stats.p_values(maps["tfce"][h], maxv)
        sig = {h: maps["p"][h] <= cfg["p_threshold"] for h in HEMIS}
        labels = {h: stats.clusters(sig[h], adj[h]) for h in HEMIS}
        tables.append(stats.cluster_table(name, maps, labels, pial, atlas))
        for h in HEMIS:
            side = dict(sidecar_common, test_map=name, components=list(stats.TEST_MAPS[name]),
                        tfce_cutoff=cutoff, tfce_cutoff_definition="significant where TFCE > tfce_cutoff",
                        **null_info[name])
            write_gifti(map_name(out, h, mesh, name, "t"), np.nan_to_num(maps["t"][h]), h,
                        dict(side, description=f"{name}: minimum of the component t-maps"))
            write_gifti(map_name(out, h, mesh, name, "tfce"), maps["tfce"][h], h,
                        dict(side, description=f"{name}: TFCE of the t-map"))
            write_gifti(map_name(out, h, mesh, name, "logp"), -np.log10(maps["p"][h]), h,
                        dict(side, description=f"{name}: -log10 FWER p (max TFCE over both hemispheres)"))
            write_gifti(map_name(out, h, mesh, name, "clusters"), labels[h], h,
                        dict(side, description=f"{name}: cluster labels of vertices with p <= {cfg['p_threshold']}"))
        np.save(out / f"null_max_desc-{name.replace('_', '')}.npy", maxv)
        summary[name] = {"tfce_cutoff": cutoff, "n_significant": int(sum(s.sum() for s in sig.values())),
                         "max_tfce": float(max(maps["tfce"][h].max() for h in HEMIS)), **null_info[name],
                         "p_threshold_reachable": name not in unreachable}
        if region_types and atlas is not None:  # synthetic data: how well the planted truth is recovered
            summary[name]["ground_truth"] = stats.ground_truth_overlap(sig, atlas, region_types)
    for key, arr in base.items():  # mean accuracy (or difference) maps across subjects
        for h in HEMIS:
            with warnings.catch_warnings():  # a vertex masked in every subject (medial wall) has a NaN mean
                warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
                mean = np.nanmean(arr[:, cols[h]], axis=0)
            write_gifti(map_name(out, h, mesh, key, "mean"), mean, h,
                        dict(sidecar_common, description=f"{key}: mean across subjects"))
            write_gifti(map_name(out, h, mesh, key, "t"), np.nan_to_num(ts[key][cols[h]]), h,
                        dict(sidecar_common, description=f"{key}: one-sample t against {stats.CHANCE[key]}"))
    table = pd.concat(tables, ignore_index=True)
    table.to_csv(out / "clusters.tsv", sep="\t", index=False)
    write_sidecar(out / "clusters.json", dict(
        sidecar_common, description="clusters of vertices with p <= p_threshold per test map",
        test_maps={n: dict(null_info[n], p_threshold_reachable=n not in unreachable) for n in names},
        warnings=[f"{n}: p_threshold {cfg['p_threshold']:g} < smallest attainable p {mp:.3g}"
                  for n, mp in unreachable.items()]), sort_keys=False)
    write_sidecar(out / "group.json", dict(sidecar_common, test_maps=summary), sort_keys=False)
    log(f"group: {summary}")
    return summary
