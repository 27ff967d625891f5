"""Booking, look-up, cancelling and rescheduling, each in one database transaction.

Overbooking is impossible because a place is taken with a conditional UPDATE (`booked < capacity`) whose row lock
serializes racing requests; double booking is impossible because a partial unique index allows one active
appointment per person and business. Blocking calls: run them off the event loop.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import secrets
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.catalog.model import Catalog
from bot.halls import hours
from bot.halls.model import Hall

from . import booking_database_url
from . import queries as q
from . import slots as slotmath
from .engine import READ_ONLY, make_engine
from .errors import Busy, Conflict, Invalid, NotFound
from .models import ACTIVE, CANCELLED, EXPIRED
from .people import Person, person
from .vault import Vault

log = logging.getLogger(__name__)

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read out over the phone without mistakes
CODE_LENGTH = 8
MAX_IDEMPOTENCY_KEY = 100
_RETRIES = 5  # deadlock victims and code collisions: the whole transaction is simply run again
T = TypeVar("T")


@dataclass(frozen=True)
class SlotView:
    hall_id: str
    category: str
    day: dt.date
    start: str
    end: str
    capacity: int
    booked: int
    past: bool

    @property
    def available(self) -> int:
        return max(0, self.capacity - self.booked)

    @property
    def bookable(self) -> bool:
        return not self.past and self.available > 0


@dataclass(frozen=True)
class DaySlots:
    hall_id: str
    category: str
    day: dt.date
    slots: tuple[SlotView, ...]
    closed_note: str | None = None  # why there are no slots on that day


@dataclass(frozen=True, repr=False)
class Appointment:
    code: str
    status: str  # active | cancelled | expired (its time has passed)
    hall_id: str
    category: str
    day: dt.date
    start: str
    end: str
    person: Person
    created_at: dt.datetime
    updated_at: dt.datetime
    cancelled_at: dt.datetime | None

    @property
    def starts_at(self) -> dt.datetime:
        return hours.at(self.day, dt.time.fromisoformat(self.start))

    def __repr__(self) -> str:  # the code lets anyone cancel: keep it, and personal data, out of logs
        return f"Appointment({self.status} {self.hall_id} {self.category} {self.day} {self.start} {self.person!r})"


@dataclass(frozen=True)
class BookingResult:
    appointment: Appointment
    replayed: bool  # True when an Idempotency-Key retry returned the appointment booked the first time


def new_code() -> str:
    """Letters and digits mixed, so a code in a chat message is told apart from words and other numbers."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if any(c.isdigit() for c in code) and any(c.isalpha() for c in code):
            return code


def normalize_code(code: str) -> str:
    """Codes are case-insensitive and may be written with spaces or dashes (ABCD-EFGH)."""
    value = "".join(str(code).split()).replace("-", "").upper()
    if len(value) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in value):
        raise Invalid("invalid_code", f"预约码应为 {CODE_LENGTH} 位字母和数字（不含 0、O、1、I、L），请核对。")
    return value


def code_hash(code: str) -> str:
    """What a normalised code is looked up by. The database compares hashes, whose bytes a guesser cannot steer, so
    the time a look-up takes tells nothing about how close a guessed code is (the code itself is then checked with
    hmac.compare_digest)."""
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def _by_code(conn: Connection, query: Any, code: str) -> Row | None:
    row = conn.execute(query, {"p_code_hash": code_hash(code)}).first()
    return row if row is not None and hmac.compare_digest(row.code.encode(), code.encode()) else None


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes: they were stored in UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


def _transient(error: OperationalError) -> bool:
    return getattr(error.orig, "pgcode", None) in {"40P01", "40001"} or "database is locked" in str(error.orig)


class BookingService:
    def __init__(self, engine: Engine, catalog: Catalog, clock: Callable[[], dt.datetime] = hours.now,
                 vault: Vault | None = None):
        self.engine, self.catalog, self.clock = engine, catalog, clock
        self.vault = vault or Vault.configured()  # HUJI_DATA_KEY, else var/data-key
        # SQLite has one writer at a time anyway; queueing our threads on a lock is far faster than letting them
        # poll SQLite's busy handler, which sleeps up to 100 ms between tries. Other processes still wait on
        # BEGIN IMMEDIATE (up to the 30 s connect timeout).
        self._write_lock: AbstractContextManager[Any] = (
            threading.Lock() if engine.dialect.name == "sqlite" else nullcontext())

    @classmethod
    def open(cls, catalog: Catalog, url: str | None = None, clock: Callable[[], dt.datetime] = hours.now,
             migrate: bool = True, vault: Vault | None = None) -> BookingService:
        """The service on `url` (default: HUJI_BOOKING_DATABASE_URL or var/bookings.sqlite3), migrated to head."""
        engine = make_engine(url or booking_database_url())
        if migrate:
            from .migrate import upgrade  # alembic is only needed when the schema may have to change

            upgrade(engine)
        return cls(engine, catalog, clock, vault)

    def dispose(self) -> None:
        self.engine.dispose()

    # ---- reading

    def day_slots(self, hall: Hall, category: str, day: dt.date) -> DaySlots:
        """Every slot of the day with its capacity and places taken; a closed day has none and says why."""
        self._check_category(hall, category)
        now = self._now()
        slotmath.check_horizon(day, now)
        slots = slotmath.slots_on(hall, day)
        if not slots:
            return DaySlots(hall.id, category, day, (), slotmath.closed_message(hall, day))
        usage = self._usage(hall.id, category, day, day)
        return DaySlots(hall.id, category, day, tuple(self._view(hall, category, s, usage, now) for s in slots))

    def next_free_slots(self, hall: Hall, category: str, after: dt.datetime, limit: int = 3) -> list[SlotView]:
        """The first `limit` bookable slots starting after `after` (and after now), within the booking horizon."""
        self._check_category(hall, category)
        now = self._now()
        after = max(after if after.tzinfo else after.replace(tzinfo=hours.TZ), now)
        first, last = slotmath.today(after), slotmath.last_bookable_day(now)
        usage = self._usage(hall.id, category, first, last) if first <= last else {}
        found: list[SlotView] = []
        day = first
        while day <= last and len(found) < limit:
            for slot in slotmath.slots_on(hall, day):
                view = self._view(hall, category, slot, usage, now)
                if slot.starts_at > after and view.bookable:
                    found.append(view)
                    if len(found) == limit:
                        break
            day += dt.timedelta(days=1)
        return found

    def get(self, code: str) -> Appointment:
        code = normalize_code(code)
        with self._reading() as conn:
            row = _by_code(conn, q.BY_CODE, code)
        if row is None:
            raise _not_found()
        return self._appointment(row, self._now())

    # ---- writing

    def book(self, hall: Hall, category: str, day: dt.date, start: str, name: object, phone: object,
             id_number: object, idempotency_key: str | None = None) -> BookingResult:
        """Books one place. With an idempotency key, a retry of the same request returns the first booking."""
        who = person(name, phone, id_number)
        self._check_category(hall, category)
        key = _idempotency_key(idempotency_key)
        start_key = slotmath.parse_start(start) or str(start)
        fingerprint = self.vault.digest(json.dumps(
            [hall.id, category, day.isoformat(), start_key, who.name, who.phone, who.id_number]))
        person_key = self.vault.person_key(who.id_number)
        sealed = {"name": self.vault.encrypt(who.name), "phone": self.vault.encrypt(who.phone),
                  "id_number": self.vault.encrypt(who.id_number)}
        if key and (replay := self._replay(key, fingerprint)):
            return replay
        now = self._now()
        slot = slotmath.bookable_slot(hall, day, start, now)
        capacity = slotmath.capacity(hall, slot)
        where = _slot_params(hall.id, category, slot.day, slot.key)
        if self._booked(where) >= capacity and not key:
            raise _slot_full(slot)  # cheap refusal without the write lock; the locked check below is what counts
        stamp = now.astimezone(dt.timezone.utc)  # SQLite keeps no time zone: store UTC everywhere
        for _ in range(_RETRIES):
            code = new_code()
            values = {
                "code": code, "code_hash": code_hash(code), "hall_id": hall.id, "category": category, "day": slot.day,
                "start": slot.key,
                "end": slot.end_key, **sealed, "person_key": person_key, "status": ACTIVE, "idempotency_key": key,
                "request_fingerprint": fingerprint,
                "created_at": stamp, "updated_at": stamp, "cancelled_at": None,
            }

            def work(conn: Connection, values: dict[str, Any] = values) -> Row | int:
                if key and (earlier := conn.execute(q.BY_KEY, {"p_key": key}).first()):
                    return earlier  # a retry that arrived while the first request was still running
                self._refuse_if_booked(conn, person_key, category, now, expire=True)
                if not self._take(conn, where, capacity):
                    raise _slot_full(slot)
                return conn.execute(q.INSERT_APPOINTMENT, values).inserted_primary_key[0]

            try:
                outcome = self._writing(work)
            except IntegrityError:
                # Lost a race: to the same idempotency key, to the same person's other request, or (rarely) a code.
                if key and (replay := self._replay(key, fingerprint)):
                    return replay
                with self._reading() as conn:
                    self._refuse_if_booked(conn, person_key, category, now, expire=False)
                continue
            except Conflict:
                # On PostgreSQL a concurrent retry may see the first request's place taken before its row is visible.
                if key and (replay := self._replay(key, fingerprint)):
                    return replay
                raise
            if isinstance(outcome, Row):
                return self._replayed(outcome, fingerprint)
            log.info("booked appointment #%s: %s %s %s %s-%s for %r", outcome, hall.id, category, slot.day, slot.key,
                     slot.end_key, who)
            return BookingResult(self._appointment_from(values, who, now), replayed=False)
        raise Busy("busy", "系统繁忙，请稍后再试。")

    def cancel(self, code: str) -> Appointment:
        code = normalize_code(code)
        now = self._now()
        stamp = now.astimezone(dt.timezone.utc)

        def work(conn: Connection) -> Row:
            row = self._changeable(conn, code, now, "取消")
            conn.execute(q.CANCEL, {"p_id": row.id, "p_stamp": stamp})
            conn.execute(q.RELEASE, _slot_params(row.hall_id, row.category, row.day, row.start))
            return row

        row = self._writing(work)
        log.info("cancelled appointment #%s: %s %s %s %s", row.id, row.hall_id, row.category, row.day, row.start)
        return replace(self._appointment(row, now), status=CANCELLED, updated_at=stamp, cancelled_at=stamp)

    def reschedule(self, code: str, day: dt.date, start: str) -> Appointment:
        """Moves an appointment to another slot of the same hall and business; the old place is freed only once the
        new one is secured, in the same transaction."""
        code = normalize_code(code)
        now = self._now()
        stamp = now.astimezone(dt.timezone.utc)

        def work(conn: Connection) -> tuple[Row, slotmath.Slot]:
            row = self._changeable(conn, code, now, "改约")
            hall = self.catalog.hall(row.hall_id)
            if hall is None:
                raise Conflict("hall_unavailable", "该大厅已不再提供预约，请取消后另行预约。")
            slot = slotmath.bookable_slot(hall, day, start, now)
            if (slot.day, slot.key) == (row.day, row.start):
                return row, slot  # already there: nothing to move
            old = _slot_params(row.hall_id, row.category, row.day, row.start)
            new = _slot_params(hall.id, row.category, slot.day, slot.key)
            self._ensure_usage(conn, new)
            for params in sorted([old, new], key=lambda p: (p["p_day"], p["p_start"])):
                conn.execute(q.LOCK_USAGE, params)  # one lock order, so two crossing moves never deadlock
            if not self._take(conn, new, slotmath.capacity(hall, slot)):
                raise _slot_full(slot)
            conn.execute(q.RELEASE, old)
            conn.execute(q.MOVE, {"p_id": row.id, "p_day": slot.day, "p_start": slot.key, "p_end": slot.end_key,
                                  "p_stamp": stamp})
            return row, slot

        row, slot = self._writing(work)
        if (slot.day, slot.key) == (row.day, row.start):
            return self._appointment(row, now)
        log.info("rescheduled appointment #%s: %s %s %s %s -> %s %s", row.id, row.hall_id, row.category, row.day,
                 row.start, slot.day, slot.key)
        return replace(self._appointment(row, now), day=slot.day, start=slot.key, end=slot.end_key, updated_at=stamp)

    def purge(self, retention_days: int | None = None) -> int:
        """Blanks the personal data (and the keyed hashes of it) of appointments more than `retention_days`
        (default HUJI_RETENTION_DAYS, 30) before today; code, slot and status stay for statistics. Returns the
        number of appointments purged."""
        if retention_days is None:
            from bot.settings import retention_days as configured

            retention_days = configured()
        cutoff = slotmath.today(self._now()) - dt.timedelta(days=max(0, retention_days))
        purged = self._writing(lambda conn: conn.execute(q.PURGE, {"p_cutoff": cutoff}).rowcount)
        log.info("purged the personal data of %d appointments before %s", purged, cutoff)
        return purged

    # ---- helpers

    def _now(self) -> dt.datetime:
        return self.clock().astimezone(hours.TZ)

    def _reading(self) -> Connection:
        conn = self.engine.connect()
        conn.execution_options(**{READ_ONLY: True})
        return conn

    def _writing(self, work: Callable[[Connection], T]) -> T:
        """Runs `work` in one transaction, again if the database picked it as a deadlock victim."""
        for attempt in range(_RETRIES):
            try:
                with self._write_lock, self.engine.begin() as conn:
                    return work(conn)
            except OperationalError as e:
                if not _transient(e):
                    raise
                log.warning("transient database error, attempt %d: %s", attempt + 1, type(e.orig).__name__)
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        raise Busy("busy", "系统繁忙，请稍后再试。")

    def _check_category(self, hall: Hall, category: str) -> None:
        info = self.catalog.info(category)
        if info is None:
            raise Invalid("unknown_category", f"没有业务分类 `{str(category)[:40]}`。")
        if not hall.accepts(category):
            raise Invalid("category_not_accepted", f"{hall.name}不受理{info.name}业务，请选择其他大厅。")
        if not hall.appointments:
            raise Invalid("no_appointments", f"{hall.name}无需预约，开放时间内直接前往即可。")

    def _category_name(self, category: str) -> str:
        info = self.catalog.info(category)
        return info.name if info else category

    def _usage(self, hall_id: str, category: str, first: dt.date, last: dt.date) -> dict[tuple[dt.date, str], int]:
        params = {"p_hall": hall_id, "p_category": category, "p_first": first, "p_last": last}
        with self._reading() as conn:
            return {(r.day, r.start): r.booked for r in conn.execute(q.USAGE_RANGE, params)}

    def _booked(self, where: dict[str, Any]) -> int:
        with self._reading() as conn:
            return conn.execute(q.USAGE, where).scalar() or 0

    @staticmethod
    def _view(hall: Hall, category: str, slot: slotmath.Slot, usage: dict[tuple[dt.date, str], int],
              now: dt.datetime) -> SlotView:
        return SlotView(hall.id, category, slot.day, slot.key, slot.end_key, slotmath.capacity(hall, slot),
                        usage.get((slot.day, slot.key), 0), slotmath.is_past(slot, now))

    @staticmethod
    def _ensure_usage(conn: Connection, where: dict[str, Any]) -> None:
        statement = q.ENSURE_USAGE.get(conn.dialect.name)
        if statement is not None:
            conn.execute(statement, where)
        elif conn.execute(q.USAGE, where).first() is None:
            conn.execute(q.INSERT_USAGE, where)

    def _take(self, conn: Connection, where: dict[str, Any], capacity: int) -> bool:
        """One place in the slot, if any is left. The UPDATE's row lock makes racing requests queue up here."""
        self._ensure_usage(conn, where)
        return conn.execute(q.TAKE, {**where, "p_capacity": capacity}).rowcount == 1

    def _refuse_if_booked(self, conn: Connection, person_key: str, category: str, now: dt.datetime,
                          expire: bool) -> None:
        """Conflict if the person holds an active appointment for this business. One whose time is over no longer
        counts: with `expire`, it is marked expired in this transaction."""
        row = conn.execute(q.ACTIVE_OF_PERSON, {"p_person": person_key, "p_category": category}).first()
        if row is None:
            return
        if hours.at(row.day, dt.time.fromisoformat(row.end)) <= now:
            if expire:
                conn.execute(q.EXPIRE, {"p_id": row.id, "p_stamp": now.astimezone(dt.timezone.utc)})
            return
        hall = self.catalog.hall(row.hall_id)
        where = hall.name if hall else row.hall_id
        raise Conflict(
            "already_booked",
            f"您已有一个有效的{self._category_name(category)}预约：{where} {row.day:%Y-%m-%d} {row.start}-{row.end}。"
            "同一业务只能保留一个有效预约，如需更换时间请改约，或先取消原预约。",
            hall_id=row.hall_id, date=f"{row.day:%Y-%m-%d}", start=row.start, end=row.end)

    def _changeable(self, conn: Connection, code: str, now: dt.datetime, action: str) -> Row:
        """The appointment, locked for the rest of the transaction, if it can still be cancelled or moved."""
        row = _by_code(conn, q.BY_CODE_LOCKED, code)
        if row is None:
            raise _not_found()
        if row.status == CANCELLED:
            raise Conflict("already_cancelled", f"该预约已于此前取消，无法{action}。如需办理请重新预约。")
        if row.status == EXPIRED or self._appointment(row, now).starts_at <= now:
            raise Conflict("appointment_past", f"该预约的时段已开始或已过，无法{action}。")
        return row

    def _replay(self, key: str, fingerprint: str) -> BookingResult | None:
        with self._reading() as conn:
            row = conn.execute(q.BY_KEY, {"p_key": key}).first()
        return None if row is None else self._replayed(row, fingerprint)

    def _replayed(self, row: Row, fingerprint: str) -> BookingResult:
        if row.request_fingerprint != fingerprint:
            raise Conflict("idempotency_conflict",
                           "这个 Idempotency-Key 已用于另一个不同内容的预约请求；新的请求请使用新的 key。")
        return BookingResult(self._appointment(row, self._now()), replayed=True)

    def _appointment(self, row: Row, now: dt.datetime) -> Appointment:
        v = self.vault
        who = Person(v.decrypt(row.name), v.decrypt(row.phone), v.decrypt(row.id_number))  # "" once purged
        return self._appointment_from(row._mapping, who, now)

    @staticmethod
    def _appointment_from(values: Any, who: Person, now: dt.datetime) -> Appointment:
        status = values["status"]
        if status == ACTIVE and hours.at(values["day"], dt.time.fromisoformat(values["end"])) <= now:
            status = EXPIRED  # shown as over even before the row itself is updated
        return Appointment(
            values["code"], status, values["hall_id"], values["category"], values["day"], values["start"],
            values["end"], who,
            _utc(values["created_at"]), _utc(values["updated_at"]), _utc(values["cancelled_at"]))


def _slot_params(hall_id: str, category: str, day: dt.date, start: str) -> dict[str, Any]:
    return {"p_hall": hall_id, "p_category": category, "p_day": day, "p_start": start}


def _idempotency_key(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > MAX_IDEMPOTENCY_KEY or not value.isprintable():
        raise Invalid("invalid_idempotency_key", f"Idempotency-Key 应为不超过 {MAX_IDEMPOTENCY_KEY} 个可见字符。")
    return value


def _slot_full(slot: slotmath.Slot) -> Conflict:
    return Conflict("slot_full", f"{slot.day:%Y-%m-%d} {slot.key}-{slot.end_key} 的时段已约满，请选择其他时段。")


def _not_found() -> NotFound:
    return NotFound("appointment_not_found", "没有找到这个预约码对应的预约，请核对后再试。")
