"""Key rotation: with the new key in HUJI_DATA_KEY and the old in HUJI_DATA_KEY_OLD, `./huji rekey` re-encrypts
every appointment, so the old key can be dropped; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from bot import cli
from bot.booking.drafts import DraftStore, booking_drafts
from bot.booking.engine import make_engine
from bot.booking.errors import Conflict
from bot.booking.models import appointments
from bot.booking.service import BookingService
from bot.booking.vault import InvalidToken, Vault
from bot.catalog.model import Catalog
from tests.booking_fixtures import CENTER, Clock, valid_id

pytest_plugins = ["tests.booking_fixtures"]

OLD, NEW = "the-old-data-key", "the-new-data-key"
TUE, WED = dt.date(2026, 9, 29), dt.date(2026, 9, 30)
NAME, PHONE = "欧阳娜娜", "13812345678"


def _rows(url: str) -> list[dict]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(appointments).order_by(appointments.c.id))]
    finally:
        engine.dispose()


def test_rekey_moves_every_appointment_to_the_new_key(booking_url: str, booking_catalog: Catalog, clock: Clock,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    person = valid_id(71)
    monkeypatch.setenv("HUJI_BOOKING_DATABASE_URL", booking_url)
    old = BookingService.open(booking_catalog, booking_url, clock=clock, vault=Vault(OLD))
    first = old.book(CENTER, "birth", TUE, "09:00", NAME, PHONE, person, "retry-key").appointment
    second = old.book(CENTER, "id_card", TUE, "10:00", "王小明", "13900001111", valid_id(72)).appointment
    DraftStore(old.engine, Vault(OLD)).start("oSomeone", {"hall_id": CENTER.id})
    old.dispose()

    monkeypatch.setenv("HUJI_DATA_KEY", NEW)
    monkeypatch.delenv("HUJI_DATA_KEY_OLD", raising=False)
    assert cli._main(["rekey"]) == 1 and "HUJI_DATA_KEY_OLD" in capsys.readouterr().out  # nothing to rotate from
    monkeypatch.setenv("HUJI_DATA_KEY_OLD", "not-the-old-key")
    before = _rows(booking_url)
    assert cli._main(["rekey"]) == 1 and "未做任何修改" in capsys.readouterr().out
    assert _rows(booking_url) == before  # a wrong old key changes nothing

    monkeypatch.setenv("HUJI_DATA_KEY_OLD", OLD)
    assert cli._main(["rekey"]) == 0 and "2 条" in capsys.readouterr().out

    rows = _rows(booking_url)
    for row in rows:
        for column in ("name", "phone", "id_number"):
            with pytest.raises(InvalidToken):
                Vault(OLD).decrypt(row[column])
    assert Vault(NEW).decrypt(rows[0]["id_number"]) == person
    new = BookingService.open(booking_catalog, booking_url, clock=clock, vault=Vault(NEW))  # old key dropped
    try:
        assert new.get(first.code).person.masked()["name"] == "欧***"
        assert new.get(second.code).person.masked()["phone"] == "139****1111"
        replay = new.book(CENTER, "birth", TUE, "09:00", NAME, PHONE, person, "retry-key")
        assert replay.replayed and replay.appointment.code == first.code  # the idempotency fingerprint was rekeyed
        with pytest.raises(Conflict):  # the one-active-booking rule still finds the person
            new.book(CENTER, "birth", WED, "09:00", NAME, PHONE, person)
        with new.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(booking_drafts)).scalar() == 0
    finally:
        new.dispose()
