"""Appointments at the halls: bookable slots, booking, look-up, cancelling and rescheduling by confirmation code."""

from __future__ import annotations

import os

from bot.settings import ROOT


def booking_database_url() -> str:
    """Bookings live in their own database: the catalog database is dropped and rebuilt from YAML."""
    return os.environ.get("HUJI_BOOKING_DATABASE_URL") or f"sqlite:///{ROOT / 'var' / 'bookings.sqlite3'}"
