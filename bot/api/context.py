"""Typed keys for what the application shares with its route handlers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from aiohttp import web

from bot.catalog.model import Catalog
from bot.halls.model import Hall

from .errors import ApiError

CATALOG = web.AppKey("catalog", Catalog)
CLOCK = web.AppKey("clock", Callable[[], dt.datetime])


def hall_or_404(request: web.Request, hall_id: str | None = None) -> Hall:
    """The hall named in the path, or the given id (a request body's hall_id)."""
    hall = request.app[CATALOG].hall(hall_id if hall_id is not None else request.match_info["hall_id"])
    if hall is None:
        raise ApiError(404, "hall_not_found", "没有找到这个大厅，请核对大厅编号。")
    return hall


def category_or_422(request: web.Request, value: str | None, required: bool = False) -> str | None:
    if not value:
        if required:
            raise ApiError(422, "category_required", "请指定业务分类 category，例如 birth（出生登记）。")
        return None
    if request.app[CATALOG].info(value) is None:
        raise ApiError(422, "unknown_category", f"没有业务分类 `{value[:40]}`。")
    return value
