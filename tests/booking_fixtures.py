"""Fixtures for the booking tests: test halls with known hours, a settable clock, and a fresh booking database per test
on each backend (a SQLite file, a throwaway PostgreSQL schema)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from stdnum.cn import ric

from bot.booking.service import BookingService
from bot.catalog.model import Catalog
from bot.halls import hours
from bot.halls.model import Hall, Schedule, Window
from tests.conftest import throwaway_postgres_schema


def _window(text_: str) -> Window:
    start, end = text_.split("-")
    return Window(dt.time.fromisoformat(start), dt.time.fromisoformat(end))


SCHEDULE = Schedule(
    "test-office", "周一至周五 9:00-12:00，13:30-17:00；周六 9:00-12:00（法定节假日休息）",
    {"weekday": (_window("09:00-12:00"), _window("13:30-17:00")), "saturday": (_window("09:00-12:00"),),
     "sunday": (), "holiday": ()})
WEEKDAYS_ONLY = Schedule(
    "test-weekdays", "周一至周五 9:00-12:20（法定节假日休息）",
    {"weekday": (_window("09:00-12:20"),), "saturday": (), "sunday": (), "holiday": ()})

CENTER = Hall("test-center", "测试区政务服务中心户政窗口", "center", "天河区", "广州市天河区测试大道 1 号",
              "020-12345678", SCHEDULE, None, 3)
STATION = Hall("test-station", "测试街派出所", "station", "越秀区", "广州市越秀区测试路 2 号", "020-87654321",
               WEEKDAYS_ONLY, frozenset({"birth", "id_card"}), 1)
TEST_HALLS = [CENTER, STATION]

# Monday before National Day: bookable until 2026-10-05; 2026-10-01..05 are statutory holidays.
MONDAY_MORNING = dt.datetime(2026, 9, 28, 8, 0, tzinfo=hours.TZ)


class Clock:
    """A clock the test can move: the service reads it on every call."""

    def __init__(self, moment: dt.datetime):
        self.moment = moment

    def __call__(self) -> dt.datetime:
        return self.moment


def valid_id(n: int, area: str = "440106") -> str:
    """A distinct, checksum-valid resident ID number for each n (birth date and sequence vary)."""
    birth = dt.date(1986, 1, 1) + dt.timedelta(days=n // 1000 * 37)
    body = f"{area}{birth:%Y%m%d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture()
def booking_catalog(catalog: Catalog) -> Catalog:
    return dataclasses.replace(catalog, halls=TEST_HALLS)


@pytest.fixture()
def clock() -> Clock:
    return Clock(MONDAY_MORNING)


@pytest.fixture(params=["sqlite", "postgresql"])
def booking_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty booking database for one test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bookings.sqlite3'}"
        return
    with throwaway_postgres_schema("booking") as url:
        yield url


@pytest.fixture()
def service(booking_catalog: Catalog, booking_url: str, clock: Clock) -> Iterator[BookingService]:
    svc = BookingService.open(booking_catalog, booking_url, clock=clock)
    yield svc
    svc.dispose()
