"""GET /health: the state of each part of the assistant, for monitoring and a load balancer's checks.

200 while the hall service can serve (its database answers), else 503. The model version, Rasa and the action
server are reported when the run command told the service where they are (HUJI_MODEL_VERSION, HUJI_RASA_URL,
HUJI_ACTIONS_URL); one that does not answer makes the status `degraded`, not 503: halls and bookings still work.
"""

from __future__ import annotations

import asyncio
import os
import time

import aiohttp
from aiohttp import web
from sqlalchemy import text

from .booking_routes import BOOKINGS
from .responses import json_response

PROBE_SECONDS = 1.5

routes = web.RouteTableDef()


def _database(request: web.Request) -> dict:
    started = time.perf_counter()
    try:
        with request.app[BOOKINGS].engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 — any failure is the state to report
        return {"status": "error", "error": type(error).__name__}
    return {"status": "ok", "ms": round((time.perf_counter() - started) * 1000, 1)}


async def _reachable(url: str) -> dict:
    started = time.perf_counter()
    try:
        timeout = aiohttp.ClientTimeout(total=PROBE_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as answer:
            ok = answer.status < 500
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return {"status": "unreachable"}
    return {"status": "ok" if ok else "error", "ms": round((time.perf_counter() - started) * 1000, 1)}


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    parts: dict[str, dict] = {}
    loop = asyncio.get_running_loop()
    parts["database"] = await loop.run_in_executor(None, _database, request)
    version = os.environ.get("HUJI_MODEL_VERSION")
    parts["model"] = {"status": "ok", "version": version} if version else {"status": "unknown"}
    probes = {}
    if os.environ.get("HUJI_RASA_URL"):
        probes["rasa"] = os.environ["HUJI_RASA_URL"].rstrip("/") + "/"  # "/" needs no token
    if os.environ.get("HUJI_ACTIONS_URL"):
        probes["actions"] = os.environ["HUJI_ACTIONS_URL"].removesuffix("/webhook") + "/health"
    for name, result in zip(probes, await asyncio.gather(*map(_reachable, probes.values())), strict=True):
        parts[name] = result
    if parts["database"]["status"] != "ok":
        return json_response({"status": "error", "parts": parts}, status=503)
    degraded = any(p["status"] not in ("ok", "unknown") for p in parts.values())
    return json_response({"status": "degraded" if degraded else "ok", "parts": parts})


def setup(app: web.Application) -> None:
    app.add_routes(routes)
