"""Locked down by default: the HTTP API wants a token, the servers listen on 127.0.0.1, REST input is checked."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bot.channels.rest import MAX_MESSAGE, TOO_LONG
from bot.services import running_assistant
from bot.training import ensure_model
from tests.hall_service import free_port

TOKEN = "test-token-0123456789"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("security")
    ports = {"rasa": free_port(), "actions": free_port(), "halls": free_port()}
    env = {"HUJI_BOOKING_DATABASE_URL": f"sqlite:///{tmp / 'bookings.sqlite3'}",
           "HUJI_TRACKER_DB_URL": f"sqlite:///{tmp / 'tracker.sqlite3'}", "HUJI_API_TOKEN": TOKEN}
    with running_assistant(ensure_model(), ports["rasa"], ports["actions"], ports["halls"], env=env,
                           log_dir=tmp) as base:
        yield {"base": base, **ports}


def say(base: str, body: object) -> requests.Response:
    return requests.post(f"{base}/webhooks/rest/webhook", json=body, timeout=60)


def test_http_api_requires_the_token(assistant: dict) -> None:
    base = assistant["base"]
    assert say(base, {"sender": "sec-token", "message": "你好"}).status_code == 200
    tracker = f"{base}/conversations/sec-token/tracker"
    assert requests.get(tracker, timeout=30).status_code == 401
    assert requests.get(tracker, params={"token": "wrong"}, timeout=30).status_code == 401
    assert requests.get(tracker, params={"token": TOKEN}, timeout=30).status_code == 200
    events = f"{base}/conversations/sec-token/tracker/events"
    assert requests.post(events, json=[{"event": "slot", "name": "category", "value": "birth"}],
                         timeout=30).status_code == 401
    assert requests.get(f"{base}/status", timeout=30).status_code == 401


def listening_addresses(port: int) -> set[str]:
    """The IPv4 addresses something listens on at `port` (from /proc/net/tcp; IPv6 from tcp6 as text)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:
                    found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]) if len(address) == 8 else address)
    return found


def test_every_server_listens_on_loopback_only(assistant: dict) -> None:
    for name in ("rasa", "actions", "halls"):
        assert listening_addresses(assistant[name]) == {"127.0.0.1"}, name
    outside = _outside_address()
    if outside:  # the machine's own network address does not reach Rasa
        with pytest.raises(OSError), socket.create_connection((outside, assistant["rasa"]), timeout=2):
            pass


def test_the_servers_follow_huji_bind(tmp_path: Path) -> None:
    """Another loopback address stands for a machine's own interface: all three listen there, and only there."""
    ports = {"rasa": free_port(), "actions": free_port(), "halls": free_port()}
    env = {"HUJI_BOOKING_DATABASE_URL": f"sqlite:///{tmp_path / 'bookings.sqlite3'}", "HUJI_BIND": "127.0.0.2",
           "HUJI_TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.sqlite3'}", "HUJI_API_TOKEN": TOKEN}
    with running_assistant(ensure_model(), ports["rasa"], ports["actions"], ports["halls"], env=env,
                           log_dir=tmp_path) as base:
        assert base == f"http://127.0.0.2:{ports['rasa']}"
        for name, port in ports.items():
            assert listening_addresses(port) == {"127.0.0.2"}, name
        replies = say(base, {"sender": "sec-bind", "message": "天河哪里可以办身份证"}).json()
        assert "大厅" in "".join(r.get("text") or "" for r in replies)  # actions and the hall service reached


def _outside_address() -> str | None:
    try:
        address = socket.gethostbyname(socket.gethostname())
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_message_without_a_sender_is_refused(assistant: dict) -> None:
    for body in [{"message": "你好"}, {"sender": "", "message": "你好"}, {"sender": 5, "message": "你好"}]:
        response = say(assistant["base"], body)
        assert response.status_code == 400, body
        assert "sender" in response.json()["error"] and "会话标识" in response.json()["error"]
    assert say(assistant["base"], ["你好"]).status_code == 400
    assert say(assistant["base"], {"sender": "sec-nomsg"}).status_code == 400
    tracker = requests.get(f"{assistant['base']}/conversations/default/tracker", params={"token": TOKEN}, timeout=30)
    assert not [e for e in tracker.json()["events"] if e["event"] == "user"], "nothing reached `default`"


def test_oversized_message_is_answered_without_parsing(assistant: dict) -> None:
    base = assistant["base"]
    started = time.monotonic()
    response = say(base, {"sender": "sec-long", "message": "我想给孩子上户口" * 20_000})
    elapsed = time.monotonic() - started
    assert response.status_code == 200 and response.json() == [{"recipient_id": "sec-long", "text": TOO_LONG}]
    assert elapsed < 1.0, elapsed
    print(f"160,000-character message answered in {elapsed * 1000:.0f} ms")
    tracker = requests.get(f"{base}/conversations/sec-long/tracker", params={"token": TOKEN}, timeout=30).json()
    assert not [e for e in tracker["events"] if e["event"] == "user"], "the long message was not parsed"
    limit = say(base, {"sender": "sec-long", "message": "你" * MAX_MESSAGE}).json()
    assert limit and limit[0]["text"] != TOO_LONG  # exactly the limit is still read
