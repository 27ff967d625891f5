"""Structured payloads (`json_message`) that the web widget draws as cards; other channels keep the text.

The values are the same the text is made from (bot/halls/render.py), so card and text never disagree.
"""

from __future__ import annotations

from typing import Any

from bot.halls.render import queue_line

Button = dict[str, str]


def queue_state(report: dict[str, Any] | None, hall: dict[str, Any]) -> dict[str, Any]:
    """The queue as a card shows it: its sentence, and whether it is live, simulated, stale or closed."""
    report = report or {}
    status = report.get("status") or "none"
    text = queue_line(report or None, hall).replace("（模拟数据）", "")  # the card shows a 模拟数据 badge instead
    state: dict[str, Any] = {"text": text, "status": status,
                             "simulated": bool(report.get("simulated")), "open_now": bool(hall.get("open_now"))}
    if status == "live":
        state.update({k: report.get(k) for k in ("waiting", "counters_open", "estimated_wait_minutes")})
    return state


def booking_note(hall: dict[str, Any], slot_buttons: list[Button]) -> str:
    """What the text's card says about booking (bot/halls/render.hall_card) when there is no slot to offer."""
    if not hall.get("appointments", True):
        return "无需预约，开放时间内直接前往即可。"
    return "" if slot_buttons else "未来 7 天暂无可预约时段。"


def hall_card(number: int, hall: dict[str, Any], report: dict[str, Any] | None, slot_buttons: list[Button],
              book: Button | None) -> dict[str, Any]:
    return {"number": number, "id": hall["id"], "name": hall["name"], "district": hall["district"],
            "address": hall["address"], "phone": hall["phone"], "hours": hall["hours"]["label"],
            "queue": queue_state(report, hall), "appointments": bool(hall.get("appointments", True)),
            "slots": slot_buttons, "book": book, "booking_note": booking_note(hall, slot_buttons),
            "note": hall.get("note") or "",
            "needs_checking": bool(hall.get("needs_checking"))}


def halls_payload(intro: str, cards: list[dict[str, Any]], note: str) -> dict[str, Any]:
    """Hall suggestions: the widget draws `intro`, one card per hall and `note` instead of the text."""
    return {"type": "halls", "intro": intro, "halls": cards, "note": note.strip()}


def booking_payload(status: str, title: str, rows: list[tuple[str, str]], note: str = "",
                    code: str = "") -> dict[str, Any]:
    """A booking summary (status `confirm`) or confirmation (`booked`, with its code); personal data masked."""
    return {"type": "booking", "status": status, "title": title, "code": code,
            "rows": [{"label": label, "value": value} for label, value in rows], "note": note}

