"""Live queues: ticket machines post events with their hall's key; anyone reads waiting counts and estimated waits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from bot.halls import hours
from bot.halls.model import Hall
from bot.queue.board import DEFAULT_STALE_AFTER, QueueBoard, QueueEventError
from bot.queue.keys import check_key
from bot.queue.stores import MemoryStore, RedisStore

from .context import CATALOG, CLOCK, category_or_422, hall_or_404
from .errors import ApiError, json_body
from .halls_routes import district_or_422
from .responses import json_response

QUEUE_BOARD = web.AppKey("queue_board", QueueBoard)
QUEUE_SECRET = web.AppKey("queue_secret", str)
MAX_EVENTS = 200

routes = web.RouteTableDef()


def setup(app: web.Application, secret: str, stale_after: dt.timedelta = DEFAULT_STALE_AFTER,
          store: MemoryStore | RedisStore | None = None) -> None:
    # The clock is read on every call, so whatever app[CLOCK] holds when requests arrive is used.
    app[QUEUE_BOARD] = QueueBoard(lambda: app[CLOCK](), stale_after, store)
    app[QUEUE_SECRET] = secret
    app.add_routes(routes)


def _presented_key(request: web.Request) -> str | None:
    key = request.headers.get("X-Hall-Key")
    if key:
        return key
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _check_key(request: web.Request, hall: Hall) -> None:
    key = _presented_key(request)
    if key is None:
        raise ApiError(401, "missing_key", "缺少大厅密钥：请在请求头 X-Hall-Key（或 Authorization: Bearer）中提供。")
    if not check_key(request.app[QUEUE_SECRET], hall.id, key):
        raise ApiError(401, "bad_key", "大厅密钥不正确，请核对该大厅的密钥。")


def _events(body: dict[str, Any]) -> list[Any]:
    if "events" not in body:
        return [body]  # a single event object
    events = body["events"]
    if not isinstance(events, list) or not events:
        raise ApiError(422, "invalid_events", "events 应为非空的事件数组。")
    if len(events) > MAX_EVENTS:
        raise ApiError(422, "too_many_events", f"每次最多提交 {MAX_EVENTS} 个事件，请分批发送。", limit=MAX_EVENTS)
    return events


def _report(request: web.Request, hall: Hall, moment: dt.datetime) -> dict[str, Any]:
    report = request.app[QUEUE_BOARD].report(hall.id, open_now=hours.is_open(hall.schedule, moment))
    return {**report, "name": hall.name, "district": hall.district}


def _order(report: dict[str, Any]) -> tuple[int, float]:
    """Live halls first, shortest estimated wait first; then the halls whose figures cannot be shown."""
    wait = report["estimated_wait_minutes"]
    if report["status"] == "live":
        return (0, wait) if wait is not None else (1, 0.0)
    return {"stale": 2, "closed": 3}.get(report["status"], 4), 0.0


@routes.post("/api/halls/{hall_id}/queue/events")
async def post_events(request: web.Request) -> web.Response:
    hall = hall_or_404(request)
    _check_key(request, hall)
    events = _events(await json_body(request))
    try:
        accepted = request.app[QUEUE_BOARD].apply_all(hall.id, events)
    except QueueEventError as e:
        index = e.index or 0
        raise ApiError(422, e.code, f"第 {index + 1} 个事件有误：{e.message}", index=index) from None
    return json_response({"accepted": accepted})


@routes.get("/api/halls/{hall_id}/queue")
async def get_queue(request: web.Request) -> web.Response:
    hall = hall_or_404(request)
    return json_response(_report(request, hall, request.app[CLOCK]()))


@routes.get("/api/queue")
async def list_queues(request: web.Request) -> web.Response:
    district = district_or_422(request.query.get("district"))
    category = category_or_422(request, request.query.get("category"))
    moment = request.app[CLOCK]()
    halls = [h for h in request.app[CATALOG].halls
             if (district is None or h.district == district) and h.accepts(category)]
    reports = sorted((_report(request, h, moment) for h in halls), key=_order)  # stable: catalog order within ties
    return json_response({"count": len(reports), "halls": reports})
