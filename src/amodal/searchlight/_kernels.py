"""The searchlight's numba kernels, apart so that the torch code can be read (and imported) without them.

Both run on CPU only; on CUDA the searchlight uses torch's equivalents (tests check that they agree).
"""

import numba
import numpy as np


@numba.njit(parallel=True, cache=True)
def win_sums_kernel(dist, targets, out):
    """out[c, p] = total wins of the target assignment ``targets[p]`` at centre c (see ``win_sums``)."""
    b, n, m = dist.shape
    for c in numba.prange(b):
        wins = np.empty(m, np.int64)
        acc = np.zeros(targets.shape[0], np.int64)
        for i in range(n):
            row = dist[c, i]
            for t in range(m):  # all m x m comparisons: branch-free and vectorised, faster than a sort at m ~ 70
                v = row[t]
                k = 0
                for j in range(m):
                    k += row[j] > v
                wins[t] = k
            for p in range(targets.shape[0]):
                acc[p] += wins[targets[p, i]]
        for p in range(targets.shape[0]):
            out[c, p] = acc[p]


@numba.njit(parallel=True, cache=True)
def block_kernel(src, which, rows, out):
    """out[b] = src[which[b]][rows[b]][:, rows[b]] (see ``take_block``)."""
    for b in numba.prange(rows.shape[0]):
        m = src[which[b]]
        for i in range(rows.shape[1]):
            row = m[rows[b, i]]
            for j in range(rows.shape[1]):
                out[b, i, j] = row[rows[b, j]]
