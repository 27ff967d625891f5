"""Personal data at rest: encrypted columns, a keyed hash for the one-active-booking rule, purge after retention,
the migration of existing rows; on SQLite and PostgreSQL (the fixtures of tests/booking_fixtures.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from bot import cli, settings
from bot.api import server
from bot.booking import migrate
from bot.booking.engine import make_engine
from bot.booking.errors import Conflict
from bot.booking.models import ACTIVE, CANCELLED, appointments, slot_usage
from bot.booking.service import BookingService
from bot.booking.vault import InvalidToken, Vault
from bot.catalog.model import Catalog
from bot.halls import hours
from tests.booking_fixtures import CENTER, Clock, valid_id

pytest_plugins = ["tests.booking_fixtures"]

MON, TUE, WED = dt.date(2026, 9, 28), dt.date(2026, 9, 29), dt.date(2026, 9, 30)
NAME, PHONE = "欧阳娜娜", "13812345678"
KEY = "test-data-key"


@pytest.fixture(autouse=True)
def _data_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUJI_DATA_KEY", KEY)  # never the developer's var/data-key


def _rows(service_or_engine: BookingService | sa.engine.Engine) -> list[dict]:
    engine = getattr(service_or_engine, "engine", service_or_engine)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(appointments).order_by(appointments.c.id))]


def _assert_no_clear(rows: list[dict], *secrets: str) -> None:
    dump = json.dumps(rows, default=str, ensure_ascii=False)
    for secret in secrets:
        assert secret not in dump
        assert secret.lower() not in dump.lower()


def test_table_holds_no_clear_id_number_phone_or_name(service: BookingService) -> None:
    id_number = valid_id(11)
    booked = service.book(CENTER, "birth", TUE, "09:00", NAME, "+86 138-1234-5678", id_number.lower(),
                          "k-1").appointment
    rows = _rows(service)
    _assert_no_clear(rows, id_number, PHONE, NAME, id_number[-8:], PHONE[-8:])
    row = rows[0]
    assert row["person_key"] == Vault(KEY).person_key(id_number) and len(row["person_key"]) == 64
    assert {Vault(KEY).decrypt(row[c]) for c in ("name", "phone", "id_number")} == {NAME, PHONE, id_number}
    # responses and look-ups are masked exactly as before
    again = service.get(booked.code)
    assert again.person.masked() == booked.person.masked() == {
        "name": "欧***", "phone": "138****5678", "id_number": id_number[:6] + "********" + id_number[-4:]}
    replay = service.book(CENTER, "birth", TUE, "09:00", NAME, PHONE, id_number, "k-1")
    assert replay.replayed and replay.appointment.code == booked.code


def test_one_active_booking_rule_still_refuses_the_same_id_number(service: BookingService) -> None:
    id_number = valid_id(12)
    first = service.book(CENTER, "birth", TUE, "09:00", NAME, PHONE, id_number).appointment
    with pytest.raises(Conflict) as refused:  # another name, phone and spelling of the same ID number
        service.book(CENTER, "birth", WED, "10:00", "张三", "13900001111", f" {id_number.lower()} ")
    assert refused.value.code == "already_booked"
    service.book(CENTER, "id_card", WED, "10:00", NAME, PHONE, id_number)  # another business is fine
    service.cancel(first.code)
    service.book(CENTER, "birth", WED, "10:00", NAME, PHONE, id_number)  # cancelled: free to book again
    with service.engine.connect() as conn:
        active = conn.execute(sa.select(sa.func.count()).select_from(appointments).where(
            appointments.c.status == ACTIVE, appointments.c.person_key == Vault(KEY).person_key(id_number))).scalar()
    assert active == 2


def test_purge_blanks_old_personal_data_and_nothing_else(service: BookingService, clock: Clock) -> None:
    clock.moment = dt.datetime(2026, 9, 28, 8, 0, tzinfo=hours.TZ)
    mon = service.book(CENTER, "birth", MON, "13:30", NAME, PHONE, valid_id(21)).appointment
    tue = service.book(CENTER, "birth", TUE, "09:00", NAME, PHONE, valid_id(22), "idem-tue").appointment
    gone = service.book(CENTER, "id_card", TUE, "10:00", NAME, PHONE, valid_id(23)).appointment
    service.cancel(gone.code)
    wed = service.book(CENTER, "birth", WED, "09:00", NAME, PHONE, valid_id(24)).appointment
    assert service.purge(30) == 0  # nothing is old yet
    before = {r["code"]: r for r in _rows(service)}
    with service.engine.connect() as conn:
        usage_before = sorted(tuple(r) for r in conn.execute(sa.select(slot_usage)))

    clock.moment = dt.datetime(2026, 10, 30, 8, 0, tzinfo=hours.TZ)  # cutoff 30 days back: 2026-09-30
    assert service.purge(30) == 3
    after = {r["code"]: r for r in _rows(service)}
    personal = ("name", "phone", "id_number", "person_key", "request_fingerprint")
    for code in (mon.code, tue.code, gone.code):
        assert all(after[code][c] is None for c in personal)
        assert {k: v for k, v in after[code].items() if k not in personal} == {
            k: v for k, v in before[code].items() if k not in personal}  # code, slot, status, stamps kept
    assert after[gone.code]["status"] == CANCELLED and after[tue.code]["status"] == ACTIVE
    assert after[wed.code] == before[wed.code]  # within retention: untouched
    with service.engine.connect() as conn:
        assert sorted(tuple(r) for r in conn.execute(sa.select(slot_usage))) == usage_before
    assert service.purge(30) == 0  # idempotent
    assert service.get(tue.code).person.masked() == {"name": "", "phone": "", "id_number": ""}
    assert service.get(wed.code).person.masked()["phone"] == "138****5678"
    assert service.purge(0) == 1  # with no retention, everything before today


def test_purge_default_retention_comes_from_configuration(service: BookingService, clock: Clock,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    service.book(CENTER, "birth", TUE, "09:00", NAME, PHONE, valid_id(31))
    clock.moment = dt.datetime(2026, 10, 5, 8, 0, tzinfo=hours.TZ)
    monkeypatch.delenv("HUJI_RETENTION_DAYS", raising=False)
    assert settings.retention_days() == 30 and service.purge() == 0
    monkeypatch.setenv("HUJI_RETENTION_DAYS", "3")
    assert service.purge() == 1


def test_wrong_key_cannot_decrypt(service: BookingService, booking_catalog: Catalog, clock: Clock) -> None:
    booked = service.book(CENTER, "birth", TUE, "09:00", NAME, PHONE, valid_id(41)).appointment
    row = _rows(service)[0]
    wrong = Vault("another-key")
    for column in ("name", "phone", "id_number"):
        with pytest.raises(InvalidToken):
            wrong.decrypt(row[column])
    assert wrong.person_key(valid_id(41)) != row["person_key"]
    with pytest.raises(InvalidToken):
        BookingService(service.engine, booking_catalog, clock, vault=wrong).get(booked.code)
    assert service.get(booked.code).person.masked()["name"] == "欧***"


def test_migration_encrypts_existing_rows(booking_url: str, booking_catalog: Catalog, clock: Clock) -> None:
    id_number = valid_id(51)
    engine = make_engine(booking_url)
    try:
        migrate.upgrade(engine, "0001")
        request = json.dumps(["test-center", "birth", TUE.isoformat(), "09:00", NAME, PHONE, id_number])
        stamp = dt.datetime(2026, 9, 28, tzinfo=dt.timezone.utc)
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO slot_usage (hall_id, category, day, start, booked) "
                                 "VALUES ('test-center', 'birth', :day, '09:00', 1)"), {"day": TUE})
            conn.execute(sa.text(
                'INSERT INTO appointments (code, hall_id, category, day, start, "end", name, phone, id_number, '
                "person_key, status, idempotency_key, request_fingerprint, created_at, updated_at) VALUES "
                "('ABCD2345', 'test-center', 'birth', :day, '09:00', '10:00', :name, :phone, :id, :id, 'active', "
                "'old-key', :fp, :stamp, :stamp)"),
                {"day": TUE, "name": NAME, "phone": PHONE, "id": id_number,
                 "fp": hashlib.sha256(request.encode()).hexdigest(), "stamp": stamp})
        migrate.upgrade(engine)
        _assert_no_clear(_rows(engine), id_number, PHONE, NAME)
        service = BookingService(engine, booking_catalog, clock)
        assert service.get("ABCD2345").person.masked()["id_number"] == id_number[:6] + "********" + id_number[-4:]
        replay = service.book(CENTER, "birth", TUE, "09:00", NAME, PHONE, id_number, "old-key")
        assert replay.replayed and replay.appointment.code == "ABCD2345"
        with pytest.raises(Conflict):
            service.book(CENTER, "birth", WED, "09:00", NAME, PHONE, id_number)

        with engine.begin() as conn:  # and back: the clear columns return
            cfg = migrate.config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0001")
        with engine.connect() as conn:  # the 0001 table: no code_hash column yet
            row = conn.execute(sa.text("SELECT name, phone, id_number, person_key FROM appointments")).mappings().one()
        assert (row["name"], row["phone"], row["id_number"], row["person_key"]) == (NAME, PHONE, id_number, id_number)
    finally:
        engine.dispose()


def test_development_data_key_is_generated_once_with_mode_600(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUJI_DATA_KEY")
    monkeypatch.setattr(settings, "DATA_KEY_FILE", tmp_path / "var" / "data-key")
    key = settings.data_key()
    assert len(key) >= 40 and settings.data_key() == key
    assert os.stat(tmp_path / "var" / "data-key").st_mode & 0o777 == 0o600
    monkeypatch.setenv("HUJI_DATA_KEY", "from-the-environment")
    assert settings.data_key() == "from-the-environment"


def test_huji_purge_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                            booking_catalog: Catalog) -> None:
    url = f"sqlite:///{tmp_path / 'bookings.sqlite3'}"
    monkeypatch.setenv("HUJI_BOOKING_DATABASE_URL", url)
    service = BookingService.open(booking_catalog, url, clock=Clock(dt.datetime(2026, 9, 28, 8, tzinfo=hours.TZ)))
    service.book(CENTER, "birth", TUE, "09:00", NAME, PHONE, valid_id(61))
    with service.engine.begin() as conn:  # the command uses the real clock: make the appointment long past
        conn.execute(appointments.update().values(day=dt.date(2000, 1, 4)))
    service.dispose()
    assert cli._main(["purge", "--days", "0"]) == 0
    assert "已清除 1 条" in capsys.readouterr().out
    assert _rows(make_engine(url))[0]["id_number"] is None


def test_hall_service_purges_in_the_background() -> None:
    class Fake:
        calls = 0

        def purge(self) -> int:
            Fake.calls += 1
            assert stop is not None
            stop.set()
            return 0

    async def run() -> None:
        nonlocal stop
        stop = asyncio.Event()
        await asyncio.wait_for(server.purge_daily(Fake(), stop), 5)  # type: ignore[arg-type]

    stop: asyncio.Event | None = None
    asyncio.run(run())
    assert Fake.calls == 1
