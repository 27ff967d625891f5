"""Debian's Chromium for the widget's browser tests: installed with apt when missing, never a downloaded build."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# launched with playwright's launch_persistent_context on a fresh folder: a new profile for every page
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def ensure_chromium() -> str | None:
    """Install Debian's `chromium` when /usr/bin/chromium is missing and we are root; None when it is there,
    else why it is not (the browser tests then fail saying so)."""
    if CHROMIUM.exists():
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"{CHROMIUM} is missing: install Debian's chromium as root (apt-get install -y chromium)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("安装浏览器测试所需的 chromium（apt-get install -y chromium）……", flush=True)
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0 and command[1] == "install":
            return f"apt-get install chromium failed: {done.stderr[-2000:]}"
    return None if CHROMIUM.exists() else f"{CHROMIUM} still missing after apt-get install chromium"

