"""Rasa tracker store that keeps conversation history with personal data masked.

The action server still sees the citizen's exact words in the turn they are said; only what is stored
(and so every later read of the history, the HTTP API included) is masked. Actions that need a personal
datum later must keep it in their own store, not in a slot.
"""

from __future__ import annotations

import json

from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from bot.privacy import mask


class MaskingTrackerStore(InMemoryTrackerStore):
    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        # not json's default \uXXXX escapes: masking must see the digits next to the Chinese text
        dialogue = json.dumps(tracker.as_dialogue().as_dict(), ensure_ascii=False)
        self.store[tracker.sender_id] = mask(dialogue)
