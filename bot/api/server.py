"""Runs the hall service (and, for demos, the queue simulator that plays the 100 halls' ticket machines)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

from aiohttp import web

from bot.api.app import create_app
from bot.api.booking_routes import BOOKINGS
from bot.booking import booking_database_url
from bot.booking.service import BookingService
from bot.catalog.loader import load_valid_catalog
from bot.queue import simulator
from bot.queue.keys import default_secret
from bot.queue.stores import RedisStore
from bot.settings import SCENARIOS_DIR, bind_host

log = logging.getLogger(__name__)
PURGE_EVERY = 24 * 3600  # seconds


async def purge_daily(service: BookingService, stop: asyncio.Event) -> None:
    """Blanks expired personal data now and then once a day (HUJI_RETENTION_DAYS), until `stop` is set."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(service.purge)
        except Exception:  # a database hiccup must not stop the service; try again tomorrow
            log.exception("purging personal data failed")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), PURGE_EVERY)


async def serve(port: int, simulate: bool = True, host: str = "127.0.0.1") -> None:
    catalog = load_valid_catalog(SCENARIOS_DIR)
    secret = default_secret()
    redis_url = os.environ.get("HUJI_QUEUE_REDIS_URL")  # production: several processes share the queues
    app = create_app(catalog, booking_url=booking_database_url(), queue_secret=secret,
                     queue_store=RedisStore(redis_url) if redis_url else None)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(f"大厅服务已就绪：http://{host}:{port}/api/halls （接口说明 /api/openapi.json）", flush=True)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(purge_daily(app[BOOKINGS], stop))]
    if simulate:
        near = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        tasks.append(asyncio.create_task(simulator.run(f"http://{near}:{port}", catalog.halls, secret, demo=True,
                                                       stop=stop)))
        print(f"排队模拟器已启动：模拟 {len(catalog.halls)} 个大厅的取号机推送排队数据", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await runner.cleanup()


def main(port: int, simulate: bool, host: str | None = None) -> int:
    """Serve on `host` (default HUJI_BIND, else 127.0.0.1)."""
    logging.basicConfig(level=os.environ.get("HUJI_LOG_LEVEL", "WARNING"))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(port, simulate, host or bind_host()))
    return 0
