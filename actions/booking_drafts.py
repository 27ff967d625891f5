"""Personal data typed during a booking, kept server-side until the booking is made.

The tracker store masks names, phones and ID numbers in stored history, so a later turn cannot read them back
from slots; they live in the booking database, encrypted, per conversation (bot/booking/drafts.py), so another
action server or one restarted mid-form continues it, and they expire if the citizen walks away.
"""

from __future__ import annotations

import threading

from bot.booking import booking_database_url
from bot.booking.drafts import TTL_SECONDS, Draft, DraftStore

__all__ = ["TTL_SECONDS", "Draft", "drop", "get", "start", "store", "update"]

_stores: dict[str, DraftStore] = {}
_lock = threading.Lock()  # rasa_sdk runs synchronous actions in threads


def store() -> DraftStore:
    """The store of the configured booking database (HUJI_BOOKING_DATABASE_URL), one per URL and process."""
    url = booking_database_url()
    with _lock:
        if url not in _stores:
            _stores[url] = DraftStore(url)
        return _stores[url]


def start(sender_id: str, choice: dict[str, str]) -> Draft:
    return store().start(sender_id, choice)


def get(sender_id: str) -> Draft | None:
    return store().get(sender_id)


def update(sender_id: str, **fields: str) -> Draft | None:
    return store().update(sender_id, **fields)


def drop(sender_id: str) -> None:
    store().drop(sender_id)
