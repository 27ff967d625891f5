"""Catalog reads for the actions, cached per catalog version so a rebuilt database is picked up at once."""

from __future__ import annotations

from bot.catalog.model import CategoryInfo, CategoryTree, Template
from bot.db.repository import CatalogRepository
from bot.db.session import session_factory

_trees: dict[tuple[str | None, str], CategoryTree | None] = {}
_infos: dict[str | None, list[CategoryInfo]] = {}


class CatalogView:
    """What one action run needs from the database."""

    def __init__(self, url: str | None = None):
        self._session = session_factory(url)()
        self._repo = CatalogRepository(self._session)
        self.version = self._repo.version()

    def __enter__(self) -> CatalogView:
        return self

    def __exit__(self, *exc: object) -> None:
        self._session.close()

    def categories(self) -> list[CategoryInfo]:
        if self.version not in _infos:
            _infos.clear()
            _infos[self.version] = self._repo.categories()
        return _infos[self.version]

    def info(self, code: str | None) -> CategoryInfo | None:
        return next((c for c in self.categories() if c.code == code), None)

    def tree(self, code: str) -> CategoryTree | None:
        key = (self.version, code)
        if key not in _trees:
            if any(v != self.version for v, _ in _trees):
                _trees.clear()
            _trees[key] = self._repo.tree(code)
        return _trees[key]

    def templates(self, ids: list[str]) -> list[Template]:
        return self._repo.templates(ids)
