"""The queue board on a real Redis: two service processes (two boards) share each hall's queue and lose no event."""

from __future__ import annotations

import datetime as dt
import os
import threading
import uuid
from collections.abc import Iterator

import pytest

from bot.halls import hours
from bot.queue.board import QueueBoard
from bot.queue.stores import RedisStore

REDIS_URL = os.environ.get("HUJI_TEST_REDIS", "redis://127.0.0.1:6379/0")
NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=hours.TZ)


@pytest.fixture()
def store() -> Iterator[RedisStore]:
    store = RedisStore(REDIS_URL, prefix=f"huji-test:{uuid.uuid4().hex[:8]}:")
    yield store
    keys = list(store.client.scan_iter(store.prefix + "*"))
    if keys:
        store.client.delete(*keys)


def _at(minutes_ago: float) -> str:
    return (NOW - dt.timedelta(minutes=minutes_ago)).isoformat()


def test_two_processes_see_one_queue(store: RedisStore) -> None:
    first, second = QueueBoard(lambda: NOW, store=store), QueueBoard(lambda: NOW, store=store)
    first.apply_all("tianhe-center", [{"type": "counter_opened", "counter": 1, "at": _at(5)},
                                      {"type": "ticket_issued", "ticket": "A001", "at": _at(4)},
                                      {"type": "ticket_issued", "ticket": "A002", "at": _at(4)}])
    second.apply("tianhe-center", {"type": "ticket_called", "ticket": "A001", "counter": 1, "at": _at(3)})
    for board in (first, second):
        report = board.report("tianhe-center")
        assert (report["status"], report["waiting"], report["counters_open"]) == ("live", 1, 1)
    assert [r["status"] for r in first.reports(["tianhe-center", "yuexiu-center"])] == ["live", "no_data"]


def test_concurrent_writers_lose_no_event(store: RedisStore) -> None:
    boards = [QueueBoard(lambda: NOW, store=store) for _ in range(4)]

    def issue(board: QueueBoard, n: int) -> None:
        for i in range(50):
            board.apply("haizhu-center", {"type": "ticket_issued", "ticket": f"B{n}{i:02d}", "at": _at(1)})

    threads = [threading.Thread(target=issue, args=(b, n)) for n, b in enumerate(boards)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert boards[0].report("haizhu-center")["waiting"] == 200
