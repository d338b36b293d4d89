"""The searchlight's per-subject null: permutations of the test and imagery targets (METHOD §6, §10).

Image and caption blocks: derangements of the unique test stimuli. Imagery: every ordering of the imagery
targets, identity first (all 6 for 3 targets), or uniform draws when there are more orderings than null maps.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..seeding import rng


def derangement(n: int, gen: np.random.Generator) -> np.ndarray:
    """A uniformly drawn permutation of ``n`` items with no fixed point (rejection sampling, as the reference);
    int array of shape (n,).
    """
    while True:
        p = gen.permutation(n)
        if not np.any(p == np.arange(n)):
            return p


def imagery_orderings(n_imagery: int, n_perm: int, gen: np.random.Generator) -> np.ndarray:
    """The imagery null: orderings of the ``n_imagery`` targets.

    Parameters
    ----------
    n_imagery : int
    n_perm : int
        Null maps requested.
    gen : numpy.random.Generator

    Returns
    -------
    int array of shape (n_orderings, n_imagery)
        Every ordering (identity first, then lexicographic) when there are at most ``n_perm`` of them (or fewer
        than 2 targets, which have only the identity); else ``n_perm`` orderings drawn uniformly from all of them,
        identity allowed.
    """
    if n_perm == 0:
        return np.zeros((0, n_imagery), np.int64)
    if n_imagery < 2:
        return np.arange(n_imagery, dtype=np.int64)[None]
    if math.factorial(n_imagery) <= n_perm:
        return np.array(list(itertools.permutations(range(n_imagery))), np.int64)
    return np.stack([gen.permutation(n_imagery) for _ in range(n_perm)]).astype(np.int64)


def imagery_null_is_exhaustive(ima: np.ndarray) -> bool:
    """Whether an imagery null (int array of shape (n_orderings, n_imagery)) holds every ordering of its
    targets once, identity first, so that the group test over it is exact.
    """
    n = ima.shape[1]
    return ima.shape[0] == math.factorial(n) and ima.shape[0] > 0 and bool(np.all(ima[0] == np.arange(n))) and \
        len({tuple(r) for r in ima.tolist()}) == ima.shape[0]


def null_permutations(n_image: int, n_caption: int, n_imagery: int, n_perm: int, seed: int, subject: str):
    """Per-subject permutations, shared by every vertex and decoder of the subject (coherent null maps).

    Parameters
    ----------
    n_image, n_caption, n_imagery : int
        Unique test stimuli of each block, and imagery targets.
    n_perm : int
    seed : int
    subject : str
        Each subject gets its own stream of the master seed.

    Returns
    -------
    image : int array of shape (n_perm, n_image)
    caption : int array of shape (n_perm, n_caption)
        Derangements of the unique test stimuli.
    imagery : int array of shape (n_orderings, n_imagery)
        :func:`imagery_orderings` (all 6 orderings of 3 targets, identity first, whenever ``n_perm`` ≥ 6).
    """
    gen = rng(seed, "searchlight-null", subject)
    img = np.stack([derangement(n_image, gen) for _ in range(n_perm)]) if n_perm else np.zeros((0, n_image), int)
    cap = np.stack([derangement(n_caption, gen) for _ in range(n_perm)]) if n_perm else np.zeros((0, n_caption), int)
    return img, cap, imagery_orderings(n_imagery, n_perm, gen)


def target_assignments(target: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """Each trial's candidate under the observed targets and under every permutation.

    A trial's repeats share its stimulus, so a derangement of the stimuli never maps a trial onto one of its own
    repeats.

    Parameters
    ----------
    target : int array of shape (n,)
        Each trial's candidate index.
    perms : int array of shape (P, m)
        Permutations of the m candidates (candidate c relabelled ``perms[p, c]``).

    Returns
    -------
    int array of shape (1 + P, n)
        Row 0 the observed targets, row 1 + p those under permutation p.
    """
    target = np.asarray(target, np.int64)
    return np.concatenate([target[None], np.asarray(perms, np.int64)[:, target]]) if len(perms) else target[None]
