"""Booking tables, in their own MetaData: the catalog database is rebuilt from YAML, bookings must survive that."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    text,
)

metadata = MetaData()

ACTIVE, CANCELLED, EXPIRED = "active", "cancelled", "expired"
ENCRYPTED_LENGTH = 255  # a Fernet token of a 30-character Han name is 204 characters

# One row per slot that has ever been booked; `booked` counts the appointments holding a place in it.
slot_usage = Table(
    "slot_usage", metadata,
    Column("hall_id", String(64), primary_key=True),
    Column("category", String(40), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("start", String(5), primary_key=True),  # HH:MM, sorts like the time it names
    Column("booked", Integer, nullable=False, server_default=text("0")),
    CheckConstraint("booked >= 0", name="ck_slot_usage_booked"),
)

appointments = Table(
    "appointments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(8), nullable=False),
    # SHA-256 of the code, hex: appointments are looked up by it, so look-up time says nothing about the code
    Column("code_hash", String(64), nullable=True),
    Column("hall_id", String(64), nullable=False),
    Column("category", String(40), nullable=False),
    Column("day", Date, nullable=False),
    Column("start", String(5), nullable=False),
    Column("end", String(5), nullable=False),
    # Personal data, Fernet-encrypted (bot.booking.vault); NULL once purged, HUJI_RETENTION_DAYS after the day.
    Column("name", String(ENCRYPTED_LENGTH), nullable=True),
    Column("phone", String(ENCRYPTED_LENGTH), nullable=True),
    Column("id_number", String(ENCRYPTED_LENGTH), nullable=True),
    Column("person_key", String(64), nullable=True),  # HMAC-SHA256 of the ID number, hex
    # active: holds a place; cancelled: gave it back; expired: its time has passed (frees the person to book again)
    Column("status", String(10), nullable=False),
    Column("idempotency_key", String(100), nullable=True),
    Column("request_fingerprint", String(64), nullable=True),  # keyed hash of the booking request
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("cancelled_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("code", name="uq_appointments_code"),
    UniqueConstraint("idempotency_key", name="uq_appointments_idempotency_key"),
    CheckConstraint("status IN ('active', 'cancelled', 'expired')", name="ck_appointments_status"),
)

# The one-active-booking-per-person-per-business rule, enforced by the database even when requests race.
Index("uq_appointments_active_person", appointments.c.person_key, appointments.c.category, unique=True,
      sqlite_where=appointments.c.status == ACTIVE, postgresql_where=appointments.c.status == ACTIVE)
Index("uq_appointments_code_hash", appointments.c.code_hash, unique=True)
Index("ix_appointments_slot", appointments.c.hall_id, appointments.c.category, appointments.c.day,
      appointments.c.start)
