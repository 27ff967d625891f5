"""The actions' client of the hall service API (halls, live queues, slots, appointments)."""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref
from typing import Any

import aiohttp

from bot.settings import halls_url

TIMEOUT = aiohttp.ClientTimeout(total=8)


class HallServiceError(Exception):
    """The service answered with an error (code and Chinese message from its body) or could not be reached."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


UNREACHABLE = "大厅服务暂时连接不上，请稍后再试，或拨打 12345 咨询。"

# One client session (and so its pool of kept-alive connections) per event loop, instead of a session, a
# connection and its teardown per call. Per loop because a session belongs to the loop it was made in: the action
# server has one, tests make one per asyncio.run.
_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = weakref.WeakKeyDictionary()


def client_session() -> aiohttp.ClientSession:
    loop = asyncio.get_running_loop()
    session = _sessions.get(loop)
    if session is None or session.closed:
        session = _sessions[loop] = aiohttp.ClientSession(timeout=TIMEOUT)
    return session


class HallService:
    def __init__(self, base_url: str | None = None):
        self.base = (base_url or halls_url()).rstrip("/")

    async def _call(self, method: str, path: str, *, params: dict | None = None, json: Any = None,
                    headers: dict | None = None) -> dict[str, Any]:
        try:
            async with client_session().request(method, self.base + path, params=params, json=json,
                                                headers=headers) as response:
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            raise HallServiceError(503, "unreachable", UNREACHABLE) from None
        if response.status >= 400:
            error = (body or {}).get("error") or {}
            raise HallServiceError(response.status, error.get("code", "error"), error.get("message", UNREACHABLE))
        return body

    async def halls(self, category: str | None = None) -> list[dict[str, Any]]:
        params = {"category": category} if category else None
        return (await self._call("GET", "/api/halls", params=params))["halls"]

    async def queues(self, category: str | None = None) -> dict[str, dict[str, Any]]:
        params = {"category": category} if category else None
        body = await self._call("GET", "/api/queue", params=params)
        return {r["hall_id"]: r for r in body["halls"]}

    async def hall(self, hall_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/api/halls/{hall_id}")

    async def slots(self, hall_id: str, category: str, day: dt.date) -> list[dict[str, Any]]:
        body = await self._call("GET", f"/api/halls/{hall_id}/slots",
                                params={"category": category, "date": day.isoformat()})
        return body["slots"]

    async def next_slots(self, hall_id: str, category: str, limit: int) -> list[dict[str, Any]]:
        body = await self._call("GET", f"/api/halls/{hall_id}/next-slots",
                                params={"category": category, "limit": str(limit)})
        return body["slots"]

    async def book(self, request: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        return await self._call("POST", "/api/appointments", json=request,
                                headers={"Idempotency-Key": idempotency_key})

    async def appointment(self, code: str) -> dict[str, Any]:
        return await self._call("GET", f"/api/appointments/{code}")

    async def cancel(self, code: str) -> dict[str, Any]:
        return await self._call("DELETE", f"/api/appointments/{code}")
