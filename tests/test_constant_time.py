"""Secrets are compared in constant time: hall keys of the ticket machines, appointment codes, the action token."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot import action_server
from bot.booking import queries
from bot.booking.errors import NotFound
from bot.booking.models import appointments
from bot.booking.service import BookingService
from bot.queue import keys
from tests.booking_fixtures import CENTER, valid_id

pytest_plugins = ["tests.booking_fixtures"]

TUE = dt.date(2026, 9, 29)


@pytest.fixture(autouse=True)
def _data_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUJI_DATA_KEY", "constant-time-test-key")


@pytest.fixture()
def digests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[bytes, bytes]]]:
    """Every hmac.compare_digest call, recorded on the way through."""
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    yield calls


def test_hall_keys_are_compared_with_compare_digest(digests: list) -> None:
    good = keys.hall_key("secret", "tianhe-center")
    assert keys.check_key("secret", "tianhe-center", good)
    assert not keys.check_key("secret", "tianhe-center", good[:-1] + ("0" if good[-1] != "0" else "1"))
    assert not keys.check_key("secret", "tianhe-center", "")
    assert [a for a, _ in digests] == [good.encode()] * 2  # an empty key is refused before any comparison


def test_the_action_token_is_compared_with_compare_digest(digests: list) -> None:
    assert action_server.token_matches("s3cret", "s3cret")
    assert not action_server.token_matches("s3cret", "s3creT")
    assert not action_server.token_matches("s3cret", None)
    assert digests == [(b"s3cret", b"s3cret"), (b"s3cret", b"s3creT")]


def test_appointments_are_looked_up_by_the_hash_of_their_code(service: BookingService, digests: list) -> None:
    booked = service.book(CENTER, "birth", TUE, "09:00", "欧阳娜娜", "13812345678", valid_id(61)).appointment
    with service.engine.connect() as conn:
        row = conn.execute(sa.select(appointments.c.code, appointments.c.code_hash)).one()
    assert row.code_hash == hashlib.sha256(booked.code.encode()).hexdigest()
    for query in (queries.BY_CODE, queries.BY_CODE_LOCKED):  # the database never compares the code itself
        where = str(query.whereclause)
        assert "code_hash" in where and "appointments.code =" not in where

    digests.clear()
    assert service.get(booked.code.lower()).code == booked.code
    assert digests == [(booked.code.encode(), booked.code.encode())]
    assert service.cancel(booked.code).status == "cancelled"
    other = "ABCD2345" if booked.code != "ABCD2345" else "ABCD2346"
    with pytest.raises(NotFound):
        service.get(other)
