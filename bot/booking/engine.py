"""The booking database engine, tuned so concurrent writers serialize instead of failing, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import QueuePool

# Sized for ~200 concurrent HTTP clients. Requests queue for a small worker pool (see `workers`) rather than for
# connections; the overflow is headroom for other users of the same engine.
POOL_SIZE, MAX_OVERFLOW, POOL_TIMEOUT = 10, 20, 30
READ_ONLY = "booking_read_only"  # execution option: a SQLite read needs no write lock


def make_engine(url: str) -> Engine:
    """hide_parameters: a database error that ends up in a log must not carry names, phones or ID numbers."""
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(url, future=True, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW, pool_timeout=POOL_TIMEOUT,
                         pool_pre_ping=True, isolation_level="READ COMMITTED", hide_parameters=True)


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)  # var/ on first run
    engine = create_engine(url, future=True, poolclass=QueuePool, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW,
                           pool_timeout=POOL_TIMEOUT, connect_args={"timeout": 30, "check_same_thread": False},
                           hide_parameters=True)

    # pysqlite's own transaction handling would start a deferred transaction that fails with "database is locked"
    # when two writers upgrade at once; take the write lock up front instead (SQLAlchemy's documented recipe).
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:  # noqa: ANN001 - DBAPI types
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # noqa: ANN001 - a SQLAlchemy Connection
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

    return engine


def workers(engine: Engine) -> int:
    """Threads that should run booking calls. SQLite writes one at a time and the work is mostly Python under the
    GIL, so a few threads beat many (measured: 4 threads ~400 bookings/s, 30 threads ~150/s on 2 cores);
    PostgreSQL overlaps network waits, up to the pool size."""
    configured = os.environ.get("HUJI_BOOKING_WORKERS")
    if configured and configured.isdigit() and int(configured) > 0:
        return int(configured)
    return 4 if engine.dialect.name == "sqlite" else POOL_SIZE
