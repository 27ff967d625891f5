"""Drives the real actions turn by turn against a real database, without Rasa's NLU or server.

Entities come from the real catalog matcher; intents are given by the test, as the classifier would.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.booking import (
    ActionCancelBooking,
    ActionChooseSlot,
    ActionConfirmCancel,
    ActionLookupBooking,
    ActionOfferSlots,
)
from actions.consultation import (
    ActionConsult,
    ActionExplainWhy,
    ActionPrintNotice,
    ActionRestartConsultation,
    ActionShowTemplate,
)
from actions.halls import ActionFindHall
from bot.nlu.booking_entities import booking_entities
from bot.nlu.matcher import PhraseFinder

ACTIONS = {
    "why_ask": ActionExplainWhy(),
    "start_over": ActionRestartConsultation(),
    "show_template": ActionShowTemplate(),
    "print_notice": ActionPrintNotice(),
    "find_hall": ActionFindHall(),
    "book_appointment": ActionOfferSlots(),
    "choose_slot": ActionChooseSlot(),
    "my_booking": ActionLookupBooking(),
    "cancel_booking": ActionCancelBooking(),
    "confirm_cancel": ActionConfirmCancel(),
}
PAYLOAD = re.compile(r"^/(\w+)(\{.*\})?$")


@dataclass
class Conversation:
    finder: PhraseFinder
    slots: dict[str, Any] = field(default_factory=lambda: {"fallback_count": 0.0})
    sender_id: str = "test"
    replies: list[dict] = field(default_factory=list)

    def say(self, text: str, intent: str = "consult", guess: str | None = None) -> list[dict]:
        """One turn; `guess` adds the category classifier's inferred category, as the NLU would."""
        match = PAYLOAD.match(text)
        if match:  # a button: intent and entities are in the payload, as Rasa's RegexInterpreter reads them
            intent = match.group(1)
            entities = [{"entity": k, "value": v} for k, v in json.loads(match.group(2) or "{}").items()]
        else:
            entities = [{"entity": m.entity, "value": m.value, "start": m.start, "end": m.end}
                        for m in self.finder.find(text)]
            entities += booking_entities(text)
        if guess:
            entities.append({"entity": "category", "role": "inferred", "value": guess})
        tracker = Tracker(
            sender_id=self.sender_id, slots=dict(self.slots),
            latest_message={"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities},
            events=[], paused=False, followup_action=None, active_loop={}, latest_action_name="action_listen",
        )
        dispatcher = CollectingDispatcher()
        action = ACTIONS.get(intent, ActionConsult())
        events = action.run(dispatcher, tracker, {})
        if inspect.isawaitable(events):  # the hall and booking actions are async
            events = asyncio.run(events)
        for event in events:
            if event["event"] == SlotSet("x").get("event"):
                self.slots[event["name"]] = event["value"]
        self.replies = dispatcher.messages
        return dispatcher.messages

    @property
    def text(self) -> str:
        return "\n".join(m.get("text") or "" for m in self.replies)

    @property
    def buttons(self) -> list[dict]:
        return [b for m in self.replies for b in (m.get("buttons") or [])]

    def press(self, title_part: str) -> list[dict]:
        button = next(b for b in self.buttons if title_part in b["title"])
        return self.say(button["payload"])
