"""One master seed drives every random choice.

A random stream is named by a tuple of keys (for example ``("synthetic", "noise", "sub-01")``). The stream
depends only on the master seed and those keys, never on the order in which jobs run or on the number of
cores, so a result is identical whether the workflow runs on 1 core, 16 cores or a cluster.
"""

from __future__ import annotations

import zlib

import numpy as np


def _key_to_int(key) -> int:
    return zlib.crc32(str(key).encode("utf-8"))


def rng(seed: int, *keys) -> np.random.Generator:
    """A numpy Generator for the stream ``keys`` under master ``seed``."""
    entropy = [int(seed)] + [_key_to_int(k) for k in keys]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def torch_seed(seed: int, *keys) -> int:
    """A 63-bit integer seed for a torch Generator, derived like :func:`rng`."""
    return int(rng(seed, *keys).integers(0, 2**63 - 1))
