"""Where to go: recommends halls for the business near the citizen's district, with live waits and free slots."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.catalog_access import CatalogView
from actions.hall_service import HallService, HallServiceError
from bot.channels.web.payloads import hall_card as hall_card_payload
from bot.channels.web.payloads import halls_payload
from bot.halls import hours
from bot.halls.districts import DISTRICTS, find_district
from bot.halls.recommend import recommend
from bot.halls.render import checking_note, hall_card
from bot.halls.when import When

HORIZON_DAYS = 7
MAX_SEARCH = 50  # free slots fetched when only a part of day or an hour narrows them
SHORT_WAIT_WORDS = ("人少", "人最少", "排队少", "不用排队", "少排队", "不排队", "等得少", "快一点", "最快", "人不多")
COMMON_CATEGORIES = ("birth", "id_card", "residence_permit", "household_book", "local_move", "certificate")


def entity(tracker: Tracker, name: str) -> str | None:
    return next((e.get("value") for e in (tracker.latest_message or {}).get("entities") or []
                 if e.get("entity") == name and e.get("role") != "inferred"), None)


def text_of(tracker: Tracker) -> str:
    text = (tracker.latest_message or {}).get("text") or ""
    return "" if text.startswith("/") else text  # a button payload says nothing about time or place


def category_of(tracker: Tracker) -> str | None:
    """The business asked about now, else the one a hall was last sought for, else the consultation's."""
    return entity(tracker, "category") or tracker.get_slot("hall_category") or tracker.get_slot("category")


def district_of(tracker: Tracker) -> str | None:
    named = entity(tracker, "district") or find_district(text_of(tracker))
    return named if named in DISTRICTS else tracker.get_slot("district")


def category_buttons(intent: str) -> list[dict[str, str]]:
    with CatalogView() as view:
        return [{"title": c.name, "payload": f'/{intent}{json.dumps({"category": c.code}, ensure_ascii=False)}'}
                for c in view.categories() if c.code in COMMON_CATEGORIES]


def category_name(code: str) -> str:
    with CatalogView() as view:
        info = view.info(code)
    return info.name if info else code


def where_rule(tracker: Tracker, category: str) -> str:
    """Where the consulted scenario says to apply (e.g. the hukou-place police station), if one was reached."""
    scenario_id = tracker.get_slot("scenario")
    if not scenario_id or tracker.get_slot("category") != category:
        return ""
    with CatalogView() as view:
        tree = view.tree(category)
        scenario = tree.scenario(scenario_id) if tree else None
    return scenario.where if scenario else ""


def district_buttons(intent: str) -> list[dict[str, str]]:
    return [{"title": f"{d}区", "payload": f'/{intent}{json.dumps({"district": d}, ensure_ascii=False)}'}
            for d in DISTRICTS]


def matches(slot: dict[str, Any], when: When) -> bool:
    start = dt.time.fromisoformat(slot["start"])
    if when.part == "am" and start >= dt.time(12):
        return False
    if when.part == "pm" and start < dt.time(12):
        return False
    if when.hour is not None:
        return start <= when.hour < dt.time.fromisoformat(slot["end"]) or start >= when.hour
    return True


async def free_slots(service: HallService, hall_id: str, category: str, when: When, limit: int,
                     today: dt.date) -> list[dict[str, Any]]:
    """The first bookable slots on the asked day, or from now on, that match the asked part of day and hour."""
    if when.day is None:  # the service searches the whole horizon; a part of day or an hour only filters
        wide = limit if when.part is None and when.hour is None else MAX_SEARCH
        found = await service.next_slots(hall_id, category, wide)
    elif today <= when.day <= today + dt.timedelta(days=HORIZON_DAYS):
        found = [{**s, "date": when.day.isoformat()} for s in await service.slots(hall_id, category, when.day)
                 if s["bookable"]]
    else:
        return []
    return [{**s, "hall_id": hall_id} for s in found if matches(s, when)][:limit]


async def suggest_halls(service: HallService, category: str, district: str | None, shortest_wait: bool,
                        bookable_only: bool = False) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    halls = [h for h in await service.halls(category) if h["appointments"] or not bookable_only]
    queues = await service.queues(category)
    return recommend(halls, queues, district, shortest_wait), queues


class ActionFindHall(Action):
    def name(self) -> str:
        return "action_find_hall"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        category, district = category_of(tracker), district_of(tracker)
        if not category:
            dispatcher.utter_message(text="请问您要办理哪项业务？选好后我帮您找能办理的大厅。",
                                     buttons=category_buttons("find_hall"))
            return [SlotSet("district", district)]
        text = text_of(tracker)
        shortest = any(w in text for w in SHORT_WAIT_WORDS)
        service, today = HallService(), hours.now().date()
        try:
            picks, queues = await suggest_halls(service, category, district, shortest)
            slots = await asyncio.gather(*(free_slots(service, h["id"], category, When(), 2, today)
                                           for h in picks if h["appointments"]))
            by_hall = dict(zip([h["id"] for h in picks if h["appointments"]], slots, strict=True))
            cards = [hall_card(i, h, queues.get(h["id"]), by_hall.get(h["id"], []), today)
                     for i, h in enumerate(picks, 1)]
        except HallServiceError as error:
            dispatcher.utter_message(text=error.message)
            return []
        name = category_name(category)
        if not picks:
            where = f"{district}区及周边" if district else "全市"
            dispatcher.utter_message(text=f"抱歉，{where}暂时没有找到可以办理{name}的大厅。您可以换个区再问我。",
                                     buttons=district_buttons("find_hall"))
            return [SlotSet("district", district)]
        where = f"{district}区附近" if district else "全市"
        order = "按现在的等候时间排序" if shortest or not district else "本区优先，再按等候时间排序"
        head = f"{where}可以办理「{name}」的大厅（{order}）："
        rule = where_rule(tracker, category)
        if rule:  # many businesses must go to the hukou-place station: that outranks a short queue
            head = f"请注意办理地点要求：{rule}\n{head}"
        tail = "" if district else ("\n告诉我您户口所在的区（或想去的区，例如“天河区”），"
                                    "我可以推荐那里的大厅。")
        buttons = [{"title": f"预约{i}：{h['name']}", "payload": f'/book_appointment{{"hall":"{h["id"]}"}}'}
                   for i, h in enumerate(picks, 1) if h["appointments"]]
        from actions.booking import _slot_buttons  # the one place a slot button is made (booking imports us)

        web_cards = [hall_card_payload(i, h, queues.get(h["id"]), _slot_buttons(by_hall.get(h["id"], []), category,
                                                                                 today),
                                       next((b for b in buttons if b["title"].startswith(f"预约{i}：")), None))
                     for i, h in enumerate(picks, 1)]
        dispatcher.utter_message(text="\n".join([head, *cards]) + checking_note(picks) + tail, buttons=buttons,
                                 json_message=halls_payload(head, web_cards, checking_note(picks) + tail))
        return [SlotSet("district", district), SlotSet("hall_category", category)]
