"""Personal data typed during a booking, kept server-side until the booking is made.

The tracker store masks names, phones and ID numbers in stored history, so a later turn cannot read them back
from slots; they live here, per conversation, and expire if the citizen walks away.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

TTL_SECONDS = 30 * 60


@dataclass
class Draft:
    choice: dict[str, str]  # hall_id, category, date, start, end
    key: str = field(default_factory=lambda: uuid.uuid4().hex)  # idempotency key: a retried submit books once
    name: str = ""
    phone: str = ""
    id_number: str = ""
    touched: float = field(default_factory=time.monotonic)

    def __repr__(self) -> str:
        return f"Draft({self.choice}, {self.key})"  # never the personal data


_drafts: dict[str, Draft] = {}


def start(sender_id: str, choice: dict[str, str]) -> Draft:
    _expire()
    _drafts[sender_id] = draft = Draft(choice)
    return draft


def get(sender_id: str) -> Draft | None:
    _expire()
    draft = _drafts.get(sender_id)
    if draft:
        draft.touched = time.monotonic()
    return draft


def drop(sender_id: str) -> None:
    _drafts.pop(sender_id, None)


def _expire() -> None:
    cutoff = time.monotonic() - TTL_SECONDS
    for sender in [s for s, d in _drafts.items() if d.touched < cutoff]:
        del _drafts[sender]
