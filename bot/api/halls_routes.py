"""GET /api/halls and /api/halls/{id}: what the catalog says about each hall, with today's opening state."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from bot.halls import hours
from bot.halls.districts import DISTRICTS, district_names
from bot.halls.model import DAY_KINDS, Hall

from .context import CATALOG, CLOCK, category_or_422, hall_or_404
from .errors import ApiError
from .responses import json_response

routes = web.RouteTableDef()


def hall_json(hall: Hall, moment: dt.datetime, category_names: dict[str, str]) -> dict[str, Any]:
    opening = hours.next_opening(hall.schedule, moment)
    return {
        "id": hall.id,
        "name": hall.name,
        "kind": hall.kind,
        "district": hall.district,
        "address": hall.address,
        "phone": hall.phone,
        "hours": {
            "label": hall.schedule.label,
            **{kind: [str(w) for w in hall.schedule.days.get(kind, ())] for kind in DAY_KINDS},
        },
        "open_now": hours.is_open(hall.schedule, moment),
        "next_opening": opening.isoformat() if opening else None,
        "categories": sorted(hall.categories) if hall.categories is not None else sorted(category_names),
        "all_categories": hall.categories is None,
        "counters": hall.counters,
        "appointments": hall.appointments,
        "self_service": {"id_card": hall.id_card_machines, "collection": hall.collection_machines},
        "verified": list(hall.verified),
        "needs_checking": hall.needs_checking,
        "source": hall.source or None,
        "note": hall.note or None,
    }


def district_or_422(value: str | None) -> str | None:
    if not value:
        return None
    district = district_names().get(value.strip())  # exact: "天河", "天河区" or a known area name such as 萝岗
    if district is None:
        raise ApiError(422, "unknown_district", f"广州没有“{value[:20]}”这个区。可选：{'、'.join(DISTRICTS)}。")
    return district


@routes.get("/api/halls")
async def list_halls(request: web.Request) -> web.Response:
    catalog = request.app[CATALOG]
    district = district_or_422(request.query.get("district"))
    category = category_or_422(request, request.query.get("category"))
    moment = request.app[CLOCK]()
    names = {c.code: c.name for c in catalog.categories}
    halls = [hall_json(h, moment, names) for h in catalog.halls
             if (district is None or h.district == district) and h.accepts(category)]
    return json_response({"count": len(halls), "halls": halls})


@routes.get("/api/halls/{hall_id}")
async def get_hall(request: web.Request) -> web.Response:
    catalog = request.app[CATALOG]
    hall = hall_or_404(request)
    return json_response(hall_json(hall, request.app[CLOCK](), {c.code: c.name for c in catalog.categories}))
