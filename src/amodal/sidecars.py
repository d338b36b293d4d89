"""JSON sidecars: every output map and table of amodal carries the parameters that made it."""

from __future__ import annotations

import json
from pathlib import Path


def sidecar_path(path) -> Path:
    """The sidecar of a GIFTI map: ``x.func.gii`` → ``x.json`` (BIDS derivatives' convention)."""
    return Path(str(path).replace(".func.gii", ".json"))


def write_sidecar(path, fields: dict, sort_keys: bool = True) -> None:
    """Write ``fields`` as indented JSON at ``path``, with a ``provenance`` block (amodal's version, the git
    commit of the workflow and the library versions: :func:`amodal.provenance.stamp`); values JSON cannot hold
    are written as strings.

    Parameters
    ----------
    path : str or Path
    fields : dict
    sort_keys : bool
        Sort the keys (the workflow's sidecars); the group stage keeps its own order.
    """
    from .provenance import stamp

    fields = {**fields, "provenance": stamp()}
    Path(path).write_text(json.dumps(fields, indent=2, sort_keys=sort_keys, default=str))
