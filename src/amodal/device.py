"""The one place that decides where torch computes (CPU or CUDA), and reports what a job used there.

Every stage accepts ``device="auto"`` (CUDA when one is visible, else CPU), ``"cpu"``, ``"cuda"`` or
``"cuda:N"``; :func:`resolve_device` turns that setting into a :class:`torch.device`. torch is imported when a
function is called, never at import, so configuration code (and ``snakemake -n``) stays light.
"""

from __future__ import annotations


def resolve_device(device="auto"):
    """The torch device a setting names.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` (CUDA when available, else CPU), or any name torch accepts (``"cpu"``, ``"cuda:1"``).

    Returns
    -------
    torch.device
    """
    import torch

    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def track_device(device):
    """Reset the CUDA peak-memory counter of ``device`` and return a function that logs the peak.

    Parameters
    ----------
    device : str or torch.device
        The device the job computes on (``"auto"`` is resolved first).

    Returns
    -------
    report : callable
        ``report(log)`` calls ``log`` with one line: the peak CUDA memory in MiB, or ``"ran on cpu"``.
    """
    import torch

    dev = resolve_device(device)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)

    def report(log):
        if dev.type == "cuda":
            log(f"peak CUDA memory: {torch.cuda.max_memory_allocated(dev) / 2**20:.1f} MiB")
        else:
            log(f"ran on {dev}")

    return report
