"""Rasa tracker store that keeps conversation history with personal data masked.

The action server still sees the citizen's exact words in the turn they are said; only what is stored
(and so every later read of the history, the HTTP API included) is masked. Actions that need a personal
datum later must keep it in their own store, not in a slot (see actions/booking_drafts.py).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

import bot.action_validation  # noqa: F401 - compiled action-response validation in the Rasa process
from bot.privacy import mask, mask_name

NAME_SLOT = "booking_name"  # a name has no pattern: it is masked because it answers the form's name question


def mask_names(dialogue: dict[str, Any]) -> dict[str, Any]:
    """Masks the answer to the name question and every value the name slot took."""
    requested = None
    for event in dialogue.get("events", []):
        kind = event.get("event")
        if kind == "slot" and event.get("name") == "requested_slot":
            requested = event.get("value")
        elif kind == "slot" and event.get("name") == NAME_SLOT and isinstance(event.get("value"), str):
            event["value"] = mask_name(event["value"])
        elif kind == "user" and requested == NAME_SLOT:
            event["text"] = mask_name(event.get("text") or "")
            if isinstance(event.get("parse_data"), dict):
                event["parse_data"]["text"] = event["text"]
        elif kind == "active_loop" and event.get("name") is None:
            requested = None
    return dialogue


def mask_strings(value: Any) -> Any:
    """Masks every text in the stored structure; numbers stay numbers (a float's digits can look like a phone)."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, list):
        return [mask_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_strings(v) for k, v in value.items()}
    return value


class MaskingTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, fed masked events: nothing personal reaches the table.

    `url` (endpoints.yml, `${HUJI_TRACKER_DB_URL}`) is an SQLAlchemy URL: `sqlite:///var/tracker.sqlite3`, or
    `postgresql+psycopg2://user:password@host/db`; without one the store is an in-memory SQLite (tests).
    """

    def __init__(self, domain: Domain | None = None, host: str | None = None, event_broker: EventBroker | None = None,
                 url: str | None = None, **kwargs: Any) -> None:
        # Rasa's SQLTrackerStore takes a whole URL in `host`
        super().__init__(domain, host=url or host or "sqlite://", event_broker=event_broker, **kwargs)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        masked = mask_strings(mask_names(tracker.as_dialogue().as_dict()))["events"]
        with self.session_scope() as session:
            stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
            for event, data in itertools.islice(zip(tracker.events, masked, strict=True), stored, None):
                session.add(self.SQLEvent(
                    sender_id=tracker.sender_id, type_name=event.type_name, timestamp=data.get("timestamp"),
                    intent_name=(data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
                    action_name=data.get("name"), data=json.dumps(data, ensure_ascii=False)))
            session.commit()

    def stored_text(self, sender_id: str) -> str:
        """Every stored event of a conversation as the table holds it (JSON lines), to check what is kept."""
        with self.session_scope() as session:
            rows = session.query(self.SQLEvent.data).filter(self.SQLEvent.sender_id == sender_id)
            return "\n".join(row.data for row in rows.order_by(self.SQLEvent.id))
