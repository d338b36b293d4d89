"""The public API: every sub-package lists its names in __all__, and every public function and class says what it
computes (numpydoc: a Parameters section wherever there are three or more parameters)."""
import importlib
import inspect

import pytest

PACKAGES = ["amodal.metrics", "amodal.data", "amodal.data.synthetic", "amodal.data.adapters", "amodal.features",
            "amodal.models", "amodal.evaluation", "amodal.encoding", "amodal.searchlight", "amodal.stats", "amodal.viz"]
SHARED = ["amodal.errors", "amodal.seeding", "amodal.device", "amodal.surface", "amodal.standardize",
          "amodal.config", "amodal.workflow", "amodal.sidecars", "amodal.provenance", "amodal.reporting"]


def _public(name):
    mod = importlib.import_module(name)
    if name in PACKAGES:
        return mod, list(mod.__all__)
    return mod, [n for n, o in vars(mod).items() if not n.startswith("_") and (inspect.isfunction(o) or
                 inspect.isclass(o)) and o.__module__ == name]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_exist(name):
    mod, names = _public(name)
    assert len(names) == len(set(names))
    for n in names:
        assert hasattr(mod, n), f"{name}.__all__ lists {n!r}, which it does not have"


@pytest.mark.parametrize("name", PACKAGES + SHARED)
def test_public_functions_are_documented(name):
    mod, names = _public(name)
    missing = []
    for n in names:
        obj = getattr(mod, n)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        doc = inspect.getdoc(obj) or ""
        params = [] if inspect.isclass(obj) else [p for p in inspect.signature(obj).parameters if p != "log"]
        if not doc:
            missing.append(f"{n}: no docstring")
        elif len(params) >= 3 and "Parameters" not in doc:
            missing.append(f"{n}: {len(params)} parameters and no Parameters section")
    assert not missing, missing
