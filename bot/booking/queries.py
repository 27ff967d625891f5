"""The booking SQL, built once at import. Prebuilt statements with bind parameters skip SQLAlchemy's per-call
expression building and cache-key work, which otherwise costs more than the database itself.

Bind names are prefixed with `p_`: in an UPDATE, a parameter named like a column would be read as a SET value.
"""

from __future__ import annotations

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .models import ACTIVE, CANCELLED, EXPIRED, appointments, slot_usage

_u, _a = slot_usage.c, appointments.c

_SLOT = and_(_u.hall_id == bindparam("p_hall"), _u.category == bindparam("p_category"), _u.day == bindparam("p_day"),
             _u.start == bindparam("p_start"))
_NEW_USAGE = {"hall_id": bindparam("p_hall"), "category": bindparam("p_category"), "day": bindparam("p_day"),
              "start": bindparam("p_start"), "booked": 0}

# slot_usage: one row per (hall, business, day, start); `booked` counts the appointments holding a place there
ENSURE_USAGE = {
    "sqlite": sqlite.insert(slot_usage).values(**_NEW_USAGE).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(slot_usage).values(**_NEW_USAGE).on_conflict_do_nothing(),
}
INSERT_USAGE = insert(slot_usage).values(**_NEW_USAGE)  # other databases: only after USAGE found nothing
USAGE = select(_u.booked).where(_SLOT)
LOCK_USAGE = select(_u.booked).where(_SLOT).with_for_update()
TAKE = update(slot_usage).where(_SLOT, _u.booked < bindparam("p_capacity")).values(booked=_u.booked + 1)
RELEASE = update(slot_usage).where(_SLOT, _u.booked > 0).values(booked=_u.booked - 1)
USAGE_RANGE = select(_u.day, _u.start, _u.booked).where(
    _u.hall_id == bindparam("p_hall"), _u.category == bindparam("p_category"), _u.day >= bindparam("p_first"),
    _u.day <= bindparam("p_last"))

# appointments
INSERT_APPOINTMENT = insert(appointments)
BY_CODE = select(appointments).where(_a.code_hash == bindparam("p_code_hash"))
BY_CODE_LOCKED = select(appointments).where(_a.code_hash == bindparam("p_code_hash")).with_for_update()
BY_KEY = select(appointments).where(_a.idempotency_key == bindparam("p_key"))
ACTIVE_OF_PERSON = select(_a.id, _a.hall_id, _a.day, _a.start, _a.end).where(
    _a.person_key == bindparam("p_person"), _a.category == bindparam("p_category"), _a.status == ACTIVE)
EXPIRE = update(appointments).where(_a.id == bindparam("p_id"), _a.status == ACTIVE).values(
    status=EXPIRED, updated_at=bindparam("p_stamp"))
CANCEL = update(appointments).where(_a.id == bindparam("p_id")).values(
    status=CANCELLED, updated_at=bindparam("p_stamp"), cancelled_at=bindparam("p_stamp"))
MOVE = update(appointments).where(_a.id == bindparam("p_id")).values(
    day=bindparam("p_day"), start=bindparam("p_start"), end=bindparam("p_end"), updated_at=bindparam("p_stamp"))
# personal data of appointments whose day is before p_cutoff: blanked; code, slot and status stay for statistics
PURGE = update(appointments).where(_a.day < bindparam("p_cutoff"), or_(
    _a.name.is_not(None), _a.phone.is_not(None), _a.id_number.is_not(None), _a.person_key.is_not(None),
    _a.request_fingerprint.is_not(None))).values(
    name=None, phone=None, id_number=None, person_key=None, request_fingerprint=None)
