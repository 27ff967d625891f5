"""What can go wrong with a booking, independent of HTTP: the API maps each kind to a status code."""

from __future__ import annotations

from typing import Any


class BookingError(Exception):
    """A refusal the citizen can act on: a machine-readable code and a polite Chinese message."""

    def __init__(self, code: str, message: str, **details: Any):
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


class Invalid(BookingError):
    """The request itself is wrong (bad ID number, unknown slot, closed day...)."""


class NotFound(BookingError):
    """No such appointment."""


class Conflict(BookingError):
    """The request is fine but clashes with the current state (slot full, already booked...)."""


class Busy(BookingError):
    """The database stayed locked or deadlocked after retries: try again later."""
