"""Booking drafts live in the shared booking database, encrypted, with expiry: a restart mid-form continues the form."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from stdnum.cn import ric

from bot.booking.drafts import TTL_SECONDS, DraftStore, booking_drafts
from bot.booking.vault import Vault
from bot.services import running_assistant
from bot.training import ensure_model
from tests.hall_service import free_port

TOKEN, DATA_KEY = "drafts-token", "drafts-test-data-key"
NAME, PHONE = "欧阳娜娜", "13812345678"
PERSON = "44010619900307123" + ric.calc_check_digit("440106199003071230")
SENDER = "oDraftOpenId0123456789"
CHOICE = {"hall_id": "tianhe-center", "hall_name": "天河区公安分局户政办证中心", "category": "id_card",
          "date": "2026-12-03", "start": "09:00", "end": "10:00"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bookings.sqlite3'}"
    return request.getfixturevalue("postgres_schema_url")


def test_a_draft_is_shared_encrypted_and_expires(store_url: str) -> None:
    clock = Clock()
    one, other = (DraftStore(store_url, Vault(DATA_KEY), clock) for _ in range(2))  # two action servers
    try:
        started = one.start(SENDER, CHOICE)
        assert other.update(SENDER, name=NAME) is not None
        one.update(SENDER, phone=PHONE)
        other.update(SENDER, id_number=PERSON)
        draft = one.get(SENDER)
        assert draft is not None and draft.choice == CHOICE and draft.key == started.key
        assert (draft.name, draft.phone, draft.id_number) == (NAME, PHONE, PERSON)
        assert PERSON not in repr(draft) and NAME not in repr(draft)

        with one.engine.connect() as conn:  # read the table directly
            rows = conn.execute(select(booking_drafts)).mappings().all()
        stored = repr([dict(r) for r in rows])
        assert len(rows) == 1
        for clear in (NAME, PHONE, PERSON, SENDER, "tianhe-center"):
            assert clear not in stored

        assert DraftStore(store_url, Vault("another key"), clock).get(SENDER) is None  # unreadable without the key
        assert one.get("someone-else") is None and one.update("someone-else", name=NAME) is None

        clock.now += TTL_SECONDS - 1  # each change restarts the expiry
        one.update(SENDER, name="王小明")
        clock.now += TTL_SECONDS - 1
        assert other.get(SENDER).name == "王小明"
        clock.now += 2
        assert other.get(SENDER) is None  # expired
        one.start("newcomer", CHOICE)  # a new draft clears expired rows
        with one.engine.connect() as conn:
            assert len(conn.execute(select(booking_drafts)).all()) == 1
        one.drop("newcomer")
        assert one.get("newcomer") is None
    finally:
        one.engine.dispose()
        other.engine.dispose()


def say(base: str, sender: str, text: str) -> str:
    response = requests.post(f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    assert response.status_code == 200
    return "\n".join(r.get("text") or "" for r in response.json())


def choose_a_slot(base: str, sender: str) -> None:
    response = requests.post(f"{base}/webhooks/rest/webhook", timeout=60, json={
        "sender": sender, "message": '/book_appointment{"hall":"tianhe-center","category":"id_card"}'})
    slot = next(b for r in response.json() for b in (r.get("buttons") or []) if b["payload"].startswith("/choose_slot"))
    assert "姓名" in say(base, sender, slot["payload"])


def test_a_restart_mid_form_continues_the_booking(tmp_path: Path) -> None:
    bookings = tmp_path / "bookings.sqlite3"
    env = {"HUJI_BOOKING_DATABASE_URL": f"sqlite:///{bookings}", "HUJI_DATA_KEY": DATA_KEY,
           "HUJI_TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.sqlite3'}", "HUJI_API_TOKEN": TOKEN}
    sender = "draft-restart"
    with running_assistant(ensure_model(), free_port(), free_port(), free_port(), env=env, log_dir=tmp_path) as base:
        choose_a_slot(base, sender)
        assert "手机" in say(base, sender, NAME)
        assert "身份证" in say(base, sender, "138 1234 5678")

    with sqlite3.connect(bookings) as db:  # between the runs: the draft is on disk, and nothing in it is readable
        rows = db.execute("SELECT sender_key, sealed, expires_at FROM booking_drafts").fetchall()
        dump = "\n".join(db.iterdump())
    assert len(rows) == 1
    for clear in (NAME, PHONE, sender):
        assert clear not in dump

    with running_assistant(ensure_model(), free_port(), free_port(), free_port(), env=env, log_dir=tmp_path) as base:
        summary = say(base, sender, PERSON)  # the form goes on with the question asked before the restart
        assert "请确认预约信息" in summary and "欧***" in summary and "138****5678" in summary
        assert PERSON not in summary
        done = say(base, sender, "/affirm")
        assert "预约成功" in done, done
        code = done.split("预约码：")[1][:8]
        looked_up = say(base, sender, f"查询预约 {code}")
        assert code in looked_up and "有效" in looked_up and "欧***" in looked_up

    with sqlite3.connect(bookings) as db:
        assert db.execute("SELECT count(*) FROM booking_drafts").fetchone() == (0,)  # booked: the draft is gone
