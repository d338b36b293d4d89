"""FWER calibration of the group statistics under the global null (METHOD §9: at most 5% of pure-noise
simulations may show a significant vertex).

Each simulation draws, for every subject, an observed searchlight map and ``n_null`` per-subject null maps that are
exchangeable with it (smooth Gaussian fields around chance on the mesh, for the four components of the
modality-invariant map). It then runs the group chain exactly as the pipeline does: t-maps, their minimum, TFCE on
both hemispheres, the Stelzer null of the maximum, p-values. A simulation is a family-wise false positive when any
vertex has p ≤ alpha. The FWER over simulations should be close to alpha.
"""

from __future__ import annotations

import numpy as np

from . import HEMIS, stats
from .seeding import rng
from .surface import adjacency, ico_mesh, smooth, smoothing_operator


def simulate_fwer(n_sims: int = 200, n_subjects: int = 6, n_null: int = 100, n_perm: int = 1000,
                  alpha: float = 0.05, grade: int = 3, smoothness: int = 2, sd: float = 0.04, seed: int = 0,
                  test_map: str = "mod_agnostic_and_cross") -> dict:
    coords, faces = ico_mesh(grade)
    nv = coords.shape[0]
    adj = {h: adjacency(faces, nv) for h in HEMIS}
    op = smoothing_operator(faces, nv)
    cols = {h: slice(i * nv, (i + 1) * nv) for i, h in enumerate(HEMIS)}
    keys = [(mode, metric) for name, mode, metric, _ in stats.BASE if name in stats.TEST_MAPS[test_map]]
    kw = {"e_power": 1.0, "h_power": 2.0, "dh": 0.1}
    hits, n_sig = [], []
    for s in range(n_sims):
        g = rng(seed, "calibration", s)
        obs, null = {}, {}
        for key in keys:
            field = smooth(g.standard_normal((nv, n_subjects * (n_null + 1) * 2)), op, smoothness)
            field = (0.5 + sd * field / field.std()).T.reshape(n_subjects, n_null + 1, 2 * nv)
            obs[key], null[key] = field[:, 0], field[:, 1:].astype(np.float32)
        tm = stats.test_map(stats.t_maps(stats.base_values(obs)), test_map)
        maxima = stats.group_null(null, cols, adj, [test_map], n_perm, int(g.integers(2**31)), kw)[test_map]
        sig = 0
        for h in HEMIS:
            t = stats.tfce(np.nan_to_num(tm[cols[h]], nan=-np.inf), adj[h], **kw)
            sig += int((stats.p_values(t, maxima) <= alpha).sum())
        hits.append(sig > 0)
        n_sig.append(sig)
    fwer = float(np.mean(hits))
    se = float(np.sqrt(fwer * (1 - fwer) / n_sims))
    return {"n_sims": n_sims, "alpha": alpha, "fwer": fwer, "se": se, "n_vertices": 2 * nv,
            "n_subjects": n_subjects, "n_null": n_null, "n_perm": n_perm,
            "mean_significant_vertices": float(np.mean(n_sig))}
