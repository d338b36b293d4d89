"""Debian's Chromium for the report's browser test, installed on demand like the SLURM test's cluster."""
import os
import shutil
import subprocess


def chromium() -> tuple[str | None, str | None]:
    """``(path, None)`` with Chromium's path, installing Debian's package when missing and possible; else
    ``(None, reason)``."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe:
        return exe, None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None, "needs Chromium, or root and apt-get to install Debian's chromium package"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    if subprocess.run(install, capture_output=True, env=env, timeout=900).returncode != 0:
        subprocess.run(["apt-get", "update"], check=True, capture_output=True, env=env, timeout=900)
        subprocess.run(install, check=True, capture_output=True, env=env, timeout=900)
    return shutil.which("chromium"), None
