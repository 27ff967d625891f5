"""Plays the ticket machines of every hall: a realistic day of arrivals, counters and services, posted over HTTP.

The model, per hall:
- arrivals are Poisson, their rate set by the hour (morning peak 9:30-11, a smaller one 14-16, quiet before closing),
  the day (Monday and the first open day after a holiday busiest, Saturday busy where halls open) and the hall's
  size (its counters; district centers run closest to capacity);
- counters open at the start of each opening window, more at peak, fewer at the edges and at weekends; at the end
  of a window ticket issuing stops and the counters finish the people already waiting, then close;
- like real halls, tickets stop being issued when those waiting could not be served before closing;
- service times are lognormal, mean 12 min at district centers (the complex cases), 9-10 min elsewhere.
At start-up the day so far is replayed in one burst with past timestamps, so queues are realistic at once.
Demo mode runs a hall that is closed now as on a busy weekday morning, so a demo always shows moving queues;
every event is marked "simulated" and the board passes that on, so the chatbot can say 模拟数据.

Run it against a running hall service: python -m bot.queue.simulator --url http://127.0.0.1:5080 --demo
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import heapq
import itertools
import logging
import math
import random
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp

from bot.halls import hours
from bot.halls.model import Hall, Window
from bot.queue.board import QueueEvent
from bot.queue.keys import default_secret, hall_key

log = logging.getLogger(__name__)

STEP = dt.timedelta(minutes=1)  # the model re-reads rates and staffing at least this often (simulated time)
HEARTBEAT = dt.timedelta(minutes=2)  # well inside the board's 10-minute staleness, so quiet halls stay "live"
FAST_FORWARD_LIMIT = dt.timedelta(hours=4)  # queues forget faster than that; older replay would only cost time
DEMO_LEAD = dt.timedelta(minutes=90)  # a demo hall starts with the queue a busy morning has built
BATCH = 200  # the API's limit per request
OUTBOX_LIMIT = 5000  # per hall, while the service is unreachable
CONCURRENCY = 8

SERVICE_MEAN = {"center": 12.0, "station": 9.0, "other": 10.0}  # minutes
SERVICE_SIGMA = 0.45
SERVICE_RANGE = (2.0, 45.0)
LOAD = {"center": 1.2, "station": 1.05, "other": 0.8}  # peak arrivals over peak capacity: morning queues build up
DEMO_HORIZON = dt.timedelta(minutes=45)  # demo halls never close: the ticket quota bounds their queue
DEMO_MOMENT = dt.time(10, 0)
DEMO_DAY_FACTOR = 1.2  # a Monday morning

# From this time of day: (arrivals as a share of the peak, share of counters staffed).
DAY_SHAPE: tuple[tuple[dt.time, float, float], ...] = (
    (dt.time(0, 0), 0.02, 0.5),  # only round-the-clock self-service areas are open at night
    (dt.time(7, 0), 0.2, 0.6),
    (dt.time(9, 0), 0.85, 0.9),
    (dt.time(9, 30), 1.0, 1.0),
    (dt.time(11, 0), 0.65, 0.85),
    (dt.time(12, 0), 0.3, 0.5),  # only halls open through lunch
    (dt.time(13, 30), 0.45, 0.6),
    (dt.time(14, 0), 0.75, 0.8),
    (dt.time(16, 0), 0.45, 0.6),
    (dt.time(17, 0), 0.3, 0.5),
    (dt.time(19, 0), 0.1, 0.5),
    (dt.time(22, 0), 0.02, 0.5),
)
WEEKEND_STAFFING = 0.7


@dataclasses.dataclass(frozen=True)
class Profile:
    """What a hall does at one moment."""

    accepting: bool  # issuing tickets
    counters: int  # counters to staff
    rate: float  # arrivals per minute
    closes_at: dt.datetime | None  # issuing stops once the waiting could not be served by then


CLOSED = Profile(False, 0, 0.0, None)


def day_shape(moment: dt.time) -> tuple[float, float]:
    arrivals, staffing = DAY_SHAPE[0][1:]
    for start, a, s in DAY_SHAPE:
        if moment >= start:
            arrivals, staffing = a, s
    return arrivals, staffing


def after_holiday(hall: Hall, day: dt.date) -> bool:
    """The first open day after a public holiday: everyone who waited comes at once."""
    for back in range(1, 10):
        before = day - dt.timedelta(days=back)
        if hours.day_kind(before) == "holiday":
            return True
        if hours.windows_on(hall.schedule, before):
            return False
    return False


def day_factor(hall: Hall, day: dt.date) -> float:
    if after_holiday(hall, day):
        return 1.35
    kind = hours.day_kind(day)
    if kind == "saturday":
        return 1.15
    if kind in ("sunday", "holiday"):
        return 0.9
    return {0: 1.2, 4: 1.05}.get(day.weekday(), 0.95)


@dataclasses.dataclass(frozen=True)
class DayPlan:
    """A hall's day, worked out once: the calendar look-ups are too slow to repeat every step."""

    windows: tuple[Window, ...]
    factor: float
    weekend: bool


def day_plan(hall: Hall, day: dt.date) -> DayPlan:
    return DayPlan(hours.windows_on(hall.schedule, day), day_factor(hall, day), hours.day_kind(day) != "weekday")


def _busy_profile(hall: Hall, moment: dt.time, factor: float, weekend: bool, closes_at: dt.datetime) -> Profile:
    arrivals, staffing = day_shape(moment)
    if weekend:
        staffing *= WEEKEND_STAFFING
    capacity_per_minute = hall.counters / SERVICE_MEAN.get(hall.kind, 10.0)
    counters = max(1, min(hall.counters, math.ceil(hall.counters * staffing)))
    return Profile(True, counters, capacity_per_minute * LOAD.get(hall.kind, 0.7) * arrivals * factor, closes_at)


def profile(hall: Hall, moment: dt.datetime, demo: bool = False, plan: DayPlan | None = None) -> Profile:
    local = moment.astimezone(hours.TZ)
    plan = plan or day_plan(hall, local.date())
    for w in plan.windows:
        if w.start <= local.time() < w.end:
            return _busy_profile(hall, local.time(), plan.factor, plan.weekend, hours.at(local.date(), w.end))
    if demo:  # as at 10:00 on a busy weekday, indefinitely
        return _busy_profile(hall, DEMO_MOMENT, DEMO_DAY_FACTOR, False, moment + DEMO_HORIZON)
    return CLOSED


class HallModel:
    """One hall's queue in simulated time; `advance` returns the machine events, stamped in simulated time."""

    def __init__(self, hall: Hall, rng: random.Random, demo: bool = False):
        self.hall, self.rng, self.demo = hall, rng, demo
        self.t: dt.datetime | None = None
        self.day: dt.date | None = None
        self.seq = 0
        self.queue: deque[str] = deque()
        self.counters: dict[int, dt.datetime | None] = {}  # open counter → end of its current service (None: idle)
        self.closing: set[int] = set()  # to close once their current service ends
        self.mean = SERVICE_MEAN.get(hall.kind, 10.0)
        self._mu = math.log(self.mean) - SERVICE_SIGMA ** 2 / 2  # lognormal with that mean
        self._events: list[QueueEvent] = []
        self._heap: list[tuple[dt.datetime, int, int]] = []  # (time, tie-break, counter or 0 for an arrival)
        self._order = itertools.count()
        self._plans: dict[dt.date, DayPlan] = {}

    @property
    def active(self) -> bool:
        return bool(self.counters or self.queue)

    def advance(self, until: dt.datetime) -> list[QueueEvent]:
        if self.t is None:
            self.t = until
        while self.t < until:
            if not self.active and not self.demo:
                skip_to = min(self._next_opening(self.t), until)
                if skip_to > self.t:  # nothing happens in a closed, empty hall
                    self.t = skip_to
                    continue
            end = min(self.t + STEP, until)
            self._step(self.t, end)
            self.t = end
        self._new_day(until)  # at midnight sharp, before anything else reaches the board for the new day
        events, self._events = self._events, []
        return events

    def plan(self, day: dt.date) -> DayPlan:
        if day not in self._plans:
            if len(self._plans) > 7:
                self._plans.clear()
            self._plans[day] = day_plan(self.hall, day)
        return self._plans[day]

    def _next_opening(self, t: dt.datetime) -> dt.datetime:
        """The next window start today, or midnight (steps begin there, so a window start is never skipped)."""
        local = t.astimezone(hours.TZ)
        for w in self.plan(local.date()).windows:
            if local.time() < w.end:
                return max(t, hours.at(local.date(), w.start))
        return hours.at(local.date() + dt.timedelta(days=1), dt.time(0))

    # -- one step ------------------------------------------------------------------------------------------------

    def _emit(self, kind: str, at: dt.datetime, **fields: Any) -> None:
        self._events.append(QueueEvent(kind, at, simulated=True, **fields))

    def _step(self, t0: dt.datetime, t1: dt.datetime) -> None:
        self._new_day(t0)
        p = profile(self.hall, t0, self.demo, self.plan(t0.astimezone(hours.TZ).date()))
        self._staff(p, t0)
        self._heap = []
        if p.accepting and p.rate > 0:
            t, last = t0, min(t1, p.closes_at or t1)
            while True:  # Poisson arrivals; the rate is constant within a step
                t += dt.timedelta(minutes=self.rng.expovariate(p.rate))
                if t >= last:
                    break
                heapq.heappush(self._heap, (t, next(self._order), 0))
        for counter, busy_until in self.counters.items():
            if busy_until is not None and busy_until < t1:
                heapq.heappush(self._heap, (busy_until, next(self._order), counter))
        self._dispatch(t0, t1)
        while self._heap:
            t, _, counter = heapq.heappop(self._heap)
            if counter:
                self._finish(counter, t, p)
            else:
                self._arrive(t, p)
            self._dispatch(t, t1)

    def _new_day(self, t: dt.datetime) -> None:
        """Boards start each day afresh: tell them about anyone still here past midnight (demo halls only)."""
        day = t.astimezone(hours.TZ).date()
        if day == self.day:
            return
        if self.day is not None:
            for counter in sorted(self.counters):
                self._emit("counter_opened", t, counter=counter)
            for ticket in self.queue:
                self._emit("ticket_issued", t, ticket=ticket)
        if not self.queue:
            self.seq = 0  # numbers restart, unless that could repeat a number still waiting
        self.day = day

    def _staff(self, p: Profile, t: dt.datetime) -> None:
        staffed = sorted(c for c in self.counters if c not in self.closing)
        if not p.accepting:
            if not self.queue:  # after hours, counters stay until the last person is served
                self.closing.update(self.counters)
        elif len(staffed) > p.counters:
            self.closing.update(staffed[p.counters:])  # the highest-numbered close first
        elif len(staffed) < p.counters:
            need = p.counters - len(staffed)
            for counter in sorted(self.closing)[:need]:  # someone about to leave stays instead
                self.closing.discard(counter)
                need -= 1
            free = [n for n in range(1, self.hall.counters + 1) if n not in self.counters]
            for counter in free[:need]:
                self.counters[counter] = None
                self._emit("counter_opened", t, counter=counter)
        for counter in sorted(self.closing):
            if self.counters.get(counter) is None:
                self._close(counter, t)

    def _close(self, counter: int, t: dt.datetime) -> None:
        self.counters.pop(counter, None)
        self.closing.discard(counter)
        self._emit("counter_closed", t, counter=counter)

    def _arrive(self, t: dt.datetime, p: Profile) -> None:
        staffed = sum(1 for c in self.counters if c not in self.closing)
        wait = dt.timedelta(minutes=len(self.queue) * self.mean / max(staffed, 1))
        if p.closes_at is not None and t + wait > p.closes_at:
            return  # 当日号已派完: the hall turns people away rather than keep them past closing
        self.seq += 1
        ticket = f"A{self.seq:03d}"
        self.queue.append(ticket)
        self._emit("ticket_issued", t, ticket=ticket)

    def _finish(self, counter: int, t: dt.datetime, p: Profile) -> None:
        if counter not in self.counters:
            return
        self.counters[counter] = None
        if counter in self.closing or (not p.accepting and not self.queue):
            self._close(counter, t)

    def _dispatch(self, t: dt.datetime, t1: dt.datetime) -> None:
        """Idle counters call the next ticket at once."""
        for counter in sorted(self.counters):
            if not self.queue:
                return
            if self.counters[counter] is not None or counter in self.closing:
                continue
            ticket = self.queue.popleft()
            minutes = min(max(self.rng.lognormvariate(self._mu, SERVICE_SIGMA), SERVICE_RANGE[0]), SERVICE_RANGE[1])
            done = t + dt.timedelta(minutes=minutes)
            self.counters[counter] = done
            self._emit("ticket_called", t, ticket=ticket, counter=counter)
            if done < t1:
                heapq.heappush(self._heap, (done, next(self._order), counter))


class Simulator:
    """All halls' models and their HTTP outbox. `tick` brings every hall up to now and posts what happened."""

    def __init__(self, base_url: str, halls: Iterable[Hall], secret: str, *,
                 clock: Callable[[], dt.datetime] = hours.now, speed: float = 1.0, seed: int | None = None,
                 demo: bool = False):
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.base_url = base_url.rstrip("/")
        self.secret, self.clock, self.speed, self.demo = secret, clock, speed, demo
        rng = random.Random(seed)
        self.models = [HallModel(h, random.Random(rng.random()), demo) for h in halls]
        self.anchor = clock()
        self.outbox: dict[str, list[dict[str, Any]]] = {m.hall.id: [] for m in self.models}
        self.last_stamp: dict[str, dt.datetime] = {}  # of the last event queued per hall
        self._failing = False
        self._refused: set[tuple[str, int]] = set()
        self._start()

    def virtual_now(self) -> dt.datetime:
        """Simulated time runs `speed` times as fast as the clock (1: it is the clock)."""
        return self.anchor + (self.clock() - self.anchor) * self.speed

    def stamp(self, moment: dt.datetime) -> dt.datetime:
        """The real time an event in simulated time is reported at."""
        return self.anchor + (moment - self.anchor) / self.speed

    def _start(self) -> None:
        """Place each hall where today's replay begins: at its first opening today (demo halls an hour ago)."""
        now = self.virtual_now()
        local = now.astimezone(hours.TZ)
        earliest = now - min(FAST_FORWARD_LIMIT, dt.timedelta(hours=20) * self.speed)  # stamps stay within 24 h
        for model in self.models:
            windows = hours.windows_on(model.hall.schedule, local.date())
            first = hours.at(local.date(), windows[0].start) if windows else None
            if first is not None and first <= now:
                model.t = max(first, earliest)
            elif self.demo:
                model.t = max(now - DEMO_LEAD, earliest)
            else:
                model.t = now

    def collect(self) -> int:
        """Advance every hall to now and queue its events (plus heartbeats for quiet halls); return how many."""
        now, real = self.virtual_now(), self.clock()
        return sum(self._collect_hall(model, now, real) for model in self.models)

    def _collect_hall(self, model: HallModel, now: dt.datetime, real: dt.datetime) -> int:
        hall_id = model.hall.id
        events = [dataclasses.replace(e, at=self.stamp(e.at)) for e in model.advance(now)]
        last = events[-1].at if events else self.last_stamp.get(hall_id)
        if last is None or (model.active and real - last >= HEARTBEAT):
            events.append(QueueEvent("heartbeat", real, simulated=True))
        if events:
            self.last_stamp[hall_id] = events[-1].at
            box = self.outbox[hall_id]
            box.extend(e.to_json() for e in events)
            if len(box) > OUTBOX_LIMIT:
                del box[:len(box) - OUTBOX_LIMIT]
        return len(events)

    async def tick(self, session: aiohttp.ClientSession) -> None:
        now, real = self.virtual_now(), self.clock()
        for n, model in enumerate(self.models, 1):
            self._collect_hall(model, now, real)
            if n % 10 == 0:
                await asyncio.sleep(0)  # the start-up replay must not hold up the service sharing this loop
        await self.flush(session)

    async def flush(self, session: aiohttp.ClientSession) -> None:
        limit = asyncio.Semaphore(CONCURRENCY)

        async def send(hall_id: str) -> bool:
            async with limit:
                return await self._send_hall(session, hall_id)

        was_failing = self._failing
        results = await asyncio.gather(*(send(h) for h, box in self.outbox.items() if box))
        if all(results):
            if was_failing:
                log.info("queue simulator: the hall service answers again")
            self._failing = False

    async def _send_hall(self, session: aiohttp.ClientSession, hall_id: str) -> bool:
        """Post the hall's events in order, batch by batch; keep what could not be delivered for the next tick."""
        box = self.outbox[hall_id]
        url = f"{self.base_url}/api/halls/{hall_id}/queue/events"
        headers = {"X-Hall-Key": hall_key(self.secret, hall_id)}
        while box:
            batch = box[:BATCH]
            try:
                async with session.post(url, json={"events": batch}, headers=headers) as response:
                    if response.status >= 500:
                        raise aiohttp.ClientResponseError(response.request_info, (), status=response.status)
                    if response.status >= 400 and (hall_id, response.status) not in self._refused:
                        # Retrying would fail the same way: drop the batch, and say why once per hall and status.
                        self._refused.add((hall_id, response.status))
                        log.warning("queue simulator: %s refused %d events: %s", hall_id, len(batch),
                                    (await response.text())[:300])
            except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                if not self._failing:
                    log.warning("queue simulator: cannot post to %s (%s); will retry", url, e.__class__.__name__)
                self._failing = True
                return False
            del box[:len(batch)]
        return True


async def run(base_url: str, halls: list[Hall], secret: str, *, clock: Callable[[], dt.datetime] = hours.now,
              speed: float = 1.0, seed: int | None = None, stop: asyncio.Event | None = None, demo: bool = False,
              tick_seconds: float = 3.0) -> None:
    """Simulate every hall's ticket machines against the hall service at base_url until `stop` is set."""
    simulator = Simulator(base_url, halls, secret, clock=clock, speed=speed, seed=seed, demo=demo)
    stop = stop or asyncio.Event()
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while not stop.is_set():
            try:
                await simulator.tick(session)
            except Exception:  # a bug in one tick must not end the demo
                log.exception("queue simulator: tick failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), tick_seconds)


def main(argv: list[str] | None = None) -> int:
    from bot.catalog.loader import load_valid_catalog
    from bot.settings import SCENARIOS_DIR, halls_url

    parser = argparse.ArgumentParser(description="模拟各户政大厅的取号机，向大厅服务推送排队事件")
    parser.add_argument("--url", default=halls_url(), help="大厅服务地址（默认 HUJI_HALLS_URL 或 5080 端口）")
    parser.add_argument("--demo", action="store_true", help="已关门的大厅按工作日上午繁忙时段模拟")
    parser.add_argument("--speed", type=float, default=1.0, help="模拟时间相对真实时间的倍速")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--tick", type=float, default=3.0, help="每隔多少秒推送一次")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    halls = load_valid_catalog(SCENARIOS_DIR).halls
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args.url, halls, default_secret(), speed=args.speed, seed=args.seed, demo=args.demo,
                        tick_seconds=args.tick))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
