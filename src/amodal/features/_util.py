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


_BACKEND_DOC = """
Parameters
----------
spec : dict
    {spec}
captions : {captions}
image_paths : sequence of path, length n_stimuli
device : torch.device{device}
batch_size : int
log : callable

Returns
-------
sets : dict
    {sets}
attrs : dict
    {attrs}
"""


def backend_doc(spec: str, sets: str, attrs: str = "How the vectors were pooled.", captions: bool = True,
                device: str = "", extra: str = ""):
    """Decorator: a feature backend's docstring is its own summary plus the parameters every backend shares
    (``backend(spec, captions, image_paths, device, batch_size, log) -> (sets, attrs)``), written once here."""
    import inspect
    import textwrap

    def wrap(text):
        return "\n    ".join(textwrap.wrap(text, 112))

    def deco(func):
        doc = _BACKEND_DOC.format(spec=wrap(spec), sets=wrap(sets), attrs=wrap(attrs),
                                  captions="sequence of str, length n_stimuli" if captions else "ignored",
                                  device=f"\n    {wrap(device)}" if device else "")
        func.__doc__ = inspect.cleandoc(func.__doc__ or "") + "\n" + doc + (f"\n{inspect.cleandoc(extra)}\n"
                                                                          if extra else "")
        return func

    return deco
