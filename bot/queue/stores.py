"""Where the queue board keeps each hall's state: in this process (the default), or in Redis, so that several
hall-service processes behind one address report the same queues."""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

import redis

if TYPE_CHECKING:
    from bot.queue.board import _Hall

T = TypeVar("T")


class MemoryStore:
    def __init__(self) -> None:
        self._halls: dict[str, _Hall] = {}

    def load_many(self, hall_ids: Iterable[str]) -> dict[str, _Hall]:
        return {h: self._halls[h] for h in hall_ids if h in self._halls}

    def update(self, hall_id: str, change: Callable[[_Hall], T], new: Callable[[], _Hall]) -> T:
        """Runs `change` on the hall's state; on one event loop nothing else runs in between."""
        return change(self._halls.setdefault(hall_id, new()))


class RedisStore:
    """One key per hall holding its pickled state (an internal store: only this service writes it).

    Updates are optimistic transactions (WATCH / MULTI): when two processes change the same hall at once, one of
    them reruns its change on the other's result, so no event is lost.
    """

    def __init__(self, url: str, prefix: str = "huji:queue:"):
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix

    def _key(self, hall_id: str) -> str:
        return self.prefix + hall_id

    def load_many(self, hall_ids: Iterable[str]) -> dict[str, _Hall]:
        ids = list(hall_ids)
        values = self.client.mget([self._key(h) for h in ids]) if ids else []
        return {h: pickle.loads(v) for h, v in zip(ids, values, strict=True) if v is not None}

    def update(self, hall_id: str, change: Callable[[_Hall], T], new: Callable[[], _Hall]) -> T:
        key = self._key(hall_id)
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    hall = pickle.loads(raw) if raw is not None else new()
                    result = change(hall)
                    pipe.multi()
                    pipe.set(key, pickle.dumps(hall), ex=48 * 3600)  # a day's queue is worthless two days on
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue
