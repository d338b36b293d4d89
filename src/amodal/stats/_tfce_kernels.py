"""TFCE's numba kernels: a union-find sweep per map, maps of a batch in parallel (see :mod:`amodal.stats._tfce`)."""

import numba
import numpy as np


@numba.njit(cache=True)
def find(link, add, v):
    """Root of v, halving the path on the way. ``link[v]`` is v's parent, or −(component size) at a root. A node's
    TFCE is the sum of ``add`` from it to its root; only roots' ``add`` still changes, so when v skips its
    (non-root) parent q, q's settled ``add`` moves into v's."""
    while True:
        q = link[v]
        if q < 0:
            return v
        g = link[q]
        if g < 0:
            return q
        add[v] += add[q]
        link[v] = g
        v = g




@numba.njit(cache=True)
def levels_and_order(x, dh, n_th, strict, lev, order):
    """Fill ``lev[v]``, the highest threshold index k (1..n_th) with x_v ≻ k·dh (0: none), and ``order``, the
    vertices with lev ≥ 1 by descending level (a counting sort, stable). Returns how many vertices that is.

    The thresholds are k·dh, which is exactly what ``np.arange(0, stop, dh)`` produces (numpy fills i·delta), so
    the integer level is exact: an initial guess from x/dh is corrected against the products themselves."""
    n = x.shape[0]
    counts = np.zeros(n_th + 2, np.int32)
    inv = 1.0 / dh  # a guess only; the corrections below compare with k*dh itself
    for v in range(n):
        xv = x[v]
        k = 0
        if xv > 0.0 and xv <= np.inf and n_th > 0:  # NaN and -inf fail the comparisons
            g = xv * inv
            k = n_th if g >= n_th else int(g)
            if strict:  # largest k <= n_th with k*dh < xv
                while k < n_th and (k + 1) * dh < xv:
                    k += 1
                while k >= 1 and k * dh >= xv:
                    k -= 1
            else:  # largest k <= n_th with k*dh <= xv
                while k < n_th and (k + 1) * dh <= xv:
                    k += 1
                while k >= 1 and k * dh > xv:
                    k -= 1
        lev[v] = k
        counts[k] += 1
    # start position of each level in descending order; level 0 is left out
    pos = np.zeros(n_th + 2, np.int32)
    acc = 0
    for k in range(n_th, 0, -1):
        pos[k] = acc
        acc += counts[k]
    for v in range(n):
        k = lev[v]
        if k > 0:
            order[pos[k]] = v
            pos[k] += 1
    return acc


@numba.njit(cache=True)
def tfce_one(x, dh, n_th, strict, indptr, indices, cum, size_pow, out):
    """TFCE of one map into ``out``. ``cum[k]`` = Σ_{j ≤ k} (j·dh)^H dh; ``size_pow[s]`` = s^E."""
    n = x.shape[0]
    levels = np.empty(n, np.int32)
    order = np.empty(n, np.int32)
    n_active = levels_and_order(x, dh, n_th, strict, levels, order)
    inactive = n
    link = np.full(n, inactive, np.int32)  # parent; −size at a root; n while below every threshold so far
    add = np.zeros(n, np.float64)
    top = np.zeros(n, np.int32)  # at a root: the level down to which its contribution is settled
    for idx in range(n_active):
        v = order[idx]
        k = levels[v]
        link[v] = -1
        top[v] = k
        rv = v  # v's root
        for j in range(indptr[v], indptr[v + 1]):
            u = indices[j]
            lu = link[u]
            if lu == inactive or lu == rv:  # not supra-threshold yet, or in v's component one step away
                continue
            ru = find(link, add, u)
            if ru == rv:
                continue
            # settle both components for the levels above k, at their sizes before this merge
            su, sv = -link[ru], -link[rv]
            add[ru] += size_pow[su] * (cum[top[ru]] - cum[k])
            add[rv] += size_pow[sv] * (cum[top[rv]] - cum[k])
            if su < sv:
                ru, rv = rv, ru
            # rv goes under ru: its subtree must not inherit what ru gathered before the merge
            add[rv] -= add[ru]
            link[rv] = ru
            link[ru] = -(su + sv)
            top[ru] = k
            rv = ru
    for idx in range(n_active):
        v = order[idx]
        if link[v] < 0:
            add[v] += size_pow[-link[v]] * (cum[top[v]] - cum[0])
    for v in range(n):
        out[v] = 0.0
    for idx in range(n_active):
        v = order[idx]
        t = add[v]
        u = v
        while link[u] >= 0:  # short: halved by every find above
            u = link[u]
            t += add[u]
        out[v] = t


@numba.njit(parallel=True, cache=True)
def tfce_many(x, dh, n_th, strict, indptr, indices, cum, size_pow):
    n_maps, n = x.shape
    out = np.empty((n_maps, n), np.float64)
    for m in numba.prange(n_maps):
        tfce_one(x[m], dh, n_th[m], strict, indptr, indices, cum, size_pow, out[m])
    return out
