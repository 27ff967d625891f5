"""Slots in use and appointments.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    op.create_table(
        "slot_usage",
        sa.Column("hall_id", sa.String(64), primary_key=True),
        sa.Column("category", sa.String(40), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("start", sa.String(5), primary_key=True),
        sa.Column("booked", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.CheckConstraint("booked >= 0", name="ck_slot_usage_booked"),
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("hall_id", sa.String(64), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("start", sa.String(5), nullable=False),
        sa.Column("end", sa.String(5), nullable=False),
        sa.Column("name", sa.String(30), nullable=False),
        sa.Column("phone", sa.String(11), nullable=False),
        sa.Column("id_number", sa.String(18), nullable=False),
        sa.Column("person_key", sa.String(18), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=True),
        sa.Column("request_fingerprint", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("code", name="uq_appointments_code"),
        sa.UniqueConstraint("idempotency_key", name="uq_appointments_idempotency_key"),
        sa.CheckConstraint("status IN ('active', 'cancelled', 'expired')", name="ck_appointments_status"),
    )
    op.create_index("uq_appointments_active_person", "appointments", ["person_key", "category"], unique=True,
                    sqlite_where=_ACTIVE, postgresql_where=_ACTIVE)
    op.create_index("ix_appointments_slot", "appointments", ["hall_id", "category", "day", "start"])


def downgrade() -> None:
    op.drop_index("ix_appointments_slot", table_name="appointments")
    op.drop_index("uq_appointments_active_person", table_name="appointments")
    op.drop_table("appointments")
    op.drop_table("slot_usage")
