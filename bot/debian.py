"""Debian packages the tests need beside Python's (a browser, a reverse proxy): installed with apt when missing and
we are root, never a downloaded build."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

# what `./huji test` needs: the widget's browser tests drive chromium; the several-instance test runs nginx
TEST_PACKAGES = {"chromium": Path("/usr/bin/chromium"), "nginx-light": Path("/usr/sbin/nginx")}
_updated = False


def ensure_package(package: str, binary: Path) -> str | None:
    """None when `binary` is there (installing `package` if needed), else why it is not."""
    global _updated
    if binary.exists():
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"{binary} is missing: install Debian's {package} as root (apt-get install -y {package})"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"安装测试所需的 {package}（apt-get install -y {package}）……", flush=True)
    if not _updated:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, text=True)
        _updated = True
    done = subprocess.run(["apt-get", "install", "-y", "-qq", package], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        return f"apt-get install {package} failed: {done.stderr[-2000:]}"
    return None if binary.exists() else f"{binary} still missing after apt-get install {package}"


def ensure_test_packages() -> list[str]:
    """Problems left after installing what the tests need (empty when all is there)."""
    return [p for p in (ensure_package(name, binary) for name, binary in TEST_PACKAGES.items()) if p]
