"""The booking HTTP API, on SQLite and PostgreSQL: shapes, every error as JSON in Chinese, masking, races."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.api import booking_routes, openapi
from bot.api.context import CATALOG, CLOCK
from bot.api.errors import error_middleware
from bot.booking.models import appointments, slot_usage
from bot.catalog.model import Catalog
from bot.halls import hours
from tests.booking_fixtures import Clock, valid_id

pytest_plugins = ["tests.booking_fixtures"]
pytestmark = pytest.mark.asyncio

TUE, WED = "2026-09-29", "2026-09-30"
PHONE = "13812345678"
NAME = "欧阳娜娜"


@pytest_asyncio.fixture()
async def client(booking_catalog: Catalog, booking_url: str, clock: Clock) -> AsyncIterator[TestClient]:
    app = web.Application(middlewares=[error_middleware])
    app[CATALOG] = booking_catalog
    app[CLOCK] = clock
    booking_routes.setup(app, database_url=booking_url)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def _body(n: int = 1, **changes: Any) -> dict[str, Any]:
    return {"hall_id": "test-center", "category": "birth", "date": TUE, "start": "09:00", "name": NAME,
            "phone": PHONE, "id_number": valid_id(n), **changes}


async def _call(client: TestClient, method: str, path: str, status: int, body: Any = None,
                raw: str | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    data = raw if raw is not None else (json.dumps(body, ensure_ascii=False) if body is not None else None)
    response = await client.request(method, path, data=data, headers=headers)
    text = await response.text()
    assert response.status == status, text
    assert response.content_type == "application/json"
    for secret in (PHONE, NAME, "娜娜", *(valid_id(n) for n in range(5))):
        assert secret not in text, f"personal data in {method} {path}: {text}"
    return json.loads(text)


async def _error(client: TestClient, method: str, path: str, status: int, code: str, **kwargs: Any) -> dict[str, Any]:
    error = (await _call(client, method, path, status, **kwargs))["error"]
    assert error["code"] == code, error
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error
    return error


async def test_list_slots(client: TestClient) -> None:
    day = await _call(client, "GET", f"/api/halls/test-center/slots?date={TUE}&category=birth", 200)
    assert day["hall_id"] == "test-center" and day["category"] == "birth" and day["date"] == TUE
    assert day["slots"][0] == {"start": "09:00", "end": "10:00", "capacity": 3, "booked": 0, "available": 3,
                               "bookable": True}
    assert day["slots"][-1]["start"] == "16:30" and day["slots"][-1]["capacity"] == 1
    today = await _call(client, "GET", "/api/halls/test-center/slots?category=birth", 200)
    assert today["date"] == "2026-09-28"
    closed = await _call(client, "GET", "/api/halls/test-center/slots?date=2026-10-01&category=birth", 200)
    assert closed["slots"] == [] and closed["closed"] is True and "国庆节" in closed["note"]


async def test_slot_listing_errors(client: TestClient) -> None:
    await _error(client, "GET", "/api/halls/nowhere/slots?date=2026-09-29&category=birth", 404, "hall_not_found")
    await _error(client, "GET", f"/api/halls/test-center/slots?date={TUE}", 422, "category_required")
    await _error(client, "GET", f"/api/halls/test-center/slots?date={TUE}&category=x", 422, "unknown_category")
    await _error(client, "GET", f"/api/halls/test-station/slots?date={TUE}&category=points", 422,
                 "category_not_accepted")
    await _error(client, "GET", "/api/halls/test-center/slots?date=29-09-2026&category=birth", 422, "invalid_date")
    await _error(client, "GET", "/api/halls/test-center/slots?date=2026-02-30&category=birth", 422, "invalid_date")
    await _error(client, "GET", "/api/halls/test-center/slots?date=2026-10-07&category=birth", 422, "too_far_ahead")
    await _error(client, "GET", "/api/halls/test-center/slots?date=2026-09-27&category=birth", 422, "slot_past")


async def test_next_free_slots_in_one_call(client: TestClient) -> None:
    # Monday 08:00 before National Day: the first free slots are that morning's, in time order
    found = await _call(client, "GET", "/api/halls/test-center/next-slots?category=birth&limit=4", 200)
    assert [(s["date"], s["start"]) for s in found["slots"]] == [
        ("2026-09-28", "09:00"), ("2026-09-28", "10:00"), ("2026-09-28", "11:00"), ("2026-09-28", "13:30")]
    assert len((await _call(client, "GET", "/api/halls/test-center/next-slots?category=birth", 200))["slots"]) == 3
    for limit in ("0", "51", "x", "-1"):
        await _error(client, "GET", f"/api/halls/test-center/next-slots?category=birth&limit={limit}", 422,
                     "invalid_limit")
    await _error(client, "GET", "/api/halls/test-center/next-slots", 422, "category_required")
    await _error(client, "GET", "/api/halls/nowhere/next-slots?category=birth", 404, "hall_not_found")


async def test_book_look_up_cancel(client: TestClient) -> None:
    booked = await _call(client, "POST", "/api/appointments", 201, _body())
    code = booked["code"]
    assert booked["status"] == "active" and booked["replayed"] is False
    assert booked["hall"] == {"id": "test-center", "name": "测试区政务服务中心户政窗口",
                              "address": "广州市天河区测试大道 1 号"}
    assert booked["category"] == {"code": "birth", "name": "出生登记"}
    assert (booked["date"], booked["start"], booked["end"]) == (TUE, "09:00", "10:00")
    assert booked["person"] == {"name": "欧***", "phone": "138****5678",
                                "id_number": valid_id(1)[:6] + "********" + valid_id(1)[-4:]}
    assert booked["created_at"].startswith("2026-09-28T08:00:00+08:00")
    found = await _call(client, "GET", f"/api/appointments/{code.lower()}", 200)
    assert found["code"] == code and found["person"] == booked["person"]
    slots = await _call(client, "GET", f"/api/halls/test-center/slots?date={TUE}&category=birth", 200)
    assert slots["slots"][0]["booked"] == 1 and slots["slots"][0]["available"] == 2
    cancelled = await _call(client, "DELETE", f"/api/appointments/{code}", 200)
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_at"]
    await _error(client, "DELETE", f"/api/appointments/{code}", 409, "already_cancelled")
    slots = await _call(client, "GET", f"/api/halls/test-center/slots?date={TUE}&category=birth", 200)
    assert slots["slots"][0]["booked"] == 0


async def test_reschedule(client: TestClient) -> None:
    code = (await _call(client, "POST", "/api/appointments", 201, _body()))["code"]
    moved = await _call(client, "PATCH", f"/api/appointments/{code}", 200, {"date": WED, "start": "16:30"})
    assert (moved["code"], moved["date"], moved["start"], moved["end"]) == (code, WED, "16:30", "17:00")
    await _call(client, "POST", "/api/appointments", 201, _body(2, start="15:30", date=WED))
    await _call(client, "POST", "/api/appointments", 201, _body(3, start="15:30", date=WED))
    await _call(client, "POST", "/api/appointments", 201, _body(4, start="15:30", date=WED))
    error = await _error(client, "PATCH", f"/api/appointments/{code}", 409, "slot_full",
                         body={"date": WED, "start": "15:30"})
    assert "约满" in error["message"]
    await _error(client, "PATCH", f"/api/appointments/{code}", 422, "unknown_slot",
                 body={"date": WED, "start": "12:30"})
    await _error(client, "PATCH", f"/api/appointments/{code}", 422, "hall_closed",
                 body={"date": "2026-10-02", "start": "09:00"})
    await _error(client, "PATCH", f"/api/appointments/{code}", 422, "missing_field", body={"date": WED})
    await _error(client, "PATCH", f"/api/appointments/{code}", 400, "empty_body", raw="")
    await _error(client, "PATCH", "/api/appointments/ABCDEFGH", 404, "appointment_not_found",
                 body={"date": WED, "start": "09:00"})


async def test_one_booking_per_person_and_business(client: TestClient) -> None:
    first = await _call(client, "POST", "/api/appointments", 201, _body())
    error = await _error(client, "POST", "/api/appointments", 409, "already_booked", body=_body(start="10:00"))
    assert "测试区政务服务中心户政窗口" in error["message"] and "09:00" in error["message"]
    assert first["code"] not in json.dumps(error, ensure_ascii=False)
    await _call(client, "POST", "/api/appointments", 201, _body(category="id_card"))


async def test_booking_validation_errors(client: TestClient) -> None:
    post = "/api/appointments"
    await _error(client, "POST", post, 400, "empty_body", raw="")
    await _error(client, "POST", post, 400, "invalid_json", raw="{name: 张三")
    await _error(client, "POST", post, 400, "invalid_json", raw="[1, 2]")
    missing = await _error(client, "POST", post, 422, "missing_field", body={"hall_id": "test-center", "name": ""})
    assert missing["details"]["fields"] == ["category", "date", "start", "name", "phone", "id_number"]
    await _error(client, "POST", post, 404, "hall_not_found", body=_body(hall_id="nowhere"))
    await _error(client, "POST", post, 422, "invalid_field", body=_body(hall_id=["test-center"]))
    await _error(client, "POST", post, 422, "unknown_category", body=_body(category="nothing"))
    await _error(client, "POST", post, 422, "category_not_accepted",
                 body=_body(hall_id="test-station", category="points"))
    await _error(client, "POST", post, 422, "invalid_date", body=_body(date="2026/09/29"))
    await _error(client, "POST", post, 422, "invalid_field", body=_body(date=20260929))
    await _error(client, "POST", post, 422, "unknown_slot", body=_body(start="09:30"))
    await _error(client, "POST", post, 422, "invalid_field", body=_body(start=9))
    await _error(client, "POST", post, 422, "hall_closed", body=_body(date="2026-10-01"))
    await _error(client, "POST", post, 422, "too_far_ahead", body=_body(date="2026-10-06"))
    await _error(client, "POST", post, 422, "slot_past", body=_body(date="2026-09-27"))
    await _error(client, "POST", post, 422, "invalid_name", body=_body(name="张"))
    await _error(client, "POST", post, 422, "invalid_field", body=_body(name=123))
    await _error(client, "POST", post, 422, "invalid_phone", body=_body(phone="12345"))
    bad_id = valid_id(1)[:-1] + ("0" if valid_id(1)[-1] != "0" else "1")
    error = await _error(client, "POST", post, 422, "invalid_id_number", body=_body(id_number=bad_id))
    assert error["message"] == "身份证号码校验不通过，请核对。"
    await _error(client, "POST", post, 400, "invalid_idempotency_key", body=_body(),
                 headers={"Idempotency-Key": "k" * 101})
    with booking_routes_engine(client).connect() as conn:
        assert conn.execute(select(func.count()).select_from(appointments)).scalar_one() == 0


async def test_past_slot_today(client: TestClient, clock: Clock) -> None:
    clock.moment = dt.datetime(2026, 9, 29, 10, 0, tzinfo=hours.TZ)
    await _error(client, "POST", "/api/appointments", 422, "slot_past", body=_body(start="10:00"))
    await _call(client, "POST", "/api/appointments", 201, _body(start="11:00"))


async def test_look_up_errors(client: TestClient) -> None:
    await _error(client, "GET", "/api/appointments/ABCDEFGH", 404, "appointment_not_found")
    await _error(client, "DELETE", "/api/appointments/ABCDEFGH", 404, "appointment_not_found")
    await _error(client, "GET", "/api/appointments/0000", 422, "invalid_code")
    await _error(client, "PUT", "/api/appointments/ABCDEFGH", 405, "method_not_allowed")


async def test_idempotency_key(client: TestClient) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = await _call(client, "POST", "/api/appointments", 201, _body(), headers=headers)
    again = await _call(client, "POST", "/api/appointments", 200, _body(phone="138 1234 5678"), headers=headers)
    assert again["code"] == first["code"] and again["replayed"] is True
    await _error(client, "POST", "/api/appointments", 409, "idempotency_conflict", body=_body(start="10:00"),
                 headers=headers)
    results = await asyncio.gather(*(client.post("/api/appointments", json=_body(2), headers={"Idempotency-Key": "k2"})
                                     for _ in range(10)))
    statuses = Counter(r.status for r in results)
    codes = {(await r.json())["code"] for r in results}
    assert statuses == {201: 1, 200: 9} and len(codes) == 1
    with booking_routes_engine(client).connect() as conn:
        assert conn.execute(select(func.count()).select_from(appointments)).scalar_one() == 2


async def test_forty_clients_race_for_three_places(client: TestClient) -> None:
    results = await asyncio.gather(*(client.post("/api/appointments", json=_body(100 + n)) for n in range(40)))
    outcomes = Counter([r.status for r in results])
    assert outcomes == {201: 3, 409: 37}
    assert {(await r.json()).get("error", {}).get("code") for r in results if r.status == 409} == {"slot_full"}
    with booking_routes_engine(client).connect() as conn:
        booked = conn.execute(select(slot_usage.c.booked)).scalar_one()
        active = conn.execute(select(func.count()).select_from(appointments)
                              .where(appointments.c.status == "active")).scalar_one()
    assert booked == active == 3


async def test_openapi_fragment_merges_and_resolves() -> None:
    doc = openapi.document()
    for path in ("/api/halls/{hall_id}/slots", "/api/appointments", "/api/appointments/{code}"):
        assert path in doc["paths"]
    assert {"get", "delete", "patch"} <= set(doc["paths"]["/api/appointments/{code}"])
    text = json.dumps(doc)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "')[1:]}:
        kind, name = ref.split("/")[2:4]
        assert name in doc["components"][kind], ref


def booking_routes_engine(client: TestClient):  # noqa: ANN201 - the engine behind the app under test
    return client.app[booking_routes.BOOKINGS].engine
