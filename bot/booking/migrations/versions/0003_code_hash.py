"""Appointments are looked up by a SHA-256 of their code (code_hash), so look-up time reveals nothing about a code.

Existing rows get their hash; the unique index makes the hash as unique as the code. Downgrade drops the column.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ACTIVE = sa.text("status = 'active'")
_table = sa.table("appointments", sa.column("id", sa.Integer), sa.column("code", sa.String),
                  sa.column("code_hash", sa.String))


def upgrade() -> None:
    op.add_column("appointments", sa.Column("code_hash", sa.String(64), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.select(_table.c.id, _table.c.code)).fetchall()
    if rows:
        conn.execute(_table.update().where(_table.c.id == sa.bindparam("p_id"))
                     .values(code_hash=sa.bindparam("p_hash")),
                     [{"p_id": r.id, "p_hash": hashlib.sha256(r.code.encode("ascii")).hexdigest()} for r in rows])
    op.create_index("uq_appointments_code_hash", "appointments", ["code_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_appointments_code_hash", table_name="appointments")
    # SQLite drops a column by copying the table, which would lose the partial index's WHERE: recreate it after
    op.drop_index("uq_appointments_active_person", table_name="appointments")
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("code_hash")
    op.create_index("uq_appointments_active_person", "appointments", ["person_key", "category"], unique=True,
                    sqlite_where=_ACTIVE, postgresql_where=_ACTIVE)
