"""Trains the Rasa model only when one of its inputs changed (fingerprint in the model's file name)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

from bot.settings import MODELS_DIR, ROOT

INPUTS = ["config.yml", "domain.yml", "requirements.txt", "data", "scenarios", "bot/nlu"]
NOT_INPUTS = {"scenarios/halls.yml", "scenarios/README.md"}  # halls and docs do not change what the model learns
KEEP_MODELS = 3


def fingerprint() -> str:
    digest = hashlib.sha256()
    for entry in INPUTS:
        path = ROOT / entry
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            name = f.relative_to(ROOT).as_posix()
            if f.suffix in (".yml", ".yaml", ".py", ".txt", ".md") and "__pycache__" not in f.parts \
                    and name not in NOT_INPUTS:
                digest.update(name.encode())
                digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def model_path() -> Path:
    return MODELS_DIR / f"huji-{fingerprint()}.tar.gz"


def ensure_model() -> Path:
    path = model_path()
    if path.exists():
        return path
    print("训练 Rasa 模型（输入有变化）……", flush=True)
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "rasa", "train", "--fixed-model-name", path.name.removesuffix(".tar.gz"),
         "--out", str(MODELS_DIR), "--config", "config.yml", "--domain", "domain.yml", "--data", "data"],
        cwd=ROOT, check=True,
    )
    print(f"模型训练完成，用时 {time.monotonic() - started:.0f} 秒：{path.name}", flush=True)
    for old in sorted(MODELS_DIR.glob("huji-*.tar.gz"), key=lambda p: p.stat().st_mtime)[:-KEEP_MODELS]:
        old.unlink()
    return path
