"""The group null's test maps in one compiled pass (see :func:`amodal.stats._permutations.group_null`).

For a batch of group permutations, every test map of a null family is computed straight from the per-subject
null maps: each permutation reads the null-map row its configuration picks for each subject (no gathered copy of
the rows), forms the one-sample t of each component across subjects, and keeps the vertex-wise minimum of the
components. Permutations run in parallel over the cores; within one, vertices go in blocks that stay in cache, and
the loops over a block's vertices are the innermost (they vectorise).

Why not numpy: the same steps as array operations (gather, float64 copy, mean, variance, maximum, where, stack,
minimum) pass over every permutation's S x V values about twenty times on one core; at fsaverage7 that took about
2,000 of the group stage's 2,380 s (bench/group_permutations.py times both forms side by side). The arithmetic is
:func:`amodal.stats.ttest_1samp`'s, step by step and in its order (sums over subjects in subject order, as numpy
reduces a non-contiguous axis), so the maps are equal to the last bit (a test checks them against the numpy form)."""

import numba
import numpy as np

BLOCK = 2048  # vertices per block: a block's sums and its S rows of one component stay in L1/L2
EPS4 = 4.0 * float(np.finfo(np.float32).eps)  # ttest_1samp's "zero variance" tolerance, per unit of |x|


@numba.njit(parallel=True, cache=True, error_model="numpy")  # x / 0 is inf or NaN, as in numpy
def test_maps(null, picks, comp_a, comp_b, chance, comp_ptr, out):
    """Fill ``out[m, p, :]`` with test map m of permutation p.

    ``null``: typed list of arrays (S, n_null, V) of one dtype, one per null key; ``picks``: (P, S) null-map index
    per subject; component c reads key ``comp_a[c]``, minus key ``comp_b[c]`` when that is ≥ 0 (a difference,
    taken in the maps' dtype as the numpy form does), against ``chance[c]``; test map m is the minimum of components
    ``comp_ptr[m] .. comp_ptr[m + 1] - 1``, NaN where all are NaN."""
    n_maps, n_perm, n = out.shape
    n_sub = picks.shape[1]
    if n_sub < 2:  # no variance across one subject: every t is NaN, as ttest_1samp's
        out[:] = np.nan
        return
    for p in numba.prange(n_perm):
        x = np.empty((n_sub, BLOCK), np.float64)
        mean = np.empty(BLOCK, np.float64)
        ssq = np.empty(BLOCK, np.float64)
        scale = np.empty(BLOCK, np.float64)
        for lo in range(0, n, BLOCK):
            hi = min(lo + BLOCK, n)
            w = hi - lo
            for m in range(n_maps):
                res = out[m, p, lo:hi]
                res[:] = np.inf
                valid = np.zeros(w, np.bool_)
                for c in range(comp_ptr[m], comp_ptr[m + 1]):
                    a = null[comp_a[c]]
                    for s in range(n_sub):
                        ra = a[s, picks[p, s], lo:hi]
                        if comp_b[c] >= 0:
                            rb = null[comp_b[c]][s, picks[p, s], lo:hi]
                            for j in range(w):
                                x[s, j] = ra[j] - rb[j]  # in the maps' dtype, then widened
                        else:
                            for j in range(w):
                                x[s, j] = ra[j]
                    for j in range(w):
                        mean[j] = x[0, j]
                        scale[j] = abs(x[0, j])
                    for s in range(1, n_sub):
                        for j in range(w):
                            mean[j] += x[s, j]
                            v = abs(x[s, j])
                            if v > scale[j] or v != v:  # numpy's maximum propagates NaN
                                scale[j] = v
                    for j in range(w):
                        mean[j] /= n_sub
                        ssq[j] = 0.0
                    for s in range(n_sub):
                        for j in range(w):
                            d = x[s, j] - mean[j]
                            ssq[j] += d * d
                    for j in range(w):
                        var = ssq[j] / (n_sub - 1)
                        tol = EPS4 * scale[j]
                        if not var > tol * tol:
                            continue  # NaN: zero variance, or a NaN input
                        t = (mean[j] - chance[c]) / np.sqrt(var / n_sub)
                        if t != t:
                            continue
                        valid[j] = True
                        if t < res[j]:
                            res[j] = t
                for j in range(w):
                    if not valid[j]:
                        res[j] = np.nan
