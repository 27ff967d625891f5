"""Catalog reads for the actions, held in memory per database and catalog version.

A turn reads nothing from the database once its reads are in memory: the catalog version is looked up again at
most every VERSION_CHECK_SECONDS, and a new version (a rebuilt database) drops what was read of the old one.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot.catalog.model import CategoryInfo, CategoryTree, Template
from bot.db.repository import CatalogRepository
from bot.db.session import session_factory
from bot.settings import database_url

VERSION_CHECK_SECONDS = 1.0  # how soon a rebuilt database is picked up


@dataclass
class _Held:
    version: str | None
    checked: float
    reads: dict[str, object] = field(default_factory=dict)


_held: dict[str, _Held] = {}  # database url -> its catalog version and what was read of it
_lock = threading.Lock()  # rasa_sdk runs synchronous actions in threads


class CatalogView:
    """What one action run needs from the catalog; a database session is opened only on a miss."""

    def __init__(self, url: str | None = None):
        self.url = url or database_url()
        self._session: Session | None = None
        with _lock:
            held = _held.get(self.url)
            if held is None or time.monotonic() - held.checked >= VERSION_CHECK_SECONDS:
                version = self._repo().version()
                if held is None or held.version != version:
                    held = _held[self.url] = _Held(version, time.monotonic())
                held.checked = time.monotonic()
        self._reads = held.reads

    def _repo(self) -> CatalogRepository:
        if self._session is None:
            self._session = session_factory(self.url)()
        return CatalogRepository(self._session)

    def __enter__(self) -> CatalogView:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def _read(self, key: str, load):  # noqa: ANN001, ANN202 - a repository call and its result
        if key not in self._reads:
            self._reads[key] = load(self._repo())
        return self._reads[key]

    def categories(self) -> list[CategoryInfo]:
        return self._read("categories", lambda repo: repo.categories())

    def info(self, code: str | None) -> CategoryInfo | None:
        return next((c for c in self.categories() if c.code == code), None)

    def tree(self, code: str) -> CategoryTree | None:
        return self._read(f"tree:{code}", lambda repo: repo.tree(code))

    def templates(self, ids: list[str]) -> list[Template]:
        return list(self._read("templates:" + "\x1f".join(ids), lambda repo: repo.templates(ids)))
