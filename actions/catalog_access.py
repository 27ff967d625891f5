"""Catalog reads for the actions, cached per database and catalog version, so a rebuilt database is picked up."""

from __future__ import annotations

from bot.catalog.model import CategoryInfo, CategoryTree, Template
from bot.db.repository import CatalogRepository
from bot.db.session import session_factory
from bot.settings import database_url

_cache: dict[tuple[str, str | None], dict[str, object]] = {}  # (url, version) -> cached reads


class CatalogView:
    """What one action run needs from the database."""

    def __init__(self, url: str | None = None):
        self.url = url or database_url()
        self._session = session_factory(self.url)()
        self._repo = CatalogRepository(self._session)
        key = (self.url, self._repo.version())
        if key not in _cache:
            for stale in [k for k in _cache if k[0] == self.url]:
                del _cache[stale]
            _cache[key] = {}
        self._reads = _cache[key]

    def __enter__(self) -> CatalogView:
        return self

    def __exit__(self, *exc: object) -> None:
        self._session.close()

    def categories(self) -> list[CategoryInfo]:
        if "categories" not in self._reads:
            self._reads["categories"] = self._repo.categories()
        return self._reads["categories"]  # type: ignore[return-value]

    def info(self, code: str | None) -> CategoryInfo | None:
        return next((c for c in self.categories() if c.code == code), None)

    def tree(self, code: str) -> CategoryTree | None:
        key = f"tree:{code}"
        if key not in self._reads:
            self._reads[key] = self._repo.tree(code)
        return self._reads[key]  # type: ignore[return-value]

    def templates(self, ids: list[str]) -> list[Template]:
        return self._repo.templates(ids)
