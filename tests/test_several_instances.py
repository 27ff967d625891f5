"""Two Rasa instances sharing PostgreSQL and Redis behind nginx: one conversation's messages, sent alternately and
concurrently to both, are each processed exactly once and in order, none lost.

Order is the order in which the messages reached an instance: each message is sent as soon as the one before it
holds its ticket in the conversation's queue (read in Redis), usually long before that one's turn has ended.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import create_engine, text

from bot import services
from bot.lock_store import RedisTicketLocks
from bot.services import Layout, running_instances
from bot.training import ensure_model
from tests.conftest import throwaway_postgres_schema
from tests.hall_service import free_port

REDIS_URL = os.environ.get("HUJI_TEST_REDIS", "redis://127.0.0.1:6379/0")
TOKEN = "instances-token"
MESSAGES = 16


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Layout, str, str]]:
    tmp = tmp_path_factory.mktemp("instances")
    services.STARTUP_TIMEOUT = max(services.STARTUP_TIMEOUT, 600)  # two models load at once on a shared machine
    prefix = f"hujitest{uuid.uuid4().hex[:10]}:"
    with throwaway_postgres_schema("instances") as tracker_url:
        env = {"HUJI_TRACKER_DB_URL": tracker_url, "HUJI_REDIS_URL": REDIS_URL, "HUJI_REDIS_PREFIX": prefix,
               "HUJI_API_TOKEN": TOKEN, "HUJI_BOOKING_DATABASE_URL": f"sqlite:///{tmp / 'bookings.sqlite3'}"}
        ports = [free_port() for _ in range(7)]  # proxy, 2 Rasa, actions proxy, 2 action servers, hall service
        try:
            with running_instances(ensure_model(), ports[0], ports[1:3], ports[3], ports[4:6], ports[6], env=env,
                                   log_dir=Path(tmp)) as running:
                yield running, tracker_url, prefix
            listening = [port for port in ports if _answers(port)]
            assert listening == [], f"something still listens on {listening} after the layout stopped"
        finally:
            client = redis.Redis.from_url(REDIS_URL)
            for key in client.scan_iter(f"{prefix}*"):
                client.delete(key)
            client.close()


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _tickets_issued(client: redis.Redis, counter_key: str) -> int:
    return int(client.get(counter_key) or 0)


def test_one_conversation_across_two_instances_keeps_its_order(layout: tuple[Layout, str, str]) -> None:
    running, tracker_url, prefix = layout
    sender = f"citizen-{uuid.uuid4().hex[:8]}"
    texts = [f"第{i + 1}个问题：孩子出生一年多了还没报户口" if i % 2 else f"你好，第{i + 1}次" for i in range(MESSAGES)]
    counter_key = RedisTicketLocks(REDIS_URL, prefix).keys(sender)[2]
    client = redis.Redis.from_url(REDIS_URL)
    results: dict[int, tuple[int, list, float, float]] = {}

    def send(index: int, base: str) -> None:
        started = time.monotonic()
        response = requests.post(f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": texts[index]},
                                 timeout=120)
        results[index] = (response.status_code, response.json() if response.ok else [], started, time.monotonic())

    threads = []
    for index in range(MESSAGES):
        thread = threading.Thread(target=send, args=(index, running.rasa[index % 2]))  # alternately A, B, A, …
        thread.start()
        threads.append(thread)
        deadline = time.monotonic() + 60
        while _tickets_issued(client, counter_key) < index + 1 and index not in results:
            assert time.monotonic() < deadline, f"message {index + 1} never queued"
            time.sleep(0.002)
    for thread in threads:
        thread.join(timeout=180)
    client.close()

    assert sorted(results) == list(range(MESSAGES))
    assert all(status == 200 and replies for status, replies, _, _ in results.values()), results
    overlapping = sum(1 for i in range(1, MESSAGES) if results[i][2] < results[i - 1][3])
    assert overlapping >= MESSAGES // 2, "the messages were not concurrent: the test would prove nothing"

    # the stored events, read from the table: each message once, in order, each turn finished before the next
    engine = create_engine(tracker_url, future=True)
    with engine.connect() as db:
        rows = db.execute(text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                          {"s": sender}).all()
    engine.dispose()
    events = [json.loads(data) for _, data in rows]
    assert [e["text"] for e in events if e["event"] == "user"] == texts
    last_action = None
    for event in events:
        if event["event"] == "user" and last_action is not None:
            assert last_action == "action_listen", "a turn began before the previous one had ended"
        if event["event"] == "action":
            last_action = event["name"]
    listens_after_first_user = sum(1 for e in events[next(i for i, e in enumerate(events) if e["event"] == "user"):]
                                   if e["event"] == "action" and e["name"] == "action_listen")
    assert listens_after_first_user == MESSAGES, "a turn ran twice or was cut short"

    # through the proxy, whichever instance answers, the conversation is the same
    tracker = requests.get(f"{running.proxy}/conversations/{sender}/tracker", params={"token": TOKEN},
                           timeout=30).json()
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == texts



def test_the_proxy_configuration_lists_every_instance_and_is_valid(tmp_path: Path) -> None:
    config = services.proxy_config(tmp_path, "127.0.0.1", 6005, ["10.0.0.1:5005", "10.0.0.2:5005", "10.0.0.3:5005"],
                                   6055, ["10.0.0.1:5055", "10.0.0.2:5055"])
    assert not re.search(r"@@[A-Z_]+@@", config), "a field of the template was left unfilled"
    upstreams = dict(re.findall(r"^\s*upstream (\w+) \{(.*?)\}", config, re.S | re.M))
    assert [upstreams["rasa"].count(f"server 10.0.0.{i}:5005") for i in (1, 2, 3)] == [1, 1, 1]
    assert [upstreams["actions"].count(f"server 10.0.0.{i}:5055") for i in (1, 2)] == [1, 1]
    assert "access_log off" in config  # URLs carry the API token and sender ids
    (tmp_path / "nginx.conf").write_text(config, encoding="utf-8")
    checked = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                             capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
