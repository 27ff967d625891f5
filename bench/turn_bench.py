"""Turn latency and throughput of the whole assistant over Rasa's REST channel.

    python bench/turn_bench.py [--samples 30] [--clients 50] [--duration 15] [--instances 1,2]

Starts the hall service, the action server and Rasa (bot.services.running_assistant, free ports, a fresh tracker
database), then
  1. sequentially, `samples` turns of each kind, each in a new conversation: a turn that runs no custom action
     (「你好」 → utter_greet) and a consultation turn (「孩子出生一年多了还没报户口」 → action_consult);
     prints both medians and their ratio (issue 13's target: ≤ 1.5);
  2. `clients` conversations, each sending its next message as soon as it has the answer, for `duration` seconds:
     turns per second, p50, p95, errors (non-200, exception, timeout) and lost turns (a 200 without any reply,
     or a sent message missing from the conversation's tracker afterwards).
With `--instances 1,2` (the default) the load run is repeated on the production layout (bot.services.running_instances):
two Rasa instances and two action servers behind nginx, sharing a throwaway PostgreSQL schema (HUJI_BENCH_POSTGRES,
default the test database) and Redis (HUJI_REDIS_URL or 127.0.0.1, a throwaway key prefix); the load goes through
the proxy. The one-instance run keeps SQLite and in-memory locks, as `./huji serve` does by default.
A script, not a test: it prints figures for people to read; the machine's other load shows in them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import requests  # noqa: E402

from bot import services  # noqa: E402
from bot.services import running_assistant, running_instances  # noqa: E402

# 50 clients sending as fast as they are answered is a load test: the per-sender rate limit would refuse it
os.environ.setdefault("HUJI_RATE_PER_MINUTE", "0")
from bot.settings import api_params  # noqa: E402
from bot.training import ensure_model  # noqa: E402

GREETING = "你好"
CONSULTATION = "孩子出生一年多了还没报户口"
CONVERSATION = [GREETING, CONSULTATION]  # what each load-test conversation sends, in a loop


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def sequential(base: str, message: str, samples: int) -> list[float]:
    url, times = f"{base}/webhooks/rest/webhook", []
    with requests.Session() as http:
        http.post(url, json={"sender": f"warm-{uuid.uuid4().hex}", "message": message}, timeout=60)
        for _ in range(samples):
            started = time.perf_counter()
            response = http.post(url, json={"sender": f"seq-{uuid.uuid4().hex}", "message": message}, timeout=60)
            times.append(time.perf_counter() - started)
            if response.status_code != 200 or not response.json():
                raise SystemExit(f"「{message}」没有得到回答：{response.status_code} {response.text[:200]}")
    return times


async def load(base: str, clients: int, duration: float) -> dict[str, object]:
    url = f"{base}/webhooks/rest/webhook"
    latencies: list[float] = []
    errors = empty = 0
    sent: dict[str, int] = {}
    deadline = time.monotonic() + duration

    async def conversation(http: aiohttp.ClientSession, sender: str) -> None:
        nonlocal errors, empty
        n = 0
        while time.monotonic() < deadline:
            message = CONVERSATION[n % len(CONVERSATION)]
            n += 1
            sent[sender] = n
            started = time.perf_counter()
            try:
                async with http.post(url, json={"sender": sender, "message": message}) as response:
                    body = await response.json(content_type=None)
                    if response.status != 200:
                        errors += 1
                        continue
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)
            if not body:
                empty += 1

    senders = [f"load-{i}-{uuid.uuid4().hex[:8]}" for i in range(clients)]
    started = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60),
                                     connector=aiohttp.TCPConnector(limit=clients)) as http:
        await asyncio.gather(*(conversation(http, s) for s in senders))
        elapsed = time.monotonic() - started
        missing = 0  # messages sent that the conversation's tracker does not hold
        for sender in senders:
            async with http.get(f"{base}/conversations/{sender}/tracker", params=api_params()) as response:
                tracker = await response.json()
            received = sum(1 for e in tracker.get("events", []) if e.get("event") == "user")
            missing += max(0, sent.get(sender, 0) - received)
    return {"turns": len(latencies), "elapsed": elapsed, "latencies": latencies, "errors": errors,
            "lost": empty + missing, "empty": empty, "missing": missing}


def report_load(title: str, result: dict[str, object], clients: int) -> str:
    lat = result["latencies"]
    return (f"load, {title}: {clients} conversations, next message as soon as answered, {result['elapsed']:.1f} s:\n"
            f"  {result['turns']} turns, {result['turns'] / result['elapsed']:.1f} turns/s, "
            f"p50 {percentile(lat, 0.5) * 1000:.0f} ms, p95 {percentile(lat, 0.95) * 1000:.0f} ms, "
            f"errors {result['errors']}, lost {result['lost']} "
            f"(no reply {result['empty']}, missing from tracker {result['missing']})")


def one_instance(args: argparse.Namespace, tmp: str) -> list[str]:
    env = {"HUJI_TRACKER_DB_URL": f"sqlite:///{tmp}/tracker.db"}
    ports = free_port(), free_port(), free_port()
    with running_assistant(ensure_model(), *ports, env=env, log_dir=Path(tmp)) as base:
        plain = sequential(base, GREETING, args.samples)
        consult = sequential(base, CONSULTATION, args.samples)
        p_plain, p_consult = statistics.median(plain), statistics.median(consult)
        lines = [f"sequential, {args.samples} turns each (new conversation per turn), one instance:",
                 f"  no custom action (「{GREETING}」 → utter_greet):   p50 {p_plain * 1000:7.1f} ms",
                 f"  consultation (「{CONSULTATION}」 → action_consult): p50 {p_consult * 1000:7.1f} ms",
                 f"  ratio consultation / no action: {p_consult / p_plain:.2f} (target ≤ 1.5)"]
        print("\n".join(lines), flush=True)
        result = asyncio.run(load(base, args.clients, args.duration))
        lines.append(report_load("one Rasa instance (SQLite, in-memory locks)", result, args.clients))
        print(lines[-1], flush=True)
    return lines


def several_instances(args: argparse.Namespace, tmp: str, count: int) -> list[str]:
    import uuid as _uuid

    import redis
    from sqlalchemy import create_engine, text

    postgres = os.environ.get("HUJI_BENCH_POSTGRES", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
    redis_url = os.environ.get("HUJI_REDIS_URL") or "redis://127.0.0.1:6379/0"
    schema, prefix = f"bench_{_uuid.uuid4().hex[:10]}", f"hujibench{_uuid.uuid4().hex[:8]}:"
    admin = create_engine(postgres, future=True)
    with admin.begin() as db:
        db.execute(text(f'CREATE SCHEMA "{schema}"'))
    env = {"HUJI_TRACKER_DB_URL": f"{postgres}?options=-csearch_path%3D{schema}", "HUJI_REDIS_URL": redis_url,
           "HUJI_REDIS_PREFIX": prefix, "HUJI_BOOKING_DATABASE_URL": f"sqlite:///{tmp}/bookings-{count}.db"}
    try:
        ports = [free_port() for _ in range(count)], [free_port() for _ in range(count)]
        with running_instances(ensure_model(), free_port(), ports[0], free_port(), ports[1], free_port(),
                               env=env, log_dir=Path(tmp)) as layout:
            sequential(layout.proxy, GREETING, 3)  # warm both instances' first turn
            result = asyncio.run(load(layout.proxy, args.clients, args.duration))
        line = report_load(f"{count} Rasa instances + {count} action servers behind nginx (PostgreSQL, Redis locks)",
                           result, args.clients)
        print(line, flush=True)
        return [line]
    finally:
        with admin.begin() as db:
            db.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--instances", default="1,2", help="comma-separated Rasa instance counts to load-test")
    args = parser.parse_args()
    services.STARTUP_TIMEOUT = max(services.STARTUP_TIMEOUT, 600)  # models load in parallel on a shared machine

    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in (int(n) for n in args.instances.split(",")):
            lines += one_instance(args, tmp) if count == 1 else several_instances(args, tmp, count)
    print("\nsummary:\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
