"""Assembles the hall service: halls, live queues, slots and appointments behind one aiohttp application."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from aiohttp import web

from bot.catalog.model import Catalog
from bot.channels.web import routes as web_chat
from bot.halls import hours
from bot.queue.stores import MemoryStore, RedisStore

from . import booking_routes, documents_routes, halls_routes, health_routes, openapi, queue_routes
from .context import CATALOG, CLOCK
from .errors import error_middleware

MAX_BODY = 64 * 1024  # a booking or a batch of queue events is far smaller


def create_app(catalog: Catalog, *, booking_url: str, queue_secret: str,
               clock: Callable[[], dt.datetime] = hours.now,
               queue_store: MemoryStore | RedisStore | None = None, rasa_url: str | None = None) -> web.Application:
    app = web.Application(middlewares=[error_middleware], client_max_size=MAX_BODY)
    app[CATALOG] = catalog
    app[CLOCK] = clock
    app.add_routes(halls_routes.routes)
    app.add_routes(documents_routes.routes)
    queue_routes.setup(app, secret=queue_secret, store=queue_store)
    booking_routes.setup(app, database_url=booking_url)
    health_routes.setup(app)
    openapi.setup(app)
    web_chat.setup(app, rasa_url)  # the chat page at /chat/, relaying to Rasa (HUJI_RASA_URL)
    return app
