"""Paths, ports and URLs; every value can be overridden by an environment variable."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS_DIR = Path(os.environ.get("HUJI_SCENARIOS_DIR") or ROOT / "scenarios")  # override: a trial copy
BUILD_DIR = ROOT / "build"
JIEBA_DICT_DIR = BUILD_DIR / "jieba"  # JiebaTokenizer loads every file in this folder
GENERATED_NLU = ROOT / "data" / "nlu" / "catalog.yml"
MODELS_DIR = ROOT / "models"

HOTLINE = "12345"  # 广州市政务服务便民热线，可转公安户政咨询


def database_url() -> str:
    return os.environ.get("HUJI_DATABASE_URL") or f"sqlite:///{BUILD_DIR / 'catalog.sqlite3'}"


def rasa_port() -> int:
    return int(os.environ.get("HUJI_RASA_PORT", "5005"))


def actions_port() -> int:
    return int(os.environ.get("HUJI_ACTIONS_PORT", "5055"))


def halls_port() -> int:
    """The hall service: halls, live queues, slots and appointments (bot/api)."""
    return int(os.environ.get("HUJI_HALLS_PORT", "5080"))


def halls_url() -> str:
    return os.environ.get("HUJI_HALLS_URL") or f"http://127.0.0.1:{halls_port()}"


def public_url() -> str:
    """Base of the links citizens get (notice sheets, forms): the hall service as the public reaches it."""
    return (os.environ.get("HUJI_PUBLIC_URL") or "http://localhost:5080").rstrip("/")
