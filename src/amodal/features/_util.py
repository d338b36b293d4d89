"""Small helpers shared by the feature backends."""

from __future__ import annotations


def batches(items, size):
    """Consecutive slices of ``items`` of at most ``size`` elements."""
    for k in range(0, len(items), size):
        yield items[k: k + size]


def progress(log, what, done, total, batch):
    """Log about ten progress lines per extraction: whenever a batch crosses a tenth of the total."""
    if log is not None and (done == total or (10 * done) // total != (10 * max(done - batch, 0)) // total):
        log(f"{what}: {done}/{total} stimuli")
