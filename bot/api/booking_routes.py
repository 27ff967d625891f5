"""Slots and appointments over HTTP: list a day's slots, book, look up, cancel and reschedule by confirmation code.

The booking service blocks on the database, so every call runs on a small worker pool (bot.booking.engine.workers:
a few threads for SQLite, the connection-pool size for PostgreSQL) and the event loop never waits on it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiohttp import web

from bot.booking import errors as booking_errors
from bot.booking.engine import workers
from bot.booking.service import Appointment, BookingService, DaySlots, SlotView
from bot.booking.slots import parse_day, today
from bot.catalog.model import Catalog
from bot.halls import hours

from .context import CATALOG, CLOCK, category_or_422, hall_or_404
from .errors import ApiError, json_body
from .responses import json_response

BOOKINGS = web.AppKey("bookings", BookingService)
_EXECUTOR = web.AppKey("bookings_executor", ThreadPoolExecutor)
_STATUS = {booking_errors.Invalid: 422, booking_errors.NotFound: 404, booking_errors.Conflict: 409,
           booking_errors.Busy: 503}
T = TypeVar("T")
DEFAULT_NEXT, MAX_NEXT = 3, 50

routes = web.RouteTableDef()


async def _call(request: web.Request, fn: Callable[..., T], *args: Any) -> T:
    """Runs a blocking service call off the event loop; refusals become API errors."""
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(request.app[_EXECUTOR], functools.partial(fn, *args))
    except booking_errors.BookingError as e:
        raise ApiError(_STATUS.get(type(e), 422), e.code, e.message, **e.details) from None


def _day(value: str) -> dt.date:
    try:
        return parse_day(value)
    except booking_errors.BookingError as e:
        raise ApiError(422, e.code, e.message) from None


def _stamp(value: dt.datetime | None) -> str | None:
    return value.astimezone(hours.TZ).isoformat(timespec="seconds") if value else None


def appointment_json(a: Appointment, catalog: Catalog) -> dict[str, Any]:
    hall, info = catalog.hall(a.hall_id), catalog.info(a.category)
    return {
        "code": a.code,
        "status": a.status,
        "hall": {"id": a.hall_id, "name": hall.name if hall else a.hall_id, "address": hall.address if hall else None},
        "category": {"code": a.category, "name": info.name if info else a.category},
        "date": f"{a.day:%Y-%m-%d}",
        "start": a.start,
        "end": a.end,
        "person": a.person.masked(),
        "created_at": _stamp(a.created_at),
        "updated_at": _stamp(a.updated_at),
        "cancelled_at": _stamp(a.cancelled_at),
    }


def slot_json(s: SlotView) -> dict[str, Any]:
    return {"start": s.start, "end": s.end, "capacity": s.capacity, "booked": s.booked, "available": s.available,
            "bookable": s.bookable}


def slots_json(day: DaySlots) -> dict[str, Any]:
    return {
        "hall_id": day.hall_id,
        "category": day.category,
        "date": f"{day.day:%Y-%m-%d}",
        "closed": day.closed_note is not None,
        "note": day.closed_note,
        "slots": [slot_json(s) for s in day.slots],
    }


def _field(body: dict[str, Any], name: str, label: str) -> str:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ApiError(422, "missing_field", f"请填写{label}（{name}）。", fields=[name])
    if not isinstance(value, str):
        raise ApiError(422, "invalid_field", f"{label}（{name}）应为文本。", fields=[name])
    return value.strip()


def _require(body: dict[str, Any], fields: dict[str, str]) -> None:
    """Names every missing field at once, so a form can highlight them all."""
    missing = [name for name in fields if body.get(name) is None or body.get(name) == ""]
    if missing:
        labels = "、".join(f"{fields[n]}（{n}）" for n in missing)
        raise ApiError(422, "missing_field", f"请填写{labels}。", fields=missing)


_BOOKING_FIELDS = {"hall_id": "大厅编号", "category": "业务分类", "date": "日期", "start": "开始时间",
                   "name": "姓名", "phone": "手机号码", "id_number": "身份证号码"}


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and (len(key) > 100 or not key.isprintable()):
        raise ApiError(400, "invalid_idempotency_key", "Idempotency-Key 应为不超过 100 个可见字符。")
    return key


@routes.get("/api/halls/{hall_id}/slots")
async def list_slots(request: web.Request) -> web.Response:
    hall = hall_or_404(request)
    category = category_or_422(request, request.query.get("category"), required=True)
    raw_date = request.query.get("date")
    day = _day(raw_date) if raw_date else today(request.app[CLOCK]())
    result = await _call(request, request.app[BOOKINGS].day_slots, hall, category, day)
    return json_response(slots_json(result))


@routes.get("/api/halls/{hall_id}/next-slots")
async def next_slots(request: web.Request) -> web.Response:
    """The first free slots from now on, across the booking horizon: one call instead of one per day."""
    hall = hall_or_404(request)
    category = category_or_422(request, request.query.get("category"), required=True)
    raw = request.query.get("limit", str(DEFAULT_NEXT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_NEXT:
        raise ApiError(422, "invalid_limit", f"limit 应为 1 到 {MAX_NEXT} 的整数。")
    found = await _call(request, request.app[BOOKINGS].next_free_slots, hall, category, request.app[CLOCK](),
                        int(raw))
    return json_response({"hall_id": hall.id, "category": category,
                          "slots": [{"date": f"{s.day:%Y-%m-%d}", **slot_json(s)} for s in found]})


@routes.post("/api/appointments")
async def book(request: web.Request) -> web.Response:
    key = _idempotency_key(request)
    body = await json_body(request)
    _require(body, _BOOKING_FIELDS)
    hall = hall_or_404(request, _field(body, "hall_id", "大厅编号"))
    category = category_or_422(request, _field(body, "category", "业务分类"), required=True)
    day = _day(_field(body, "date", "日期"))
    start = _field(body, "start", "开始时间")
    result = await _call(request, request.app[BOOKINGS].book, hall, category, day, start,
                         body.get("name"), body.get("phone"), body.get("id_number"), key)
    payload = {**appointment_json(result.appointment, request.app[CATALOG]), "replayed": result.replayed}
    return json_response(payload, status=200 if result.replayed else 201)


@routes.get("/api/appointments/{code}")
async def get_appointment(request: web.Request) -> web.Response:
    appointment = await _call(request, request.app[BOOKINGS].get, request.match_info["code"])
    return json_response(appointment_json(appointment, request.app[CATALOG]))


@routes.delete("/api/appointments/{code}")
async def cancel_appointment(request: web.Request) -> web.Response:
    appointment = await _call(request, request.app[BOOKINGS].cancel, request.match_info["code"])
    return json_response(appointment_json(appointment, request.app[CATALOG]))


@routes.patch("/api/appointments/{code}")
async def reschedule_appointment(request: web.Request) -> web.Response:
    body = await json_body(request)
    _require(body, {"date": "日期", "start": "开始时间"})
    day = _day(_field(body, "date", "日期"))
    start = _field(body, "start", "开始时间")
    appointment = await _call(request, request.app[BOOKINGS].reschedule, request.match_info["code"], day, start)
    return json_response(appointment_json(appointment, request.app[CATALOG]))


def setup(app: web.Application, database_url: str | None = None) -> None:
    """Migrates the booking database, opens the service and registers the routes. Needs app[CATALOG], app[CLOCK]."""
    service = BookingService.open(app[CATALOG], database_url, clock=app[CLOCK])
    app[BOOKINGS] = service
    app[_EXECUTOR] = ThreadPoolExecutor(max_workers=workers(service.engine), thread_name_prefix="booking")
    app.on_cleanup.append(_close)
    app.add_routes(routes)


async def _close(app: web.Application) -> None:
    app[_EXECUTOR].shutdown(wait=True)
    app[BOOKINGS].dispose()
