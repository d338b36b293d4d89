"""Helpers for workflow_scripts: logging to the rule's log file and thread limits (sidecars: :mod:`amodal.sidecars`)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


_LIMITS = []


def limit_threads(n: int, environ: bool = True) -> None:
    """Keep this job to the ``threads`` its rule declares. Snakemake schedules jobs by their declared threads but
    does not stop torch, numba or the BLAS/OpenMP pools from using every core, so two 1-thread jobs on 2 cores
    would each run 2 threads. Limits torch and numba (when imported) and every BLAS/OpenMP pool
    (threadpoolctl), and, with ``environ``, sets the usual variables for child processes (without it, this
    process only: a test worker whose workflow runs start Snakemake jobs that keep to their own rules' threads)."""
    import os

    from threadpoolctl import threadpool_limits

    n = max(1, int(n))
    if environ:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(n)
    if "numba" in sys.modules:  # first: starting numba's OpenMP layer resets the OpenMP pools to every core
        import numba

        # NUMBA_NUM_THREADS must stay as numba read it at import: numba re-reads the environment whenever it
        # compiles, and a changed value after its threads have started stops the compile with a RuntimeError
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    elif environ:
        os.environ["NUMBA_NUM_THREADS"] = str(n)
    _LIMITS.append(threadpool_limits(limits=n))  # applied now, for the rest of the process
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


def setup_logging(smk) -> logging.Logger:
    """Send this job's log lines (and warnings/tracebacks) to the rule's log file, and keep the job to its
    declared threads (:func:`limit_threads`)."""
    limit_threads(getattr(smk, "threads", 1))
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
        sys.stderr = open(log_path, "a", buffering=1)  # tracebacks and warnings go to the log
    sh = logging.StreamHandler(sys.__stderr__)
    sh.setFormatter(fmt)
    logger.addHandler(sh)
    logging.captureWarnings(True)
    return logger
