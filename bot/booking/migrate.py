"""Brings the booking database up to date with alembic, programmatically: no alembic.ini to ship or find."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine

from .engine import make_engine

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "booking_alembic_version"  # its own name, in case the database is shared with other migrations


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(url_or_engine: str | Engine, revision: str = "head") -> None:
    """Runs pending migrations. The connection is handed to env.py, so URLs with `%` (PostgreSQL options such as
    search_path) never go through alembic's config-file interpolation. On SQLite the engine's BEGIN IMMEDIATE
    serializes concurrent upgrades the same way."""
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # two servers starting at once must not both create the tables
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('huji_booking_migrations'))"))
            cfg = config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        if isinstance(url_or_engine, str):
            engine.dispose()
