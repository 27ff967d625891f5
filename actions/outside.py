"""Answers a question that is not 户政 business with who handles it (bot/consult/outside.py)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.catalog_access import CatalogView
from bot.catalog.outside import Topic, load_topics
from bot.consult.outside import out_of_scope_answer
from bot.settings import SCENARIOS_DIR


@lru_cache(maxsize=1)
def _topics() -> list[Topic]:
    return load_topics(SCENARIOS_DIR)[0]


class ActionOutOfScope(Action):
    def name(self) -> str:
        return "action_out_of_scope"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        entities = (tracker.latest_message or {}).get("entities") or []
        code = next((e.get("value") for e in entities if e.get("entity") == "topic"), None)
        with CatalogView() as view:
            names = {c.code: c.name for c in view.categories()}
        text, buttons = out_of_scope_answer(_topics(), code, names)
        dispatcher.utter_message(text=text, buttons=buttons)
        return []
