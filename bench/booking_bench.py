"""Load test of the booking API on the real application, against SQLite and/or PostgreSQL.

    python bench/booking_bench.py [--database sqlite|postgresql|both] [--clients 200] [--duration 10]

For each backend: starts the hall service (bot.api.app.create_app, real catalog) in a child process on a free port
with a fresh booking database, then
  1. `clients` concurrent clients book the same slot of capacity k: exactly k must be confirmed, the rest slot_full;
  2. `clients` concurrent clients hammer the whole API (halls, slots, book, look up, cancel, reschedule, queues)
     for `duration` seconds; any 5xx or unexpected answer is a failure, and afterwards, for every slot,
     places taken must equal the appointments holding one and never exceed capacity.
Exits non-zero if any check fails. A script, not a test: it prints figures for people to read.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import os
import random
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

import aiohttp  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from stdnum.cn import ric  # noqa: E402

from bot.booking import slots as slotmath  # noqa: E402
from bot.booking.models import appointments, slot_usage  # noqa: E402
from bot.catalog.loader import load_valid_catalog  # noqa: E402
from bot.catalog.model import Catalog  # noqa: E402
from bot.halls import hours  # noqa: E402
from bot.halls.model import Hall  # noqa: E402
from bot.settings import SCENARIOS_DIR  # noqa: E402

POSTGRES_URL = os.environ.get("HUJI_TEST_POSTGRES", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
PHONE = "13800138000"


# ---- the server, in its own process so load generation does not steal its event loop

def _serve(url: str, port: int) -> None:
    from aiohttp import web

    from bot.api.app import create_app

    catalog = load_valid_catalog(SCENARIOS_DIR)
    app = create_app(catalog, booking_url=url, queue_secret=uuid.uuid4().hex)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _wait_ready(base: str, process: multiprocessing.Process, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if not process.is_alive():
                raise RuntimeError("the server process died while starting")
            try:
                async with session.get(f"{base}/api/openapi.json") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the server did not start in time")


# ---- data

def valid_id(n: int) -> str:
    """Distinct checksum-valid resident ID numbers (Tianhe district, born from 1986 on)."""
    birth = dt.date(1986, 1, 1) + dt.timedelta(days=n // 1000 * 37)
    body = f"440106{birth:%Y%m%d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def _category(hall: Hall) -> str:
    return "birth" if hall.accepts("birth") else sorted(hall.categories or {"birth"})[0]


@dataclass(frozen=True)
class Target:
    hall: Hall
    category: str
    slot: slotmath.Slot

    @property
    def capacity(self) -> int:
        return slotmath.capacity(self.hall, self.slot)


def _future_slots(hall: Hall, now: dt.datetime, margin: dt.timedelta) -> list[slotmath.Slot]:
    """Bookable slots that will not start during the run."""
    days = (slotmath.today(now) + dt.timedelta(days=i) for i in range(slotmath.HORIZON_DAYS + 1))
    return [s for d in days for s in slotmath.slots_on(hall, d) if s.starts_at > now + margin]


def _race_target(catalog: Catalog, now: dt.datetime) -> Target:
    """A full-hour slot with a middling capacity, so both winners and losers are many."""
    for hall in sorted(catalog.halls, key=lambda h: (abs(h.counters - 10), h.id)):
        for slot in _future_slots(hall, now, dt.timedelta(hours=1)):
            if slot.minutes == 60:
                return Target(hall, _category(hall), slot)
    raise SystemExit("no bookable slot in the next 7 days: try another day")


def _hot_targets(catalog: Catalog, now: dt.datetime, skip: Target) -> list[Target]:
    """A few contended slots in a few halls: bookings, moves and cancellations collide there."""
    found: list[Target] = []
    for hall in [h for h in catalog.halls if h.id != skip.hall.id][:6]:
        found += [Target(hall, _category(hall), s) for s in _future_slots(hall, now, dt.timedelta(hours=1))[:4]]
    return found


# ---- measuring

@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    outcomes: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    failures: list[str] = field(default_factory=list)

    def add(self, endpoint: str, seconds: float, outcome: str) -> None:
        self.latencies[endpoint].append(seconds)
        self.outcomes[endpoint][outcome] += 1


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


async def _request(session: aiohttp.ClientSession, stats: Stats, endpoint: str, method: str, url: str,
                   expected: set[str], **kwargs: Any) -> tuple[int, dict[str, Any]]:
    """One call: its latency and outcome (`201`, `409 slot_full`...) are recorded; anything unexpected fails."""
    started = time.perf_counter()
    try:
        async with session.request(method, url, **kwargs) as r:
            body = await r.json(content_type=None)
            status = r.status
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as e:
        stats.add(endpoint, time.perf_counter() - started, f"exception {type(e).__name__}")
        stats.failures.append(f"{endpoint}: {type(e).__name__} {e}")
        return 0, {}
    error = body.get("error", {}).get("code") if isinstance(body, dict) and status >= 400 else None
    outcome = f"{status} {error}" if error else str(status)
    stats.add(endpoint, time.perf_counter() - started, outcome)
    if status >= 500 or (str(status) not in expected and outcome not in expected):
        stats.failures.append(f"{endpoint}: unexpected {outcome}: {str(body)[:200]}")
    return status, body if isinstance(body, dict) else {}


# ---- phase 1: everyone races for one slot

async def race(base: str, url: str, target: Target, clients: int) -> bool:
    stats = Stats()
    start_gun = asyncio.Event()
    body = {"hall_id": target.hall.id, "category": target.category, "date": f"{target.slot.day:%Y-%m-%d}",
            "start": target.slot.key, "name": "张三", "phone": PHONE}

    async def client(n: int, session: aiohttp.ClientSession) -> None:
        await start_gun.wait()
        await _request(session, stats, "POST /api/appointments", "POST", f"{base}/api/appointments",
                       {"201", "409 slot_full"}, json={**body, "id_number": valid_id(n)})

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as session:
        tasks = [asyncio.create_task(client(n, session)) for n in range(clients)]
        await asyncio.sleep(0.2)
        started = time.perf_counter()
        start_gun.set()
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - started

    outcomes = stats.outcomes["POST /api/appointments"]
    confirmed, full = outcomes["201"], outcomes["409 slot_full"]
    other = sum(outcomes.values()) - confirmed - full
    booked, held = _slot_counts(url, target)
    k = min(target.capacity, clients)  # with fewer clients than places, everyone gets one
    latencies = stats.latencies["POST /api/appointments"]
    print(f"  target: {target.hall.id} {target.category} {target.slot.day} {target.slot.key}-{target.slot.end_key}, "
          f"capacity k={target.capacity}")
    print(f"  confirmed {confirmed} (expected {k}), slot_full {full}, other errors {other}")
    print(f"  slot_usage.booked {booked}, active rows {held}")
    print(f"  wall {wall:.2f} s, {clients / wall:.0f} req/s, latency p50 {_pct(latencies, 0.5):.0f} ms, "
          f"p95 {_pct(latencies, 0.95):.0f} ms")
    ok = confirmed == k == booked == held and full == clients - k and other == 0 and not stats.failures
    for failure in stats.failures[:10]:
        print(f"  ! {failure}")
    print(f"  race check: {'PASS' if ok else 'FAIL'}")
    return ok


def _slot_counts(url: str, target: Target) -> tuple[int, int]:
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as conn:
            booked = conn.execute(select(slot_usage.c.booked).where(
                slot_usage.c.hall_id == target.hall.id, slot_usage.c.category == target.category,
                slot_usage.c.day == target.slot.day, slot_usage.c.start == target.slot.key)).scalar() or 0
            held = conn.execute(select(func.count()).select_from(appointments).where(
                appointments.c.hall_id == target.hall.id, appointments.c.category == target.category,
                appointments.c.day == target.slot.day, appointments.c.start == target.slot.key,
                appointments.c.status == "active")).scalar_one()
    finally:
        engine.dispose()
    return booked, held


# ---- phase 2: the whole API under load

@dataclass
class World:
    """What the clients know: hot slots and the appointments they made (code -> its target)."""
    halls: list[Hall]
    hot: list[Target]
    codes: dict[str, Target] = field(default_factory=dict)
    people: list[tuple[int, str]] = field(default_factory=list)  # (id seed, category) of bookings made
    next_person: int = 100_000
    queues: bool = True


async def mixed(base: str, url: str, catalog: Catalog, world: World, clients: int, duration: float) -> bool:
    stats = Stats()
    rng = random.Random(42)
    deadline = time.monotonic() + duration

    async def book(session: aiohttp.ClientSession) -> None:
        target = rng.choice(world.hot)
        if world.people and rng.random() < 0.1:  # somebody tries to book the same business twice
            seed = rng.choice(world.people)[0]
        else:
            seed, world.next_person = world.next_person, world.next_person + 1
        body = {"hall_id": target.hall.id, "category": target.category, "date": f"{target.slot.day:%Y-%m-%d}",
                "start": target.slot.key, "name": "李四", "phone": PHONE, "id_number": valid_id(seed)}
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        status, answer = await _request(session, stats, "POST /api/appointments", "POST", f"{base}/api/appointments",
                                        {"201", "409 slot_full", "409 already_booked", "422 slot_past"},
                                        json=body, headers=headers)
        if status == 201:
            world.codes[answer["code"]] = target
            world.people.append((seed, target.category))
            if rng.random() < 0.2:  # a network retry with the same key must replay, not book again
                await _request(session, stats, "POST /api/appointments (retry)", "POST", f"{base}/api/appointments",
                               {"200"}, json=body, headers=headers)

    async def look_up(session: aiohttp.ClientSession) -> None:
        if world.codes:
            code = rng.choice(list(world.codes))
            await _request(session, stats, "GET /api/appointments/{code}", "GET", f"{base}/api/appointments/{code}",
                           {"200"})

    async def cancel(session: aiohttp.ClientSession) -> None:
        if world.codes:
            code = rng.choice(list(world.codes))
            await _request(session, stats, "DELETE /api/appointments/{code}", "DELETE",
                           f"{base}/api/appointments/{code}", {"200", "409 already_cancelled", "409 appointment_past"})

    async def reschedule(session: aiohttp.ClientSession) -> None:
        if world.codes:
            code = rng.choice(list(world.codes))
            target = world.codes[code]
            to = rng.choice([t for t in world.hot if t.hall.id == target.hall.id])
            status, _ = await _request(
                session, stats, "PATCH /api/appointments/{code}", "PATCH", f"{base}/api/appointments/{code}",
                {"200", "409 slot_full", "409 already_cancelled", "409 appointment_past", "422 slot_past"},
                json={"date": f"{to.slot.day:%Y-%m-%d}", "start": to.slot.key})
            if status == 200:
                world.codes[code] = to

    async def halls(session: aiohttp.ClientSession) -> None:
        await _request(session, stats, "GET /api/halls", "GET", f"{base}/api/halls?category=birth", {"200"})

    async def slots(session: aiohttp.ClientSession) -> None:
        target = rng.choice(world.hot)
        await _request(session, stats, "GET /api/halls/{id}/slots", "GET",
                       f"{base}/api/halls/{target.hall.id}/slots?date={target.slot.day:%Y-%m-%d}"
                       f"&category={target.category}", {"200"})

    async def queue(session: aiohttp.ClientSession) -> None:
        if rng.random() < 0.5:
            hall = rng.choice(world.halls)
            await _request(session, stats, "GET /api/halls/{id}/queue", "GET", f"{base}/api/halls/{hall.id}/queue",
                           {"200"})
        else:
            await _request(session, stats, "GET /api/queue", "GET", f"{base}/api/queue", {"200"})

    mix = [(book, 25), (look_up, 15), (cancel, 8), (reschedule, 8), (halls, 10), (slots, 24)]
    if world.queues:
        mix.append((queue, 10))
    actions, weights = zip(*mix, strict=True)

    async def client(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < deadline:
            await rng.choices(actions, weights)[0](session)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        wall = time.perf_counter() - started

    total = sum(len(v) for v in stats.latencies.values())
    every = [x for v in stats.latencies.values() for x in v]
    server_errors = sum(n for v in stats.outcomes.values() for o, n in v.items() if o[:1] == "5" or "exception" in o)
    print(f"  {'endpoint':34} {'count':>6} {'p50 ms':>7} {'p95 ms':>7}  outcomes")
    for endpoint in sorted(stats.latencies):
        lat = stats.latencies[endpoint]
        outcomes = ", ".join(f"{o}: {n}" for o, n in stats.outcomes[endpoint].most_common())
        print(f"  {endpoint:34} {len(lat):>6} {_pct(lat, 0.5):>7.0f} {_pct(lat, 0.95):>7.0f}  {outcomes}")
    print(f"  total {total} requests in {wall:.1f} s: {total / wall:.0f} req/s, p50 {_pct(every, 0.5):.0f} ms, "
          f"p95 {_pct(every, 0.95):.0f} ms, mean {statistics.fmean(every) * 1000 if every else 0:.0f} ms")
    print(f"  5xx / connection errors: {server_errors}; unexpected answers: {len(stats.failures)}")
    for failure in stats.failures[:10]:
        print(f"  ! {failure}")
    invariant_ok = check_invariant(url, catalog)
    ok = not stats.failures and server_errors == 0 and invariant_ok
    print(f"  mixed-load check: {'PASS' if ok else 'FAIL'}")
    return ok


def check_invariant(url: str, catalog: Catalog) -> bool:
    """For every slot: booked == appointments holding a place (active or expired) <= capacity."""
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as conn:
            held = Counter((r.hall_id, r.category, r.day, r.start) for r in conn.execute(
                select(appointments.c.hall_id, appointments.c.category, appointments.c.day, appointments.c.start)
                .where(appointments.c.status != "cancelled")))
            usage = {(r.hall_id, r.category, r.day, r.start): r.booked for r in conn.execute(select(slot_usage))}
            rows = conn.execute(select(func.count()).select_from(appointments)).scalar_one()
    finally:
        engine.dispose()
    problems = []
    for key in set(usage) | set(held):
        hall = catalog.hall(key[0])
        slot = next((s for s in slotmath.slots_on(hall, key[2]) if s.key == key[3]), None) if hall else None
        capacity = slotmath.capacity(hall, slot) if hall and slot else 0
        if usage.get(key, 0) != held.get(key, 0) or usage.get(key, 0) > capacity:
            problems.append(f"{key}: booked {usage.get(key)}, holding {held.get(key, 0)}, capacity {capacity}")
    print(f"  invariant: {len(usage)} slots, {rows} appointments ({sum(held.values())} holding a place): "
          f"{'booked == holding <= capacity everywhere' if not problems else f'{len(problems)} VIOLATIONS'}")
    for problem in problems[:10]:
        print(f"  ! {problem}")
    return not problems


# ---- one backend

def _postgres_schema() -> tuple[str, Any]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, future=True)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}", drop


async def bench(backend: str, catalog: Catalog, clients: int, duration: float) -> bool:
    print(f"\n== {backend}: {clients} clients ==")
    with tempfile.TemporaryDirectory() as tmp:
        if backend == "sqlite":
            url, drop = f"sqlite:///{Path(tmp) / 'bookings.sqlite3'}", None
        else:
            url, drop = _postgres_schema()
        port = _free_port()
        process = multiprocessing.get_context("spawn").Process(target=_serve, args=(url, port), daemon=True)
        process.start()
        base = f"http://127.0.0.1:{port}"
        try:
            await _wait_ready(base, process)
            now = hours.now()
            target = _race_target(catalog, now)
            print("phase 1: everyone books one slot")
            ok = await race(base, url, target, clients)
            world = World(catalog.halls, _hot_targets(catalog, now, target))
            async with aiohttp.ClientSession() as session, session.get(f"{base}/api/queue") as r:
                world.queues = r.status == 200
            print(f"phase 2: mixed load for {duration:.0f} s ({len(world.hot)} contended slots"
                  f"{', queue reads included' if world.queues else ''})")
            ok = await mixed(base, url, catalog, world, clients, duration) and ok
        finally:
            process.terminate()
            process.join(30)
            if drop:
                drop()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of mixed load")
    args = parser.parse_args()
    catalog = load_valid_catalog(SCENARIOS_DIR)
    if not catalog.halls:
        raise SystemExit("scenarios/halls.yml has no halls")
    backends = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results = {b: asyncio.run(bench(b, catalog, args.clients, args.duration)) for b in backends}
    print("\n" + ", ".join(f"{b}: {'PASS' if ok else 'FAIL'}" for b, ok in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
