"""Helpers for workflow_scripts: logging to the rule's log file, and sidecars."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path


def setup_logging(smk) -> logging.Logger:
    """Send this job's log lines (and warnings/tracebacks) to the rule's log file."""
    log_path = smk.log[0] if len(smk.log) else None
    logger = logging.getLogger("amodal")
    logger.handlers.clear()
    logger.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(log_path, mode="w")
        fh.setFormatter(fmt)
        logger.addHandler(fh)
        sys.stderr = open(log_path, "a", buffering=1)  # noqa: SIM115 - tracebacks and warnings go to the log
    sh = logging.StreamHandler(sys.__stderr__)
    sh.setFormatter(fmt)
    logger.addHandler(sh)
    logging.captureWarnings(True)
    return logger


def write_sidecar(path, **fields) -> None:
    Path(path).write_text(json.dumps(fields, indent=2, sort_keys=True, default=str))


def track_device(device):
    """Reset CUDA peak-memory counters; returns a function that logs the peak (GPU rules call both)."""
    import torch

    dev = torch.device(device)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)

    def report(log):
        if dev.type == "cuda":
            log(f"peak CUDA memory: {torch.cuda.max_memory_allocated(dev) / 2**20:.1f} MiB")
        else:
            log(f"ran on {dev}")

    return report
