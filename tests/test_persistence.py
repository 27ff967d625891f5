"""Conversations persist: the masking tracker store keeps them in SQL, so a restart continues a consultation."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
import requests
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.services import running_assistant
from bot.tracker_store import MaskingTrackerStore
from bot.training import ensure_model
from tests.hall_service import free_port

TOKEN = "persistence-token"
PHONE, ID = "13812345678", "440106199001011234"


def say(base: str, sender: str, text: str) -> list[dict]:
    response = requests.post(f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    assert response.status_code == 200
    return response.json()


def slots(base: str, sender: str) -> dict:
    return requests.get(f"{base}/conversations/{sender}/tracker", params={"token": TOKEN}, timeout=30).json()["slots"]


def test_a_restart_continues_the_consultation(tmp_path: Path) -> None:
    tracker_db = tmp_path / "tracker.sqlite3"
    env = {"HUJI_BOOKING_DATABASE_URL": f"sqlite:///{tmp_path / 'bookings.sqlite3'}",
           "HUJI_TRACKER_DB_URL": f"sqlite:///{tracker_db}", "HUJI_API_TOKEN": TOKEN}
    sender = "persist-birth"
    with running_assistant(ensure_model(), free_port(), free_port(), free_port(), env=env, log_dir=tmp_path) as base:
        replies = say(base, sender, f"我电话{PHONE}，我老婆上个月在广州生了个女儿，我们都是广州户口，孩子户口怎么上")
        replies = say(base, sender, replies[-1]["buttons"][0]["payload"])
        before = slots(base, sender)
        assert before["category"] == "birth" and before["pending_question"] and len(before["answers"]) >= 2
        last_buttons = replies[-1]["buttons"]

    with running_assistant(ensure_model(), free_port(), free_port(), free_port(), env=env, log_dir=tmp_path) as base:
        after = slots(base, sender)
        assert {k: after[k] for k in ("category", "answers", "pending_question")} == \
               {k: before[k] for k in ("category", "answers", "pending_question")}
        replies = say(base, sender, last_buttons[0]["payload"])  # the answer to the question asked before
        state = slots(base, sender)
        assert len(state["answers"]) > len(before["answers"]), "the new answer joined the old ones"
        for _ in range(10):
            if not state["pending_question"]:
                break
            replies = say(base, sender, replies[-1]["buttons"][0]["payload"])
            state = slots(base, sender)
        assert state["scenario"] and state["category"] == "birth"
        assert any("需要准备的材料" in (r.get("text") or "") for r in replies)

    with sqlite3.connect(tracker_db) as db:  # read the table directly: masked, nothing in clear
        stored = "\n".join(row[0] for row in db.execute("SELECT data FROM events WHERE sender_id = ?", (sender,)))
    assert stored and PHONE not in stored and "138****5678" in stored


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tracker.sqlite3'}"
    return request.getfixturevalue("postgres_schema_url")


def test_conversations_are_stored_masked_and_read_back(store_url: str) -> None:
    store = MaskingTrackerStore(Domain.empty(), url=store_url)
    tracker = DialogueStateTracker("citizen", [])
    tracker.update(UserUttered(f"我的身份证号是{ID}", parse_data={"text": f"我的身份证号是{ID}"}))
    asyncio.run(store.save(tracker))
    tracker.update(SlotSet("requested_slot", "booking_name"))
    tracker.update(UserUttered("欧阳娜娜", parse_data={"text": "欧阳娜娜"}))
    tracker.update(SlotSet("requested_slot", "booking_phone"))
    tracker.update(UserUttered(f"电话{PHONE}", parse_data={"text": f"电话{PHONE}"}))
    asyncio.run(store.save(tracker))  # the second save adds only the new events

    reopened = MaskingTrackerStore(Domain.empty(), url=store_url)  # another process, or after a restart
    stored = reopened.stored_text("citizen")
    assert stored.count("\n") + 1 == len(tracker.events)
    assert ID not in stored and PHONE not in stored and "欧阳娜娜" not in stored
    loaded = asyncio.run(reopened.retrieve("citizen"))
    assert [e.text for e in loaded.events if isinstance(e, UserUttered)] == \
           ["我的身份证号是440106********1234", "欧***", "电话138****5678"]
    reopened.engine.dispose()
    store.engine.dispose()
