"""Personal data at rest: names, phones and ID numbers encrypted, the person found by a keyed hash.

Existing rows are converted in place with the configured data key (HUJI_DATA_KEY, else var/data-key): the three
fields are encrypted, person_key becomes HMAC-SHA256 of the ID number, and the request fingerprint (an unkeyed
SHA-256 of the request, personal data included) becomes the keyed one when it still matches the row, else NULL
(an Idempotency-Key retry of such an old, since rescheduled, booking then answers idempotency_conflict).
Downgrade decrypts them again with the same key (purged values come back as empty strings).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import op

from bot.booking.vault import Vault

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ACTIVE = sa.text("status = 'active'")
_ENCRYPTED = 255
_CLEAR = {"name": 30, "phone": 11, "id_number": 18, "person_key": 18}
_table = sa.table("appointments", sa.column("id", sa.Integer), sa.column("hall_id", sa.String),
                  sa.column("category", sa.String), sa.column("day", sa.Date), sa.column("start", sa.String),
                  sa.column("name", sa.String), sa.column("phone", sa.String), sa.column("id_number", sa.String),
                  sa.column("person_key", sa.String), sa.column("request_fingerprint", sa.String))
_update = _table.update().where(_table.c.id == sa.bindparam("p_id")).values(
    name=sa.bindparam("p_name"), phone=sa.bindparam("p_phone"), id_number=sa.bindparam("p_id_number"),
    person_key=sa.bindparam("p_person_key"), request_fingerprint=sa.bindparam("p_fingerprint"))


def _request(row: sa.engine.Row) -> str:
    return json.dumps([row.hall_id, row.category, row.day.isoformat(), row.start, row.name, row.phone, row.id_number])


def _alter(lengths: dict[str, int], nullable: bool) -> None:
    # the partial unique index would lose its WHERE when SQLite's batch mode copies the table: recreate it after
    op.drop_index("uq_appointments_active_person", table_name="appointments")
    with op.batch_alter_table("appointments") as batch:
        for column, length in lengths.items():
            batch.alter_column(column, type_=sa.String(length), existing_nullable=not nullable, nullable=nullable)
    op.create_index("uq_appointments_active_person", "appointments", ["person_key", "category"], unique=True,
                    sqlite_where=_ACTIVE, postgresql_where=_ACTIVE)


def upgrade() -> None:
    _alter({"name": _ENCRYPTED, "phone": _ENCRYPTED, "id_number": _ENCRYPTED, "person_key": 64}, nullable=True)
    conn = op.get_bind()
    rows = conn.execute(sa.select(_table)).fetchall()
    if not rows:
        return
    vault = Vault.configured()
    changes = []
    for row in rows:
        old = hashlib.sha256(_request(row).encode()).hexdigest()
        changes.append({
            "p_id": row.id, "p_name": vault.encrypt(row.name), "p_phone": vault.encrypt(row.phone),
            "p_id_number": vault.encrypt(row.id_number), "p_person_key": vault.person_key(row.id_number),
            "p_fingerprint": vault.digest(_request(row)) if row.request_fingerprint == old else None})
    conn.execute(_update, changes)


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(_table)).fetchall()
    if rows:
        vault = Vault.configured()
        changes = []
        for row in rows:
            clear = {k: vault.decrypt(getattr(row, k)) for k in ("name", "phone", "id_number")}
            changes.append({"p_id": row.id, "p_name": clear["name"], "p_phone": clear["phone"],
                            "p_id_number": clear["id_number"], "p_person_key": clear["id_number"] or f"purged-{row.id}",
                            "p_fingerprint": None})
        conn.execute(_update, changes)
    _alter(_CLEAR, nullable=False)
