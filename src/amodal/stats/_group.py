"""The group stage: gather per-subject searchlight stores, compute t/TFCE/p maps, write GIFTIs and clusters."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import read_store, write_map
from ..errors import DataError
from ..sidecars import write_sidecar
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


@dataclass
class GroupResult:
    """The group stage's results, before anything is written (:func:`group_maps`; :func:`write_group` writes them).

    Attributes
    ----------
    maps : list of (desc, stat, hemi, values, sidecar)
        Every map, its :func:`map_name` parts, its values of shape (n_vertices,) and its sidecar.
    null_max : dict
        Test map → its null maxima of TFCE, shape (n_null,).
    clusters : pandas.DataFrame
        The cluster table of every test map.
    clusters_sidecar, group : dict
        The sidecars of the cluster table and of the whole stage (``group.json``).
    summary : dict
        Per test map: TFCE cut-off, significant vertices, null scheme (the ``test_maps`` of ``group``).
    """

    maps: list = field(default_factory=list)
    null_max: dict = field(default_factory=dict)
    clusters: pd.DataFrame | None = None
    clusters_sidecar: dict = field(default_factory=dict)
    group: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)


def group_maps(paths: dict, subjects, modes, mesh: str, atlas, cfg: dict, seed: int, searchlight_params: dict,
               log=print, region_types: dict | None = None, surfaces: dict | None = None) -> GroupResult:
    """The group stage as a computation: t-maps, test maps, TFCE, the Stelzer null, p-values and clusters.

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
    GroupResult
    """
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
    res = GroupResult()
    tables = []
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
            res.maps += [
                (name, "t", h, np.nan_to_num(maps["t"][h]), dict(side, description=f"{name}: minimum of the "
                                                                                   "component t-maps")),
                (name, "tfce", h, maps["tfce"][h], dict(side, description=f"{name}: TFCE of the t-map")),
                (name, "logp", h, -np.log10(maps["p"][h]),
                 dict(side, description=f"{name}: -log10 FWER p (max TFCE over both hemispheres)")),
                (name, "clusters", h, labels[h],
                 dict(side, description=f"{name}: cluster labels of vertices with p <= {cfg['p_threshold']}"))]
        res.null_max[name] = maxv
        res.summary[name] = {"tfce_cutoff": cutoff, "n_significant": int(sum(s.sum() for s in sig.values())),
                             "max_tfce": float(max(maps["tfce"][h].max() for h in HEMIS)), **null_info[name],
                             "p_threshold_reachable": name not in unreachable}
        if region_types and atlas is not None:  # synthetic data: how well the planted truth is recovered
            res.summary[name]["ground_truth"] = stats.ground_truth_overlap(sig, atlas, region_types)
    for key, arr in base.items():  # mean accuracy (or difference) maps across subjects
        for h in HEMIS:
            with warnings.catch_warnings():  # a vertex masked in every subject (medial wall) has a NaN mean
                warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
                mean = np.nanmean(arr[:, cols[h]], axis=0)
            res.maps += [(key, "mean", h, mean, dict(sidecar_common, description=f"{key}: mean across subjects")),
                         (key, "t", h, np.nan_to_num(ts[key][cols[h]]),
                          dict(sidecar_common, description=f"{key}: one-sample t against {stats.CHANCE[key]}"))]
    res.clusters = pd.concat(tables, ignore_index=True)
    res.clusters_sidecar = dict(
        sidecar_common, description="clusters of vertices with p <= p_threshold per test map",
        test_maps={n: dict(null_info[n], p_threshold_reachable=n not in unreachable) for n in names},
        warnings=[f"{n}: p_threshold {cfg['p_threshold']:g} < smallest attainable p {mp:.3g}"
                  for n, mp in unreachable.items()])
    res.group = dict(sidecar_common, test_maps=res.summary)
    return res


def write_group(res: GroupResult, out_dir, mesh: str) -> None:
    """Write the group stage's results: every map with its sidecar (:func:`map_name`), the null maxima,
    ``clusters.tsv`` with ``clusters.json``, and ``group.json``.

    Parameters
    ----------
    res : GroupResult
    out_dir : str or Path
    mesh : str
        Names the maps.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for desc, stat, hemi, values, sidecar in res.maps:
        write_map(map_name(out, hemi, mesh, desc, stat), values, hemi, sidecar, sort_keys=False)
    for name, maxv in res.null_max.items():
        np.save(out / f"null_max_desc-{name.replace('_', '')}.npy", maxv)
    res.clusters.to_csv(out / "clusters.tsv", sep="\t", index=False)
    write_sidecar(out / "clusters.json", res.clusters_sidecar, sort_keys=False)
    write_sidecar(out / "group.json", res.group, sort_keys=False)


def group_analysis(paths: dict, subjects, modes, mesh: str, atlas, cfg: dict, seed: int, out_dir,
                   searchlight_params: dict, log=print, region_types: dict | None = None,
                   surfaces: dict | None = None) -> dict:
    """The group stage as the workflow runs it: :func:`group_maps`, then :func:`write_group` into ``out_dir``.

    Parameters
    ----------
    paths, subjects, modes, mesh, atlas, cfg, seed, searchlight_params, log, region_types, surfaces
        As :func:`group_maps` takes them.
    out_dir : str or Path

    Returns
    -------
    dict
        Per test map: TFCE cut-off, number of significant vertices, maximum TFCE, null scheme, smallest p,
        whether ``p_threshold`` is reachable (and the ground-truth overlap on synthetic data); also in
        ``group.json``.
    """
    res = group_maps(paths, subjects, modes, mesh, atlas, cfg, seed, searchlight_params, log=log,
                     region_types=region_types, surfaces=surfaces)
    write_group(res, out_dir, mesh)
    log(f"group: {res.summary}")
    return res.summary
