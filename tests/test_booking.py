"""Appointments: slot arithmetic, validation and masking, and the booking service on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select

from bot import privacy
from bot.booking import booking_database_url, migrate, people
from bot.booking import slots as slotmath
from bot.booking.engine import make_engine
from bot.booking.errors import BookingError, Conflict, Invalid, NotFound
from bot.booking.models import ACTIVE, appointments, metadata, slot_usage
from bot.booking.service import CODE_ALPHABET, BookingService, normalize_code
from bot.halls import hours
from bot.halls.model import Window
from tests.booking_fixtures import CENTER, STATION, Clock, valid_id

pytest_plugins = ["tests.booking_fixtures"]

MON, TUE, WED = dt.date(2026, 9, 28), dt.date(2026, 9, 29), dt.date(2026, 9, 30)
NATIONAL_DAY = dt.date(2026, 10, 1)
ADJUSTED_SATURDAY = dt.date(2026, 10, 10)  # 调休: a working day after the National Day week
PHONE = "13812345678"


def _spans(hall_slots: tuple[slotmath.Slot, ...]) -> list[str]:
    return [f"{s.key}-{s.end_key}" for s in hall_slots]


def _book(service: BookingService, n: int, day: dt.date = TUE, start: str = "09:00", category: str = "birth",
          hall=CENTER, key: str | None = None):  # noqa: ANN001, ANN202 - short test helper
    return service.book(hall, category, day, start, "张三", PHONE, valid_id(n), key)


def _error(call, *args, **kwargs) -> BookingError:  # noqa: ANN001
    with pytest.raises(BookingError) as info:
        call(*args, **kwargs)
    return info.value


# ---- slot arithmetic (pure)

def test_window_split_merges_short_tail_and_keeps_long_one() -> None:
    assert [f"{a:%H:%M}-{b:%H:%M}" for a, b in slotmath.split_window(Window(dt.time(13, 30), dt.time(17, 0)))] == [
        "13:30-14:30", "14:30-15:30", "15:30-16:30", "16:30-17:00"]
    assert [f"{a:%H:%M}-{b:%H:%M}" for a, b in slotmath.split_window(Window(dt.time(9, 0), dt.time(12, 20)))] == [
        "09:00-10:00", "10:00-11:00", "11:00-12:20"]
    assert [f"{a:%H:%M}-{b:%H:%M}" for a, b in slotmath.split_window(Window(dt.time(9, 0), dt.time(9, 20)))] == [
        "09:00-09:20"]
    assert [f"{a:%H:%M}-{b:%H:%M}" for a, b in slotmath.split_window(Window(dt.time(9, 0), dt.time(12, 0)))] == [
        "09:00-10:00", "10:00-11:00", "11:00-12:00"]


def test_slots_of_a_weekday_and_capacity() -> None:
    day = slotmath.slots_on(CENTER, TUE)
    assert _spans(day) == ["09:00-10:00", "10:00-11:00", "11:00-12:00", "13:30-14:30", "14:30-15:30",
                           "15:30-16:30", "16:30-17:00"]
    assert [slotmath.capacity(CENTER, s) for s in day] == [3, 3, 3, 3, 3, 3, 1]  # 3 counters; 30 min -> 3*30//60
    station = slotmath.slots_on(STATION, TUE)
    assert _spans(station) == ["09:00-10:00", "10:00-11:00", "11:00-12:20"]
    assert [slotmath.capacity(STATION, s) for s in station] == [1, 1, 1]  # at least one place, 80 min -> 1*80//60


def test_closed_days_follow_the_official_calendar() -> None:
    assert hours.day_kind(NATIONAL_DAY) == "holiday"
    assert slotmath.slots_on(CENTER, NATIONAL_DAY) == ()
    assert slotmath.slots_on(CENTER, dt.date(2026, 10, 11)) == ()  # Sunday
    assert _spans(slotmath.slots_on(CENTER, dt.date(2026, 10, 17))) == ["09:00-10:00", "10:00-11:00", "11:00-12:00"]
    assert slotmath.slots_on(STATION, dt.date(2026, 10, 17)) == ()  # an ordinary Saturday
    # the 调休 Saturday is a working day: weekday hours, even at a hall closed on Saturdays
    assert hours.day_kind(ADJUSTED_SATURDAY) == "weekday"
    assert len(slotmath.slots_on(CENTER, ADJUSTED_SATURDAY)) == 7
    assert len(slotmath.slots_on(STATION, ADJUSTED_SATURDAY)) == 3


def test_horizon_and_past() -> None:
    now = dt.datetime(2026, 10, 8, 9, 30, tzinfo=hours.TZ)
    assert slotmath.last_bookable_day(now) == dt.date(2026, 10, 15)
    with pytest.raises(Invalid) as info:
        slotmath.bookable_slot(CENTER, dt.date(2026, 10, 16), "09:00", now)
    assert info.value.code == "too_far_ahead"
    assert slotmath.bookable_slot(CENTER, dt.date(2026, 10, 15), "16:30", now).end == dt.time(17, 0)
    for start in ("09:00", "9:30"):
        with pytest.raises(Invalid) as info:
            slotmath.bookable_slot(CENTER, now.date(), start, now)
        assert info.value.code == ("slot_past" if start == "09:00" else "unknown_slot")
    assert slotmath.bookable_slot(CENTER, now.date(), "10:00", now).key == "10:00"
    with pytest.raises(Invalid) as info:
        slotmath.bookable_slot(CENTER, dt.date(2026, 10, 7), "10:00", now)
    assert info.value.code == "slot_past"
    with pytest.raises(Invalid) as info:
        slotmath.bookable_slot(CENTER, dt.date(2026, 10, 11), "10:00", now)
    assert info.value.code == "hall_closed"
    assert "开放时间" in info.value.message


@pytest.mark.parametrize("value", ["2026-9-28", "28/09/2026", "2026-02-30", "", None, 20260928])
def test_bad_dates(value: object) -> None:
    with pytest.raises(Invalid) as info:
        slotmath.parse_day(value)
    assert info.value.code == "invalid_date"


# ---- people: validation and masking

def test_people_are_validated_and_normalised() -> None:
    who = people.person(" 阿依古丽•买买提 ", "+86 138-1234-5678", valid_id(7).lower().replace("x", "x"))
    assert who.name == "阿依古丽·买买提"
    assert who.phone == PHONE
    assert who.id_number == valid_id(7).upper()
    assert people.person("John Smith", "8613812345678", valid_id(8)).phone == PHONE
    assert people.clean_name("张 三") == "张三" and people.clean_name("John  Smith") == "John Smith"


@pytest.mark.parametrize(("field", "value", "code"), [
    ("name", "张", "invalid_name"), ("name", "张三3", "invalid_name"), ("name", "x" * 31, "invalid_name"),
    ("name", "", "missing_field"), ("name", 12, "invalid_field"), ("name", "·张三", "invalid_name"),
    ("phone", "1381234567", "invalid_phone"), ("phone", "12812345678", "invalid_phone"),
    ("phone", "020-12345678", "invalid_phone"),
    ("id_number", "44010619900101123", "invalid_id_number"),
    ("id_number", "440106199001011234", "invalid_id_number"),  # wrong check digit
    ("id_number", "440106199002301233", "invalid_id_number"),  # no such birth date
    ("id_number", "4401061990010112AB", "invalid_id_number"),
])
def test_people_errors(field: str, value: object, code: str) -> None:
    fields = {"name": "张三", "phone": PHONE, "id_number": valid_id(1), field: value}
    with pytest.raises(Invalid) as info:
        people.person(**fields)
    assert info.value.code == code
    if code == "invalid_id_number" and value == "440106199001011234":
        assert info.value.message == "身份证号码校验不通过，请核对。"


def test_masking() -> None:
    assert privacy.mask_name("张三") == "张*"
    assert privacy.mask_name("欧阳娜娜") == "欧***"
    assert privacy.mask_phone(PHONE) == "138****5678"
    assert privacy.mask_id("440106199001011235") == "440106********1235"
    who = people.person("张三", PHONE, "440106199001011235")
    assert "1235" in repr(who) and "199001" not in repr(who) and "三" not in repr(who)


def test_codes_are_unambiguous_and_case_insensitive() -> None:
    assert not set("0O1IL") & set(CODE_ALPHABET)
    assert normalize_code(" abcd-efgh ") == "ABCDEFGH"
    for bad in ("ABC", "ABCDEFG0", "ABCDEFGHJ"):
        with pytest.raises(Invalid):
            normalize_code(bad)


# ---- the service, on both databases

def test_book_look_up_and_list(service: BookingService, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="bot.booking")
    result = _book(service, 1)
    a = result.appointment
    assert not result.replayed and a.status == ACTIVE
    assert len(a.code) == 8 and set(a.code) <= set(CODE_ALPHABET)
    assert (a.day, a.start, a.end) == (TUE, "09:00", "10:00")
    found = service.get(a.code.lower())
    assert found.code == a.code and found.person.masked() == {
        "name": "张*", "phone": "138****5678", "id_number": valid_id(1)[:6] + "********" + valid_id(1)[-4:]}
    listed = {s.start: s for s in service.day_slots(CENTER, "birth", TUE).slots}
    assert (listed["09:00"].booked, listed["09:00"].available, listed["09:00"].bookable) == (1, 2, True)
    assert listed["10:00"].booked == 0
    assert service.day_slots(CENTER, "id_card", TUE).slots[0].booked == 0  # per business
    log_text = caplog.text
    assert PHONE not in log_text and valid_id(1) not in log_text and a.code not in log_text and "张三" not in log_text
    assert _error(service.get, "ABCDEFGH").code == "appointment_not_found"


def test_one_active_booking_per_person_and_business(service: BookingService) -> None:
    _book(service, 1)
    error = _error(_book, service, 1, start="10:00")
    assert isinstance(error, Conflict) and error.code == "already_booked"
    assert "测试区政务服务中心户政窗口" in error.message and "09:00" in error.message
    assert _book(service, 1, category="id_card").appointment.status == ACTIVE  # another business is fine
    assert _error(_book, service, 1, hall=STATION).code == "already_booked"  # the rule spans halls


def test_cancel_frees_the_place(service: BookingService) -> None:
    codes = [_book(service, n, start="16:30" if n == 0 else "09:00").appointment.code for n in range(4)]
    assert _error(_book, service, 9, start="16:30").code == "slot_full"
    assert _error(_book, service, 9).code == "slot_full"  # 3 counters -> 3 places
    cancelled = service.cancel(codes[0])
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    assert service.get(codes[0]).status == "cancelled"
    assert _error(service.cancel, codes[0]).code == "already_cancelled"
    assert {s.start: s.booked for s in service.day_slots(CENTER, "birth", TUE).slots}["16:30"] == 0
    assert _book(service, 9, start="16:30").appointment.status == ACTIVE
    assert _book(service, 0, start="10:00").appointment.status == ACTIVE  # the person may book again


def test_reschedule_moves_the_place(service: BookingService) -> None:
    a = _book(service, 1).appointment
    moved = service.reschedule(a.code, WED, "14:30")
    assert (moved.code, moved.day, moved.start, moved.end) == (a.code, WED, "14:30", "15:30")
    assert service.get(a.code).start == "14:30"
    assert {s.start: s.booked for s in service.day_slots(CENTER, "birth", TUE).slots}["09:00"] == 0
    assert {s.start: s.booked for s in service.day_slots(CENTER, "birth", WED).slots}["14:30"] == 1
    assert service.reschedule(a.code, WED, "14:30").start == "14:30"  # same slot: no change
    _book(service, 2, start="16:30")
    assert _error(service.reschedule, a.code, TUE, "16:30").code == "slot_full"
    assert service.get(a.code).start == "14:30"  # a refused move keeps the old place
    assert _error(service.reschedule, a.code, NATIONAL_DAY, "09:00").code == "hall_closed"
    assert _error(service.reschedule, a.code, TUE, "12:00").code == "unknown_slot"
    service.cancel(a.code)
    assert _error(service.reschedule, a.code, TUE, "10:00").code == "already_cancelled"


def test_past_closed_and_far_slots_are_refused(service: BookingService, clock: Clock) -> None:
    clock.moment = dt.datetime(2026, 9, 29, 10, 0, tzinfo=hours.TZ)
    assert _error(_book, service, 1, day=TUE, start="10:00").code == "slot_past"
    assert _error(_book, service, 1, day=MON, start="16:30").code == "slot_past"
    assert _error(_book, service, 1, day=NATIONAL_DAY).code == "hall_closed"
    assert _error(_book, service, 1, day=dt.date(2026, 10, 7)).code == "too_far_ahead"
    assert _error(_book, service, 1, category="points", hall=STATION).code == "category_not_accepted"
    listed = service.day_slots(CENTER, "birth", TUE).slots
    assert [s.bookable for s in listed][:3] == [False, False, True]
    closed = service.day_slots(CENTER, "birth", NATIONAL_DAY)
    assert closed.slots == () and "国庆节" in (closed.closed_note or "")


def test_adjusted_saturday_is_bookable(service: BookingService, clock: Clock) -> None:
    clock.moment = dt.datetime(2026, 10, 8, 8, 0, tzinfo=hours.TZ)
    assert _book(service, 1, day=ADJUSTED_SATURDAY, start="15:30").appointment.end == "16:30"
    assert _error(_book, service, 2, day=dt.date(2026, 10, 11)).code == "hall_closed"


def test_a_finished_appointment_no_longer_blocks(service: BookingService, clock: Clock) -> None:
    a = _book(service, 1, day=MON, start="09:00").appointment
    clock.moment = dt.datetime(2026, 9, 28, 10, 0, tzinfo=hours.TZ)
    assert service.get(a.code).status == "expired"
    assert _error(service.cancel, a.code).code == "appointment_past"
    assert _error(service.reschedule, a.code, TUE, "10:00").code == "appointment_past"
    assert _book(service, 1, day=TUE).appointment.status == ACTIVE


def test_next_free_slots(service: BookingService, clock: Clock) -> None:
    clock.moment = dt.datetime(2026, 9, 30, 11, 30, tzinfo=hours.TZ)  # the last working day before the holidays
    free = service.next_free_slots(CENTER, "birth", clock.moment)
    assert [(s.day, s.start) for s in free] == [(WED, "13:30"), (WED, "14:30"), (WED, "15:30")]
    _book(service, 1, day=WED, start="13:30")
    _book(service, 2, day=WED, start="13:30")
    _book(service, 3, day=WED, start="13:30")
    assert [s.start for s in service.next_free_slots(CENTER, "birth", clock.moment, limit=5)] == [
        "14:30", "15:30", "16:30"]  # then the holiday week and the horizon end
    assert service.next_free_slots(CENTER, "birth", dt.datetime(2026, 10, 2, 9, 0)) == []


def test_idempotency(service: BookingService) -> None:
    first = _book(service, 1, key="retry-1")
    again = _book(service, 1, key="retry-1")
    assert again.replayed and again.appointment.code == first.appointment.code
    assert _error(_book, service, 1, start="10:00", key="retry-1").code == "idempotency_conflict"
    assert _error(_book, service, 2, key="retry-1").code == "idempotency_conflict"
    with service.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(appointments)).scalar_one() == 1


def test_concurrent_retries_with_one_key_book_once(service: BookingService) -> None:
    barrier = threading.Barrier(12)

    def attempt(_: int) -> tuple[str, bool]:
        barrier.wait()
        result = _book(service, 1, key="same-key")
        return result.appointment.code, result.replayed

    with ThreadPoolExecutor(12) as pool:
        outcomes = list(pool.map(attempt, range(12)))
    assert len({code for code, _ in outcomes}) == 1
    assert sorted(replayed for _, replayed in outcomes) == [False] + [True] * 11
    _assert_consistent(service)


def test_racing_for_one_slot_never_overbooks(service: BookingService) -> None:
    """40 people race for a slot of 3 places: exactly 3 win; the counter and the rows agree."""
    clients = 40
    barrier = threading.Barrier(clients)

    def attempt(n: int) -> str:
        barrier.wait()
        try:
            _book(service, 100 + n)
        except BookingError as e:
            return e.code
        return "booked"

    with ThreadPoolExecutor(clients) as pool:
        outcomes = Counter(pool.map(attempt, range(clients)))
    assert outcomes == {"booked": 3, "slot_full": clients - 3}
    _assert_consistent(service)
    assert {s.start: s.booked for s in service.day_slots(CENTER, "birth", TUE).slots}["09:00"] == 3


def test_one_person_racing_for_several_slots_gets_one(service: BookingService) -> None:
    starts = ["09:00", "10:00", "11:00", "13:30", "14:30", "15:30"]
    barrier = threading.Barrier(len(starts) * 2)

    def attempt(i: int) -> str:
        barrier.wait()
        try:
            _book(service, 5, start=starts[i % len(starts)], day=TUE if i < len(starts) else WED)
        except BookingError as e:
            return e.code
        return "booked"

    with ThreadPoolExecutor(len(starts) * 2) as pool:
        outcomes = Counter(pool.map(attempt, range(len(starts) * 2)))
    assert outcomes == {"booked": 1, "already_booked": len(starts) * 2 - 1}
    _assert_consistent(service)


def test_racing_cancels_and_moves_keep_counts(service: BookingService) -> None:
    codes = [_book(service, n, day=WED, start=s).appointment.code
             for n, s in enumerate(["09:00", "09:00", "10:00", "10:00", "11:00", "11:00"])]
    jobs = [(service.cancel, (codes[0],)), (service.cancel, (codes[0],)),
            (service.reschedule, (codes[1], WED, "10:00")), (service.reschedule, (codes[2], WED, "09:00")),
            (service.reschedule, (codes[3], WED, "11:00")), (service.reschedule, (codes[4], WED, "10:00")),
            (service.cancel, (codes[5],)), (service.reschedule, (codes[5], WED, "13:30"))]
    barrier = threading.Barrier(len(jobs))

    def run(job) -> str:  # noqa: ANN001
        fn, args = job
        barrier.wait()
        try:
            fn(*args)
        except BookingError as e:
            return e.code
        return "ok"

    with ThreadPoolExecutor(len(jobs)) as pool:
        outcomes = list(pool.map(run, jobs))
    assert sorted(outcomes[:2]) == ["already_cancelled", "ok"]
    _assert_consistent(service)


def _assert_consistent(service: BookingService) -> None:
    """For every slot: places taken == appointments holding one <= capacity."""
    with service.engine.connect() as conn:
        held = Counter((r.hall_id, r.category, r.day, r.start) for r in conn.execute(
            select(appointments).where(appointments.c.status != "cancelled")))
        usage = {(r.hall_id, r.category, r.day, r.start): r.booked for r in conn.execute(select(slot_usage))}
    for key, booked in usage.items():
        assert booked == held.get(key, 0), key
        hall = {h.id: h for h in (CENTER, STATION)}[key[0]]
        slot = next(s for s in slotmath.slots_on(hall, key[2]) if s.key == key[3])
        assert booked <= slotmath.capacity(hall, slot)
    assert set(held) <= set(usage)


def test_unknown_code_and_errors_are_typed(service: BookingService) -> None:
    assert isinstance(_error(service.cancel, "ABCDEFGH"), NotFound)
    assert isinstance(_error(service.reschedule, "abcdefgh", TUE, "09:00"), NotFound)
    assert _error(service.get, "0000").code == "invalid_code"


def test_migrations_match_the_models_and_rerun(booking_url: str) -> None:
    engine = make_engine(booking_url)
    try:
        migrate.upgrade(engine)
        migrate.upgrade(engine)  # already at head: nothing to do
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn, opts={"version_table": migrate.VERSION_TABLE}),
                                    metadata) == []
            indexes = {i["name"]: i for i in inspect(conn).get_indexes("appointments")}
            assert indexes["uq_appointments_active_person"]["unique"]
    finally:
        engine.dispose()


def test_default_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUJI_BOOKING_DATABASE_URL", raising=False)
    assert booking_database_url().endswith("/var/bookings.sqlite3")
    monkeypatch.setenv("HUJI_BOOKING_DATABASE_URL", "postgresql+psycopg2://db/bookings")
    assert booking_database_url() == "postgresql+psycopg2://db/bookings"
