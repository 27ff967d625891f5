"""The shape the widget renders: one bot message is {"text", "buttons", "custom"}; user messages {"text"}.

Rasa's REST channel answers a text with its buttons and, separately, the `json_message` of the same utterance
({"custom": …}); the tracker keeps them together. Both are brought to the tracker's shape here, so the widget has
one kind of message to draw, live or after a reload.
"""

from __future__ import annotations

import re
from typing import Any

SENDER = re.compile(r"^web-[0-9a-f]{32}$")  # 128 random bits made by the browser: only web conversations


def bot_message(text: Any = None, buttons: Any = None, custom: Any = None) -> dict[str, Any]:
    return {"from": "bot", "text": text if isinstance(text, str) else "",
            "buttons": [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                        for b in (buttons if isinstance(buttons, list) else []) if isinstance(b, dict)],
            "custom": custom if isinstance(custom, dict) else None}


def from_rest(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rasa's REST answer, with each custom payload joined to the text it was sent with."""
    out: list[dict[str, Any]] = []
    for reply in replies:
        if not isinstance(reply, dict):
            continue
        if "custom" in reply and "text" not in reply and out and out[-1]["custom"] is None:
            out[-1]["custom"] = reply["custom"] if isinstance(reply["custom"], dict) else None
            continue
        out.append(bot_message(reply.get("text"), reply.get("buttons"), reply.get("custom")))
    return out


def _choices(message: dict[str, Any]) -> list[dict[str, str]]:
    """Every button a bot message offered, the slot and booking buttons of hall cards included."""
    found = list(message["buttons"])
    custom = message["custom"] or {}
    for hall in custom.get("halls") or []:
        if isinstance(hall, dict):
            found += [b for b in (hall.get("slots") or []) if isinstance(b, dict)]
            if isinstance(hall.get("book"), dict):
                found.append(hall["book"])
    return found


def from_tracker(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation as the citizen saw it: a clicked payload shows as its button's title, and a payload that
    no button offered (the widget's opening greeting) is left out. Texts are as stored, that is masked."""
    out: list[dict[str, Any]] = []
    titles: dict[str, str] = {}
    for event in events:
        kind = event.get("event")
        if kind == "user":
            text = event.get("text") or ""
            if text.startswith("/"):
                if text not in titles:
                    continue
                text = titles[text]
            out.append({"from": "user", "text": text})
        elif kind == "bot":
            data = event.get("data") or {}
            message = bot_message(event.get("text"), data.get("buttons"), data.get("custom"))
            titles.update({b["payload"]: b["title"] for b in _choices(message) if "payload" in b and "title" in b})
            out.append(message)
        elif kind == "session_started":
            titles.clear()
    return out
