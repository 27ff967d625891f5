"""Rasa tracker store that keeps conversation history with personal data masked.

The action server still sees the citizen's exact words in the turn they are said; only what is stored
(and so every later read of the history, the HTTP API included) is masked. Actions that need a personal
datum later must keep it in their own store, not in a slot (see actions/booking_drafts.py).
"""

from __future__ import annotations

import json
from typing import Any

from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

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


class MaskingTrackerStore(InMemoryTrackerStore):
    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        dialogue = mask_strings(mask_names(tracker.as_dialogue().as_dict()))
        self.store[tracker.sender_id] = json.dumps(dialogue, ensure_ascii=False)
