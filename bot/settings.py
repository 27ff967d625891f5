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


VAR_DIR = ROOT / "var"  # state that outlives a build: bookings, conversations
API_TOKEN_FILE = BUILD_DIR / "api-token"
DATA_KEY_FILE = VAR_DIR / "data-key"


def bind_host() -> str:
    """The address Rasa, the action server and the hall service listen on; 0.0.0.0 only when asked for."""
    return os.environ.get("HUJI_BIND") or "127.0.0.1"


def api_token() -> str:
    """Token of Rasa's HTTP API: HUJI_API_TOKEN, else the one generated once into build/api-token."""
    return os.environ.get("HUJI_API_TOKEN") or _generated_once(API_TOKEN_FILE)


def data_key() -> str:
    """Secret that encrypts personal data in bookings: HUJI_DATA_KEY, else a development key generated once into
    var/data-key (mode 600). Losing it makes the stored names, phones and ID numbers unreadable."""
    return os.environ.get("HUJI_DATA_KEY") or _generated_once(DATA_KEY_FILE)


def retention_days() -> int:
    """Days after the appointment that its personal data is kept (then `./huji purge` blanks it)."""
    return int(os.environ.get("HUJI_RETENTION_DAYS") or "30")


def _generated_once(path: Path) -> str:
    """A random secret kept in `path` (mode 600), created by the first run that needs it."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}-{os.getpid()}")
    draft.write_text(secrets.token_urlsafe(32) + "\n", encoding="utf-8")
    draft.chmod(0o600)
    try:
        os.link(draft, path)  # atomic: a concurrent run that won keeps its secret
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text(encoding="utf-8").strip()


def api_params() -> dict[str, str]:
    """Query parameters a client of Rasa's HTTP API sends (Rasa reads the token from `?token=`)."""
    return {"token": api_token()}


def tracker_db_url() -> str:
    """Where conversations are stored (masked): SQLite under var/ by default, PostgreSQL in production."""
    return os.environ.get("HUJI_TRACKER_DB_URL") or f"sqlite:///{VAR_DIR / 'tracker.sqlite3'}"


ACTIONS_TOKEN_FILE = BUILD_DIR / "actions-token"


def actions_token() -> str:
    """Secret Rasa sends to the action server (endpoints.yml `token:`, as `?token=`): HUJI_ACTIONS_TOKEN, else one
    generated once into build/actions-token. Every Rasa and action-server instance must share the same value."""
    return os.environ.get("HUJI_ACTIONS_TOKEN") or _generated_once(ACTIONS_TOKEN_FILE)


def rate_limit() -> tuple[int, float]:
    """Per-sender limit of the channels: (burst, messages per minute sustained). HUJI_RATE_BURST (default 20) and
    HUJI_RATE_PER_MINUTE (default 60); 0 for either turns the limit off."""
    return int(os.environ.get("HUJI_RATE_BURST") or "20"), float(os.environ.get("HUJI_RATE_PER_MINUTE") or "60")


def old_data_keys() -> list[str]:
    """Previous data keys during a key rotation (HUJI_DATA_KEY_OLD, comma-separated): still decrypt, never encrypt."""
    return [k.strip() for k in (os.environ.get("HUJI_DATA_KEY_OLD") or "").split(",") if k.strip()]
