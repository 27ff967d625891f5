"""Debian's Chromium for the widget's browser tests: installed with apt when missing, never a downloaded build."""

from __future__ import annotations

from pathlib import Path

from bot.debian import ensure_package

CHROMIUM = Path("/usr/bin/chromium")
# launched with playwright's launch_persistent_context on a fresh folder: a new profile for every page
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def ensure_chromium() -> str | None:
    """Install Debian's `chromium` when /usr/bin/chromium is missing and we are root; None when it is there,
    else why it is not (the browser tests then fail saying so)."""
    return ensure_package("chromium", CHROMIUM)
