"""The assembled hall service: every route is documented, and bad input anywhere gets a JSON 4xx, never a 500."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from bot.api.app import create_app
from bot.catalog.model import Catalog
from bot.halls import hours
from bot.queue.keys import hall_key

pytestmark = pytest.mark.asyncio
NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=hours.TZ)
SECRET = "api-test-secret"

GARBAGE: list[Any] = ["", "😀" * 50, "x" * 5000, "\x00\x01", "../../etc/passwd", "' OR 1=1 --", "<b>",
                      None, -1, 3.5, True, [], {}, ["a"], {"$gt": ""}]


@pytest_asyncio.fixture()
async def client(catalog: Catalog, tmp_path: Path) -> AsyncIterator[TestClient]:
    app = create_app(catalog, booking_url=f"sqlite:///{tmp_path / 'bookings.sqlite3'}", queue_secret=SECRET,
                     clock=lambda: NOW)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def _expect_client_error(client: TestClient, method: str, path: str, **kwargs: Any) -> None:
    response = await client.request(method, path, **kwargs)
    text = await response.text()
    assert 400 <= response.status < 500, f"{method} {path} {str(kwargs)[:200]}: {response.status} {text[:300]}"
    error = json.loads(text)["error"]
    assert error["code"] and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), text


async def test_every_route_is_in_the_openapi_document(client: TestClient) -> None:
    doc = (await (await client.get("/api/openapi.json")).json())
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops if m != "parameters"}
    served = set()
    for resource in client.app.router.resources():
        path = resource.canonical
        for route in resource:
            if route.method not in ("HEAD", "OPTIONS") and path != "/api/openapi.json":
                served.add((route.method, path))
    assert served == documented


async def test_garbage_in_queries_and_paths_gets_4xx(client: TestClient) -> None:
    for value in ("天河新区", "😀", "x" * 3000, "%00", "1; DROP TABLE"):
        await _expect_client_error(client, "GET", "/api/halls", params={"district": value})
        await _expect_client_error(client, "GET", "/api/halls", params={"category": value})
        await _expect_client_error(client, "GET", "/api/halls/tianhe-center/slots",
                                   params={"category": "birth", "date": value})
        await _expect_client_error(client, "GET", "/api/halls/tianhe-center/slots",
                                   params={"category": value, "date": "2026-11-27"})
        await _expect_client_error(client, "GET", "/api/queue", params={"district": value})
    for path in ("/api/halls/nowhere", "/api/halls/nowhere/queue", "/api/halls/nowhere/slots",
                 "/api/appointments/ZZZZ9999", "/api/appointments/😀", "/api/nothing"):
        await _expect_client_error(client, "GET", path)
    await _expect_client_error(client, "DELETE", "/api/appointments/" + "A" * 500)
    await _expect_client_error(client, "PUT", "/api/halls")


async def test_garbage_bodies_get_4xx(client: TestClient) -> None:
    good = {"hall_id": "tianhe-center", "category": "birth", "date": "2026-11-27", "start": "09:00",
            "name": "王小明", "phone": "13812345678", "id_number": "440106199003071231"}
    for raw in ("", "{", "[]", "null", "42", '"text"', "\xff\xfe", "[" * 30000 + "]" * 30000):
        await _expect_client_error(client, "POST", "/api/appointments", data=raw)
        await _expect_client_error(client, "PATCH", "/api/appointments/ABCD2345", data=raw)
    for field in good:
        for value in GARBAGE:
            await _expect_client_error(client, "POST", "/api/appointments", json={**good, field: value})
    await _expect_client_error(client, "POST", "/api/appointments", data="x" * (200 * 1024))
    await _expect_client_error(client, "POST", "/api/appointments", json=good,
                               headers={"Idempotency-Key": "k" * 500})


async def test_queue_events_reject_bad_keys_and_bodies(client: TestClient) -> None:
    path = "/api/halls/tianhe-center/queue/events"
    key = {"X-Hall-Key": hall_key(SECRET, "tianhe-center")}
    await _expect_client_error(client, "POST", path, json={"type": "heartbeat"})
    await _expect_client_error(client, "POST", path, json={"type": "heartbeat"},
                               headers={"X-Hall-Key": hall_key(SECRET, "yuexiu-center")})
    await _expect_client_error(client, "POST", path, json={"type": "heartbeat"},
                               headers={"X-Hall-Key": "😀" * 10})
    for body in GARBAGE + [{"type": "ticket_called", "counter": "九"}, {"events": [{"type": "x"}] * 500}]:
        await _expect_client_error(client, "POST", path, json=body, headers=key)
    response = await client.post(path, json={"type": "counter_opened", "counter": 1}, headers=key)
    assert response.status == 200 and (await response.json()) == {"accepted": 1}
