"""Debian packages the integration tests need (chromium, postgresql, ...), installed by the tests themselves.

`require(binary, package)` returns the binary's path. When it is missing and this is a Debian machine where we may
install (root, apt-get), it installs the package from Debian's registry once, under a file lock shared by the xdist
workers; otherwise the test skips with a reason naming what is missing.
"""

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

APT_TIMEOUT = 900


def _find(binary: str, extra_dirs: tuple[str, ...]) -> str | None:
    found = shutil.which(binary)
    if found:
        return found
    for folder in extra_dirs:
        for candidate in sorted(Path("/").glob(folder.lstrip("/"))):
            if (candidate / binary).is_file() and os.access(candidate / binary, os.X_OK):
                return str(candidate / binary)
    return None


def _apt_install(packages: list[str]) -> str | None:
    """Install packages with apt-get; None on success, else why not."""
    apt = shutil.which("apt-get")
    if not apt:
        return "apt-get is not available (not a Debian machine)"
    if os.geteuid() != 0:
        return "not root: cannot apt-get install"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = [apt, "install", "-y", "-q", "--no-install-recommends", *packages]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=APT_TIMEOUT)
    if done.returncode != 0:  # the package lists may be missing or stale on a fresh machine
        subprocess.run([apt, "update", "-q"], capture_output=True, env=env, timeout=APT_TIMEOUT)
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=APT_TIMEOUT)
    if done.returncode != 0:
        return f"apt-get install {' '.join(packages)} failed: {done.stderr.strip()[-300:]}"
    return None


def require(binary: str, *packages: str, extra_dirs: tuple[str, ...] = ()) -> str:
    """The path of binary, installing the Debian packages that provide it when missing; else pytest.skip."""
    found = _find(binary, extra_dirs)
    if found:
        return found
    lock_path = Path(tempfile.gettempdir()) / "fhir-ire-apt.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one apt-get at a time, across xdist workers
        found = _find(binary, extra_dirs)
        if found:
            return found
        why = _apt_install(list(packages or (binary,)))
    found = _find(binary, extra_dirs)
    if found:
        return found
    pytest.skip(f"{binary} is missing and could not be installed ({why or 'installed, but not found'})")
