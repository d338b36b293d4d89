"""envs/*.yaml (for --software-deployment-method conda) pin exactly what pyproject.toml pins."""
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def test_conda_envs_match_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pinned = set(project["dependencies"])
    envs = sorted((REPO / "envs").glob("*.yaml"))
    assert envs
    for env in envs:
        spec = yaml.safe_load(env.read_text())
        pip = next(d["pip"] for d in spec["dependencies"] if isinstance(d, dict) and "pip" in d)
        reqs = {r for r in pip if not r.startswith("-")}
        assert reqs == pinned, f"{env.name} differs from pyproject.toml: {reqs ^ pinned}"
        assert "torch==2.14.1" in reqs and "torchvision==0.29.1" in reqs
