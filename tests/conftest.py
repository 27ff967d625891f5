"""Shared fixtures: the real catalog, and real databases (SQLite file and PostgreSQL schema)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.catalog.loader import load_valid_catalog
from bot.catalog.model import Catalog
from bot.db.build import catalog_fingerprint, rebuild
from bot.nlu.matcher import PhraseFinder
from bot.settings import SCENARIOS_DIR

REDIS_URL = os.environ.get("HUJI_TEST_REDIS", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get("HUJI_TEST_POSTGRES", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session", autouse=True)
def _conversations_in_a_throwaway_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Assistants the tests start store conversations in this session's own SQLite file, never in var/."""
    if os.environ.get("HUJI_TRACKER_DB_URL"):
        yield
        return
    os.environ["HUJI_TRACKER_DB_URL"] = f"sqlite:///{tmp_path_factory.mktemp('tracker') / 'tracker.sqlite3'}"
    try:
        yield
    finally:
        os.environ.pop("HUJI_TRACKER_DB_URL", None)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_valid_catalog(SCENARIOS_DIR)


@pytest.fixture(scope="session")
def finder(catalog: Catalog) -> PhraseFinder:
    return PhraseFinder.for_catalog(catalog)


@contextmanager
def throwaway_postgres_schema(prefix: str = "huji") -> Iterator[str]:
    """A fresh schema in the shared `test` database (dropped afterwards), so parallel runs never collide."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, future=True)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    with throwaway_postgres_schema() as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database built from the real catalog, on each supported backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{Path(tmp_path_factory.mktemp('db')) / 'catalog.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_schema_url")
    engine = create_engine(url, future=True)
    rebuild(engine, catalog, catalog_fingerprint(SCENARIOS_DIR))
    engine.dispose()
    return url


@contextmanager
def throwaway_redis_prefix(kind: str) -> Iterator[str]:
    """A key prefix no other test run uses; every key under it is deleted afterwards."""
    import redis

    prefix = f"huji-test:{kind}:{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(prefix + "*"))
    if keys:
        client.delete(*keys)
