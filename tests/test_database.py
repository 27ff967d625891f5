"""The loader rebuilds the database from the YAML, and the database gives the same catalog back."""

from __future__ import annotations

import json
from dataclasses import asdict

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from bot.catalog.model import Catalog, CategoryTree
from bot.db.build import catalog_fingerprint, rebuild, stored_version
from bot.db.models import MaterialRow, ScenarioRow
from bot.db.repository import CatalogRepository
from bot.settings import SCENARIOS_DIR


def without_positions(tree: CategoryTree) -> str:
    """The tree as JSON, minus what only the YAML knows (file, line numbers, the named sets already expanded)."""
    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("line", "file", "material_sets")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    return json.dumps(strip(asdict(tree)), ensure_ascii=False, sort_keys=True)


def test_database_round_trip_equals_yaml(db_url: str, catalog: Catalog) -> None:
    engine = create_engine(db_url, future=True)
    with Session(engine) as session:
        repo = CatalogRepository(session)
        assert repo.version() == catalog_fingerprint(SCENARIOS_DIR)
        assert [c.code for c in repo.categories()] == [c.code for c in catalog.categories]
        for code, tree in catalog.trees.items():
            assert without_positions(repo.tree(code)) == without_positions(tree)
        assert repo.tree("no_such_category") is None
        some = catalog.trees["birth"].scenarios[0]
        assert repo.scenario(some.id).title == some.title
        assert repo.scenario("nope") is None
    engine.dispose()


def test_rebuild_replaces_rows_instead_of_adding(db_url: str, catalog: Catalog) -> None:
    engine = create_engine(db_url, future=True)

    def counts() -> tuple[int, int]:
        with Session(engine) as session:
            return (session.execute(select(func.count()).select_from(ScenarioRow)).scalar_one(),
                    session.execute(select(func.count()).select_from(MaterialRow)).scalar_one())

    before = counts()
    rebuild(engine, catalog, "second-build")
    assert counts() == before
    assert before[0] == catalog.scenario_count
    assert stored_version(engine) == "second-build"
    rebuild(engine, catalog, catalog_fingerprint(SCENARIOS_DIR))
    engine.dispose()


def test_one_of_groups_keep_their_alternatives(db_url: str, catalog: Catalog) -> None:
    from bot.catalog.model import ChoiceGroup

    groups = [(s.id, i) for t in catalog.trees.values() for s in t.scenarios
              for i in s.materials if isinstance(i, ChoiceGroup)]
    assert groups, "the catalog uses '以下任选其一' somewhere"
    engine = create_engine(db_url, future=True)
    with Session(engine) as session:
        repo = CatalogRepository(session)
        sid, group = groups[0]
        stored = [i for i in repo.scenario(sid).materials if isinstance(i, ChoiceGroup)]
        assert [a.name for a in stored[0].alternatives] == [a.name for a in group.alternatives]
    engine.dispose()
