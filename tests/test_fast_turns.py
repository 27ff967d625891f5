"""Fast turns (issue 13): action responses validated by a schema compiled once, the catalog held in memory per
version, one client session to the hall service."""

from __future__ import annotations

import asyncio
from pathlib import Path

import jsonschema
import pytest
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from sqlalchemy import create_engine

import bot.tracker_store  # noqa: F401 - what `rasa run` imports: it activates the patch
from actions import catalog_access
from actions.catalog_access import CatalogView
from actions.hall_service import HallService, HallServiceError, client_session
from bot import action_validation
from bot.catalog.model import Catalog
from bot.db.build import rebuild
from tests.hall_service import serving

VALID = {"events": [{"event": "slot", "name": "category", "value": "birth"}],
         "responses": [{"text": "好的", "buttons": []}]}
INVALID = [{"events": [{"event": "slot", "name": "category", "value": "birth", "timestamp": "soon"}]},
           {"events": "not a list"}, {"responses": ["not an object"]}, []]


def _action() -> RemoteAction:
    return RemoteAction("action_consult", None)


def test_the_patch_is_active_once_the_tracker_store_is_imported() -> None:
    assert RemoteAction._validate_action_result is action_validation._validate_action_result


def test_a_valid_action_response_is_accepted() -> None:
    assert _action()._validate_action_result(VALID) is True
    assert _action()._validate_action_result({}) is True


@pytest.mark.parametrize("response", INVALID)
def test_an_invalid_action_response_is_rejected_with_the_error_jsonschema_validate_gives(response: object) -> None:
    with pytest.raises(jsonschema.ValidationError) as unpatched:
        jsonschema.validate(response, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError) as patched:
        _action()._validate_action_result(response)
    assert patched.value.message.startswith(unpatched.value.message + ". Failed to validate Action server response")
    assert list(patched.value.path) == list(unpatched.value.path)


def test_the_schema_is_not_checked_again_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise AssertionError("check_schema called")

    monkeypatch.setattr(type(action_validation.VALIDATOR), "check_schema", fail)
    assert _action()._validate_action_result(VALID) is True
    with pytest.raises(jsonschema.ValidationError):
        _action()._validate_action_result(INVALID[0])


# ---- the catalog in memory per version

@pytest.fixture()
def catalog_db(catalog: Catalog, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    engine = create_engine(url, future=True)
    rebuild(engine, catalog, "first-build")
    engine.dispose()
    return url


def test_a_turn_reads_the_catalog_from_memory(catalog_db: str) -> None:
    with CatalogView(catalog_db) as first:
        categories, tree = first.categories(), first.tree("birth")
        ids = [t for s in tree.scenarios for t in s.templates][:2]
        templates = first.templates(ids)
    assert tree is not None and templates
    with CatalogView(catalog_db) as second:  # within VERSION_CHECK_SECONDS: no session, no query
        assert second.categories() is categories and second.tree("birth") is tree
        assert [t.id for t in second.templates(ids)] == [t.id for t in templates]
        assert second._session is None


def test_a_rebuilt_catalog_is_picked_up(catalog_db: str, catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    # the check interval must outlast the rebuild, which takes seconds on a busy machine
    monkeypatch.setattr(catalog_access, "VERSION_CHECK_SECONDS", 3600.0)
    with CatalogView(catalog_db) as view:
        before = view.tree("birth")
    engine = create_engine(catalog_db, future=True)
    rebuild(engine, catalog, "second-build")
    engine.dispose()
    with CatalogView(catalog_db) as view:  # not checked again yet
        assert view.tree("birth") is before
    monkeypatch.setattr(catalog_access, "VERSION_CHECK_SECONDS", 0.0)
    with CatalogView(catalog_db) as view:
        after = view.tree("birth")
    assert catalog_access._held[catalog_db].version == "second-build"
    assert after is not before and after is not None


# ---- one client session to the hall service

def test_the_hall_service_client_reuses_one_session_and_its_connection() -> None:
    peers: list[object] = []

    async def halls(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))
        return web.json_response({"halls": [{"id": "h1"}]})

    async def missing(request: web.Request) -> web.Response:
        return web.json_response({"error": {"code": "not_found", "message": "没有这个大厅"}}, status=404)

    app = web.Application()
    app.router.add_get("/api/halls", halls)
    app.router.add_get("/api/halls/{hall_id}", missing)

    async def calls(base: str) -> None:
        service = HallService(base)
        session = client_session()
        assert await service.halls() == [{"id": "h1"}]
        assert await HallService(base).halls("birth") == [{"id": "h1"}]
        with pytest.raises(HallServiceError) as error:
            await service.hall("x")
        assert error.value.status == 404 and error.value.message == "没有这个大厅"
        assert client_session() is session
        await session.close()

    with serving(app) as base:
        asyncio.run(calls(base))
        asyncio.run(calls(base))  # a new loop gets its own session
    assert len(peers) == 4 and peers[0] == peers[1] and peers[2] == peers[3]


def test_an_unreachable_hall_service_is_still_reported() -> None:
    async def call() -> None:
        with pytest.raises(HallServiceError) as error:
            await HallService("http://127.0.0.1:9").halls()
        assert error.value.status == 503
        await client_session().close()

    asyncio.run(call())
