"""The house stays clean: ruff (configured in pyproject.toml) finds nothing in the library, scripts, tests and
benchmarks, and Snakemake's own linter finds nothing in the workflow."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name):
    path = BIN / name if (BIN / name).exists() else shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run `make setup` (it is in the test extras of pyproject.toml)")
    return str(path)


def test_ruff_is_clean():
    res = subprocess.run([_tool("ruff"), "check", "--no-cache", "--output-format", "concise", "."], cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode == 0, f"ruff check:\n{res.stdout}{res.stderr}"


def test_snakemake_lint_is_clean(tmp_path):
    # --lint reads the workflow without running it; the default config's results folder is not touched
    res = subprocess.run([_tool("snakemake"), "--lint", "--cores", "1", "--directory", str(ROOT), "--snakefile",
                          str(ROOT / "Snakefile")], cwd=ROOT, capture_output=True, text=True)
    out = res.stdout + res.stderr
    assert res.returncode == 0 and "Congratulations" in out, f"snakemake --lint:\n{out}"
