"""Provenance: what made an output (amodal's version and git commit, the versions of the libraries that computed
it, the master seed and the config), and a manifest of every output with its size and checksum.

Versions are read from the installed distributions' metadata (:func:`importlib.metadata.version`), so recording
them imports neither torch nor Snakemake. The git commit is that of the workflow checkout (the folder in
``$AMODAL_WORKFLOW_DIR``, which the Snakefile sets, else the current folder), with a flag for uncommitted changes
to tracked files.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

#: The distributions whose versions every output records (issue: torch, numpy, nilearn, MNE and Snakemake, and
#: the others that compute amodal's numbers).
PACKAGES = ("amodal", "torch", "numpy", "scipy", "scikit-learn", "himalaya", "nilearn", "mne", "nibabel",
            "xarray", "zarr", "transformers", "snakemake")


def versions(packages=PACKAGES) -> dict:
    """Installed version of each distribution in ``packages`` (``None`` when it is not installed), and Python's.

    Looked up once per process (about 15 ms for the default list, which every sidecar records)."""
    return dict(_versions(tuple(packages)))


@functools.lru_cache(maxsize=8)
def _versions(packages: tuple) -> dict:
    out = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def set_workflow_dir(folder) -> None:
    """Record ``folder`` (the Snakefile's) as the workflow checkout whose commit outputs record, in
    ``$AMODAL_WORKFLOW_DIR``, which job processes inherit (on a cluster each job parses the Snakefile again)."""
    os.environ["AMODAL_WORKFLOW_DIR"] = str(folder)


@functools.lru_cache(maxsize=8)
def git_state(folder: str | None = None) -> dict:
    """The commit checked out in ``folder`` (default: ``$AMODAL_WORKFLOW_DIR``, else the current folder).

    Returns ``{"commit": sha, "dirty": bool}``; ``{"commit": None, "dirty": None}`` when the folder is not a git
    checkout (a copied workflow, a release tarball) or git is missing, so that a record never invents a commit.
    ``dirty`` says whether tracked files differ from that commit (untracked files are not counted).
    """
    folder = folder or os.environ.get("AMODAL_WORKFLOW_DIR") or os.getcwd()

    def git(*args):
        return subprocess.run(["git", "-C", folder, *args], capture_output=True, text=True, timeout=30)

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return {"commit": None, "dirty": None}
        status = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}


def stamp() -> dict:
    """The block every sidecar carries: amodal's version, the git state of the workflow, library versions."""
    v = versions()
    return {"amodal_version": v["amodal"], "git": dict(git_state()), "versions": v}


def record(config: dict) -> dict:
    """The whole-run provenance (``results/provenance.json``): :func:`stamp`, the master seed, the resolved config
    and the time it was written (UTC)."""
    return {**stamp(), "master_seed": config.get("seed"), "config": config,
            "written": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def _sha256(path: Path, block: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


def _is_store(path: Path) -> bool:
    """A Zarr store (v2 or v3) is one output, however many chunk files it holds."""
    return path.is_dir() and ((path / "zarr.json").exists() or (path / ".zgroup").exists()
                              or (path / ".zarray").exists())


def manifest(root, exclude=()) -> list[dict]:
    """Every output under ``root``: its path (relative, POSIX), size in bytes and SHA-256.

    A Zarr store counts as one output: its size is the sum of its files and its checksum is the SHA-256 of the
    sorted lines ``<relative path> <file sha256>`` of its files, so it changes when any chunk or metadata file
    does. Entries are sorted by path. ``exclude`` names paths (relative to ``root``) to leave out, such as the
    manifest itself.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such results folder; run the workflow first")
    skip = {str(Path(e)) for e in exclude}
    entries = []

    def walk(folder: Path):
        for p in sorted(folder.iterdir()):
            rel = p.relative_to(root).as_posix()
            if rel in skip:
                continue
            if _is_store(p):
                files = sorted(f for f in p.rglob("*") if f.is_file())
                lines = "".join(f"{f.relative_to(p).as_posix()} {_sha256(f)}\n" for f in files)
                entries.append({"path": rel, "kind": "zarr", "bytes": sum(f.stat().st_size for f in files),
                                "n_files": len(files), "sha256": hashlib.sha256(lines.encode()).hexdigest()})
            elif p.is_dir():
                walk(p)
            elif p.is_file():
                entries.append({"path": rel, "kind": "file", "bytes": p.stat().st_size, "sha256": _sha256(p)})

    walk(root)
    return entries


def write_manifest(root, out, exclude=()) -> dict:
    """Write :func:`manifest` of ``root`` as JSON at ``out``, with :func:`stamp`.

    Parameters
    ----------
    root : str or Path
        The results folder.
    out : str or Path
        The manifest; left out of itself when it lies under ``root``.
    exclude : sequence of str
        Paths relative to ``root`` to leave out (folders with everything under them).

    Returns
    -------
    dict
        What was written: the stamp, ``n_outputs``, ``total_bytes`` and ``outputs`` (:func:`manifest`).
    """
    out = Path(out)
    exclude = list(exclude)
    try:
        exclude.append(out.resolve().relative_to(Path(root).resolve()).as_posix())
    except ValueError:
        pass
    entries = manifest(root, exclude=exclude)
    doc = {**stamp(), "root": str(root), "n_outputs": len(entries),
           "total_bytes": sum(e["bytes"] for e in entries), "outputs": entries}
    out.write_text(json.dumps(doc, indent=1))
    return doc
