"""The queue simulator: its model of a hall's day, and the whole loop posting to a real hall service over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.api.queue_routes import QUEUE_BOARD
from bot.catalog.model import Catalog
from bot.halls.hours import TZ
from bot.queue import simulator
from bot.queue.board import QueueBoard, QueueEvent
from bot.queue.simulator import HallModel, Simulator, profile
from tests.test_queue import HALLS, SECRET, Clock, make_app, make_hall

MONDAY = dt.datetime(2024, 5, 13, 10, 0, tzinfo=TZ)
WEDNESDAY = dt.datetime(2024, 5, 15, 10, 0, tzinfo=TZ)
SUNDAY = dt.datetime(2024, 5, 19, 10, 0, tzinfo=TZ)
AFTER_MAY_DAY = dt.datetime(2024, 5, 6, 10, 0, tzinfo=TZ)  # Monday after the 1-5 May holiday


def at(day: dt.datetime, hour: int, minute: int = 0) -> dt.datetime:
    return day.replace(hour=hour, minute=minute)


# -- the model ---------------------------------------------------------------------------------------------------


def test_arrivals_follow_the_hour_and_the_day() -> None:
    hall = make_hall("h", counters=8)
    peak, afternoon, late = (profile(hall, at(WEDNESDAY, h, m)) for h, m in ((10, 0), (15, 0), (16, 30)))
    assert peak.accepting and peak.rate > afternoon.rate > late.rate > 0
    assert peak.counters == 8 and 0 < late.counters < 8  # not every counter all day
    assert profile(hall, MONDAY).rate > profile(hall, WEDNESDAY).rate
    assert profile(hall, AFTER_MAY_DAY).rate > profile(hall, MONDAY).rate
    assert profile(make_hall("big", counters=20), WEDNESDAY).rate > peak.rate
    for closed in (at(WEDNESDAY, 8, 30), at(WEDNESDAY, 12, 30), at(WEDNESDAY, 17, 0), SUNDAY):
        assert profile(hall, closed) == simulator.CLOSED
    demo = profile(hall, SUNDAY, demo=True)
    assert demo.accepting and demo.counters > 0 and demo.rate > 0


def run_model(model: HallModel, start: dt.datetime, end: dt.datetime, every: int = 5
              ) -> Iterator[tuple[dt.datetime, dict[str, Any], list[QueueEvent]]]:
    """Feed the model's events to a board every few minutes; yield the time, the report and the events."""
    clock = Clock(start)
    board = QueueBoard(clock)
    model.t = start
    while clock.moment < end:
        clock.advance(every)
        events = model.advance(clock.moment)
        for event in events:
            board.apply("h", event)
        board.apply("h", QueueEvent("heartbeat", clock.moment, simulated=True))  # as the Simulator does
        yield clock.moment, board.report("h"), events


def test_a_simulated_day_moves_and_rests() -> None:
    hall = make_hall("h", counters=8)
    day = list(run_model(HallModel(hall, random.Random(3)), at(MONDAY, 8), at(MONDAY, 18)))
    reports = {moment.strftime("%H:%M"): report for moment, report, _ in day}
    events = [e for _, _, batch in day for e in batch]
    assert all(a.at <= b.at for a, b in zip(events, events[1:], strict=False))
    issued = [e.at.time() for e in events if e.type == "ticket_issued"]
    assert issued and all(dt.time(9) <= t < dt.time(12) or dt.time(13, 30) <= t < dt.time(17) for t in issued)
    assert all(e.simulated for e in events)
    assert (reports["08:55"]["status"], reports["08:55"]["counters_open"]) == ("closed", 0)
    morning = [reports[f"{h:02d}:{m:02d}"] for h in (9, 10, 11) for m in range(0, 60, 5)]
    assert all(r["status"] == "live" and r["counters_open"] > 0 for r in morning[1:])
    assert len({r["waiting"] for r in morning}) > 5  # the queue moves
    assert max(r["estimated_wait_minutes"] for r in morning[1:]) > 0
    for lunch in ("12:50", "13:00", "13:25"):
        assert (reports[lunch]["status"], reports[lunch]["counters_open"]) == ("closed", 0)
    assert reports["13:35"]["status"] == "live" and reports["13:35"]["counters_open"] > 0
    assert reports["18:00"]["status"] == "closed"
    assert reports["18:00"]["avg_service_measured"] and 7 <= reports["18:00"]["avg_service_minutes"] <= 18


def test_a_closed_day_is_quiet_unless_demo() -> None:
    hall = make_hall("h", counters=4)
    quiet = list(run_model(HallModel(hall, random.Random(1)), at(SUNDAY, 8), at(SUNDAY, 12)))
    assert not any(events for _, _, events in quiet)
    demo = list(run_model(HallModel(hall, random.Random(1), demo=True), at(SUNDAY, 8), at(SUNDAY, 10)))
    last = demo[-1][1]
    assert last["status"] == "live" and last["counters_open"] > 0 and last["simulated"] is True


def test_demo_hall_carries_its_queue_past_midnight() -> None:
    model = HallModel(make_hall("h", counters=6), random.Random(5), demo=True)
    reports = [r for _, r, _ in run_model(model, at(WEDNESDAY, 22), at(WEDNESDAY, 23, 59) + dt.timedelta(minutes=31))]
    assert reports[-1]["status"] == "live" and reports[-1]["counters_open"] == 6  # re-announced on the new day


# -- the whole simulator over HTTP ------------------------------------------------------------------------------


async def queues(session: aiohttp.ClientSession, server: TestServer) -> dict[str, dict[str, Any]]:
    async with session.get(server.make_url("/api/queue")) as response:
        assert response.status == 200
        return {h["hall_id"]: h for h in (await response.json())["halls"]}


@pytest.mark.asyncio
async def test_simulator_fast_forwards_then_moves_queues_over_http() -> None:
    clock = Clock(at(MONDAY, 10, 30))
    async with TestServer(make_app(clock)) as server, aiohttp.ClientSession() as session:
        sim = Simulator(str(server.make_url("")), HALLS, SECRET, clock=clock, seed=7)
        await sim.tick(session)  # replays 9:00-10:30 in one burst
        assert not any(sim.outbox.values())
        now = await queues(session, server)
        assert set(now) == {h.id for h in HALLS}
        for report in now.values():
            assert report["status"] == "live" and report["counters_open"] > 0 and report["simulated"] is True
            assert abs(dt.datetime.fromisoformat(report["updated_at"]) - clock()) <= simulator.HEARTBEAT
        assert now["tianhe-center"]["waiting"] > 0 and now["tianhe-center"]["avg_service_measured"] is True

        waiting = []
        for _ in range(30):
            clock.advance(1)
            await sim.tick(session)
            waiting.append((await queues(session, server))["tianhe-center"]["waiting"])
        assert len(set(waiting)) > 3

        clock.moment = at(MONDAY, 13, 20)  # lunch break: queues drained, counters closed
        await sim.tick(session)
        assert {r["status"] for r in (await queues(session, server)).values()} == {"closed"}
        assert {r["counters_open"] for r in (await queues(session, server)).values()} == {0}
        clock.moment = at(MONDAY, 13, 45)
        await sim.tick(session)
        assert all(r["counters_open"] > 0 for r in (await queues(session, server)).values())


@pytest.mark.asyncio
async def test_closed_halls_report_closed_and_demo_halls_live() -> None:
    clock = Clock(SUNDAY)
    async with TestServer(make_app(clock)) as server, aiohttp.ClientSession() as session:
        await Simulator(str(server.make_url("")), HALLS, SECRET, clock=clock, seed=1).tick(session)
        assert {r["status"] for r in (await queues(session, server)).values()} == {"closed"}
    clock = Clock(SUNDAY)
    async with TestServer(make_app(clock)) as server, aiohttp.ClientSession() as session:
        await Simulator(str(server.make_url("")), HALLS, SECRET, clock=clock, seed=1, demo=True).tick(session)
        reports = (await queues(session, server)).values()
        assert all(r["status"] == "live" and r["counters_open"] > 0 and r["simulated"] for r in reports)
        assert any(r["waiting"] for r in reports)


@pytest.mark.asyncio
async def test_simulator_survives_an_unreachable_or_refusing_service() -> None:
    clock = Clock(at(MONDAY, 10, 30))
    async with TestServer(make_app(clock)) as server, aiohttp.ClientSession() as session:
        sim = Simulator("http://127.0.0.1:9", HALLS[:1], SECRET, clock=clock, seed=2)  # nothing listens on port 9
        await sim.tick(session)
        kept = len(sim.outbox["tianhe-center"])
        assert kept > 0
        sim.base_url = str(server.make_url("")).rstrip("/")
        clock.advance(1)
        await sim.tick(session)
        assert not sim.outbox["tianhe-center"]
        assert (await queues(session, server))["tianhe-center"]["status"] == "live"

        wrong = Simulator(sim.base_url, HALLS[1:2], "not-the-secret", clock=clock, seed=2)
        await wrong.tick(session)  # 401: logged and dropped, never raised
        assert not wrong.outbox["tianhe-station"]
        assert (await queues(session, server))["tianhe-station"]["status"] == "no_data"


def test_speed_compresses_simulated_time_into_valid_timestamps() -> None:
    clock = Clock(at(WEDNESDAY, 8, 50))
    sim = Simulator("http://unused", HALLS, SECRET, clock=clock, seed=4, speed=60)
    clock.advance(2)  # two real minutes: two simulated hours
    sim.collect()
    board = QueueBoard(clock)
    for hall_id, events in sim.outbox.items():
        assert board.apply_all(hall_id, events) == len(events)  # every stamp within the board's limits
        assert max(e["at"] for e in events) <= clock.moment.isoformat()
    assert all(r["status"] == "live" for r in board.reports([h.id for h in HALLS]))


class FastClock:
    """Five simulated minutes per real second, shared by the service and the simulator."""

    def __init__(self, start: dt.datetime, factor: float = 300):
        self.start, self.factor, self.t0 = start, factor, time.monotonic()

    def __call__(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=(time.monotonic() - self.t0) * self.factor)


@pytest.mark.asyncio
async def test_run_loop_keeps_queues_live_until_stopped() -> None:
    clock = FastClock(at(MONDAY, 9, 45))
    app = make_app(clock)
    async with TestServer(app) as server:
        stop = asyncio.Event()
        task = asyncio.create_task(simulator.run(str(server.make_url("")), HALLS, SECRET, clock=clock, seed=11,
                                                 stop=stop, demo=True, tick_seconds=0.05))
        seen = []
        for _ in range(12):
            await asyncio.sleep(0.15)
            seen.append(app[QUEUE_BOARD].report("tianhe-center"))
        stop.set()
        await asyncio.wait_for(task, timeout=5)
    live = [r for r in seen if r["status"] == "live"]
    assert len(live) >= len(seen) - 1  # the first look may come before the first post
    assert len({(r["waiting"], r["updated_at"]) for r in live}) > 3


def test_all_catalog_halls_replay_a_monday_morning(catalog: Catalog) -> None:
    halls = catalog.halls
    assert len(halls) == 100
    clock = Clock(at(MONDAY, 11))
    sim = Simulator("http://unused", halls, SECRET, clock=clock, seed=1)
    sim.collect()  # the start-up burst: 9:00-11:00 for every hall
    board = QueueBoard(clock)
    for hall_id, events in sim.outbox.items():
        for start in range(0, len(events), simulator.BATCH):
            board.apply_all(hall_id, events[start:start + simulator.BATCH])
    reports = board.reports([h.id for h in halls])
    assert all(r["status"] == "live" for r in reports)
    assert sum(r["waiting"] for r in reports) > len(halls)  # a Monday morning
