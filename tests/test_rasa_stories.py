"""Rasa's own checks: the test stories (tests/stories/test_*.yml) end to end, and `rasa data validate`."""

from __future__ import annotations

import subprocess
import sys

from bot.settings import BUILD_DIR, ROOT
from bot.training import ensure_model


def test_rasa_test_stories_pass() -> None:
    out = BUILD_DIR / "rasa-test-results"
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "test", "core", "--e2e", "--model", str(ensure_model()),
         "--stories", "tests/stories", "--out", str(out), "--fail-on-prediction-errors", "--no-plot"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    failed = (out / "failed_test_stories.yml")
    detail = failed.read_text(encoding="utf-8") if failed.exists() else ""
    assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}\n{detail}"


def test_rasa_data_validates_without_warnings() -> None:
    result = subprocess.run([sys.executable, "-m", "rasa", "data", "validate", "--fail-on-warnings"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
