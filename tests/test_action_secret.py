"""The action server answers only Rasa: calls without the shared secret get 401, Rasa's own calls work."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from bot.action_server import UNAUTHORIZED
from bot.services import running_assistant
from bot.training import ensure_model
from tests.hall_service import free_port

SECRET = "actions-secret-0123456789"
CALL = {"next_action": "action_find_hall", "sender_id": "direct", "version": "3.6.2",
        "tracker": {"sender_id": "direct", "slots": {}, "latest_message": {}, "events": [],
                    "latest_action_name": "action_listen"}, "domain": {}}


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("action-secret")
    ports = {"rasa": free_port(), "actions": free_port(), "halls": free_port()}
    env = {"HUJI_BOOKING_DATABASE_URL": f"sqlite:///{tmp / 'bookings.sqlite3'}",
           "HUJI_TRACKER_DB_URL": f"sqlite:///{tmp / 'tracker.sqlite3'}", "HUJI_ACTIONS_TOKEN": SECRET}
    with running_assistant(ensure_model(), ports["rasa"], ports["actions"], ports["halls"], env=env,
                           log_dir=tmp) as base:
        yield {"base": base, "actions": f"http://127.0.0.1:{ports['actions']}"}


def test_a_direct_call_without_the_secret_is_refused(assistant: dict) -> None:
    actions = assistant["actions"]
    for params, headers in [({}, {}), ({"token": "wrong"}, {}), ({"token": SECRET[:-1]}, {}),
                            ({}, {"Authorization": "Bearer wrong"}), ({"token": ""}, {})]:
        refused = requests.post(f"{actions}/webhook", json=CALL, params=params, headers=headers, timeout=30)
        assert refused.status_code == 401, (params, headers)
        assert refused.json() == {"error": UNAUTHORIZED}
    assert requests.get(f"{actions}/actions", timeout=30).status_code == 401  # the action list is not public
    assert requests.get(f"{actions}/health", timeout=30).status_code == 200  # the readiness probe stays open


def test_the_secret_opens_the_action_server(assistant: dict) -> None:
    actions = assistant["actions"]
    listed = requests.get(f"{actions}/actions", params={"token": SECRET}, timeout=30)
    assert listed.status_code == 200 and {"name": "action_find_hall"} in listed.json()
    by_header = requests.get(f"{actions}/actions", headers={"Authorization": f"Bearer {SECRET}"}, timeout=30)
    assert by_header.status_code == 200


def test_rasa_s_own_calls_carry_the_secret(assistant: dict) -> None:
    replies = requests.post(f"{assistant['base']}/webhooks/rest/webhook",
                            json={"sender": "secret-halls", "message": "天河哪里可以办身份证"}, timeout=60).json()
    assert "大厅" in "".join(r.get("text") or "" for r in replies)  # a custom action ran and reached the halls
