"""Booking in the conversation: offer slots, collect name/phone/ID (booking_form), confirm, book; look up, cancel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import booking_drafts
from actions.hall_service import HallService, HallServiceError
from actions.halls import (
    category_buttons,
    category_name,
    category_of,
    district_buttons,
    district_of,
    entity,
    free_slots,
    suggest_halls,
    text_of,
)
from bot.booking.errors import Invalid
from bot.booking.people import clean_id_number, clean_name, clean_phone
from bot.channels.web.payloads import booking_payload
from bot.halls import hours
from bot.halls.render import appointment_text, day_label, queue_line, slot_label
from bot.halls.when import When, parse_when
from bot.nlu.booking_entities import find_code
from bot.privacy import mask_id, mask_name, mask_phone

SLOT_BUTTONS = 6
FORM_SLOTS = ("booking_name", "booking_phone", "booking_id_number", "booking_confirm")


def _when_slot(when: When) -> str | None:
    if when.empty:
        return None
    return "|".join([when.day.isoformat() if when.day else "", when.part or "",
                     when.hour.strftime("%H:%M") if when.hour else ""])


def _when_from_slot(value: str | None) -> When:
    if not value:
        return When()
    day, part, hour = (value.split("|") + ["", "", ""])[:3]
    return When(dt.date.fromisoformat(day) if day else None, part or None,
                dt.time.fromisoformat(hour) if hour else None)


def _slot_value(slot: dict[str, Any], category: str) -> str:
    return "|".join([slot["hall_id"], category, slot["date"], slot["start"], slot["end"]])


def _slot_buttons(slots: list[dict[str, Any]], category: str, today: dt.date) -> list[dict[str, str]]:
    return [{"title": slot_label(s, today), "payload": f'/choose_slot{{"booking_slot":"{_slot_value(s, category)}"}}'}
            for s in slots[:SLOT_BUTTONS]]


def _clear() -> list[EventType]:
    return [SlotSet(name, None) for name in (*FORM_SLOTS, "booking_choice", "booking_when", "requested_slot")]


class ActionOfferSlots(Action):
    """"帮我约明天上午": pick the business, the hall, then offer the free slots that match the asked time."""

    def name(self) -> str:
        return "action_offer_slots"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        today = hours.now().date()
        asked = parse_when(text_of(tracker), today)
        when = asked if not asked.empty else _when_from_slot(tracker.get_slot("booking_when"))
        events: list[EventType] = [SlotSet("booking_when", _when_slot(when))]
        category = category_of(tracker)
        if not category:
            dispatcher.utter_message(text="好的，我来帮您预约。请问要办理哪项业务？",
                                     buttons=category_buttons("book_appointment"))
            return events
        events.append(SlotSet("hall_category", category))
        service = HallService()
        try:
            hall_id = entity(tracker, "hall") or tracker.get_slot("hall")
            halls = {h["id"]: h for h in await service.halls(category) if h["appointments"]}
            if hall_id not in halls:
                return events + await self._choose_hall(dispatcher, tracker, service, category)
            hall = halls[hall_id]
            events.append(SlotSet("hall", hall_id))
            slots = await free_slots(service, hall_id, category, when, SLOT_BUTTONS, today)
            if not slots and not when.empty:
                wanted = self._describe(when, today)
                slots = await free_slots(service, hall_id, category, When(), SLOT_BUTTONS, today)
                lead = f"{hall['name']}{wanted}没有可预约的时段了。" + ("最近可约的时段：" if slots else "")
            else:
                lead = f"{hall['name']}可预约的时段：" if slots else ""
        except HallServiceError as error:
            dispatcher.utter_message(text=error.message)
            return events
        if not slots:
            dispatcher.utter_message(text=f"抱歉，{hall['name']}未来 7 天的「{category_name(category)}」预约已满。"
                                          "您可以换一个大厅试试。", buttons=district_buttons("find_hall"))
            return events
        other_days = "" if when.day else "想约其他日期，可以直接说“明天上午”“下周一下午”等。"
        dispatcher.utter_message(text=lead + "\n请选择一个时段。" + other_days,
                                 buttons=_slot_buttons(slots, category, today))
        return events

    @staticmethod
    def _describe(when: When, today: dt.date) -> str:
        day = day_label(when.day, today) if when.day else ""
        part = {"am": "上午", "pm": "下午"}.get(when.part or "", "")
        hour = f"{when.hour:%H:%M}" if when.hour else ""
        return day + part + hour

    async def _choose_hall(self, dispatcher: CollectingDispatcher, tracker: Tracker, service: HallService,
                           category: str) -> list[EventType]:
        district = district_of(tracker)
        if not district:
            dispatcher.utter_message(text="请问您想在哪个区办理？", buttons=district_buttons("book_appointment"))
            return []
        picks, queues = await suggest_halls(service, category, district, shortest_wait=False, bookable_only=True)
        if not picks:
            dispatcher.utter_message(text=f"抱歉，{district}区附近没有可以办理「{category_name(category)}」的大厅。",
                                     buttons=district_buttons("book_appointment"))
            return [SlotSet("district", district)]
        lines = [f"{district}区附近可以办理「{category_name(category)}」的大厅，请选择一个："]
        lines += [f"{i}. {h['name']}：{queue_line(queues.get(h['id']), h)}" for i, h in enumerate(picks, 1)]
        buttons = [{"title": h["name"], "payload": f'/book_appointment{{"hall":"{h["id"]}"}}'} for h in picks]
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        return [SlotSet("district", district)]


class ActionChooseSlot(Action):
    """A slot button: check it is still free, then start the form that collects the booker's details."""

    def name(self) -> str:
        return "action_choose_slot"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        value = entity(tracker, "booking_slot") or ""
        parts = value.split("|")
        if len(parts) != 5:
            dispatcher.utter_message(text="请从上面的时段按钮中选择一个。")
            return [SlotSet("booking_choice", None)]
        hall_id, category, day, start, end = parts
        today = hours.now().date()
        try:
            service = HallService()
            slots = await service.slots(hall_id, category, dt.date.fromisoformat(day))
            hall = await service.hall(hall_id)
        except (HallServiceError, ValueError):
            dispatcher.utter_message(text="这个时段已经无法预约，请重新选择。")
            return [SlotSet("booking_choice", None)]
        slot = next((s for s in slots if s["start"] == start), None)
        if slot is None or not slot["bookable"]:
            why = "刚刚约满了" if slot is not None and slot["available"] == 0 else "已经过了可预约的时间"
            dispatcher.utter_message(text=f"抱歉，这个时段{why}。请回复“预约”重新选择时段。",
                                     buttons=[{"title": "重新选择时段", "payload": "/book_appointment"}])
            return [SlotSet("booking_choice", None)]
        booking_drafts.start(tracker.sender_id, {"hall_id": hall_id, "hall_name": hall["name"], "category": category,
                                                  "date": day, "start": start, "end": end})
        label = slot_label({"date": day, "start": start, "end": end}, today)
        dispatcher.utter_message(text=f"好的，您选择了{hall['name']} {label}。接下来需要预约人的信息（与身份证一致），"
                                      "个人信息仅用于本次预约，显示时会做脱敏处理。")
        return [SlotSet("booking_choice", value)]


class ValidateBookingForm(FormValidationAction):
    """Checks each detail as it is typed; the raw value goes to the server-side draft, the slot gets it masked."""

    def name(self) -> str:
        return "validate_booking_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        # no chosen slot (or the draft expired): nothing to collect, the form ends at once
        if not tracker.get_slot("booking_choice") or booking_drafts.get(tracker.sender_id) is None:
            return []
        return domain_slots

    def _take(self, field: str, clean: Any, mask: Any, value: Any, dispatcher: CollectingDispatcher,
              tracker: Tracker) -> dict[str, Any]:
        try:
            cleaned = clean(value)
        except Invalid as error:
            dispatcher.utter_message(text=error.message)
            return {f"booking_{field}": None}
        booking_drafts.update(tracker.sender_id, **{field: cleaned})  # no draft (expired): the form ends next turn
        return {f"booking_{field}": mask(cleaned)}

    def validate_booking_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        return self._take("name", clean_name, mask_name, value, dispatcher, tracker)

    def validate_booking_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        return self._take("phone", clean_phone, mask_phone, value, dispatcher, tracker)

    def validate_booking_id_number(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        return self._take("id_number", clean_id_number, mask_id, value, dispatcher, tracker)

    def validate_booking_confirm(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> dict[str, Any]:
        answer = read_confirmation(value)
        if answer is None:
            dispatcher.utter_message(text="请点“确认预约”完成预约，或点“先不约了”。")
        return {"booking_confirm": answer}


YES_WORDS = ("确认", "确定", "好", "是", "对", "可以", "行", "约吧", "冇问题", "得")
NO_WORDS = ("不", "别", "算了", "唔", "先不")


def read_confirmation(value: Any) -> bool | None:
    """True / False from the affirm and deny intents, or read from free text; None if it says neither."""
    if isinstance(value, bool):
        return value
    text = str(value or "")
    if any(w in text for w in NO_WORDS):
        return False
    if any(w in text for w in YES_WORDS):
        return True
    return None


class _AskAction(Action):
    """The form's question for one detail (an action, not a response, so it can say why it is asked)."""

    slot = ""
    question = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        dispatcher.utter_message(text=self.question)
        return []


class ActionAskBookingName(_AskAction):
    slot = "booking_name"
    question = "请输入预约人的姓名（与身份证一致）。回复“不约了”可随时停止。"


class ActionAskBookingPhone(_AskAction):
    slot = "booking_phone"
    question = "请输入预约人的手机号码，用于接收预约提醒。"


class ActionAskBookingIdNumber(_AskAction):
    slot = "booking_id_number"
    question = "请输入预约人的身份证号码（18 位），到大厅时请带身份证原件核验。"


class ActionAskBookingConfirm(Action):
    def name(self) -> str:
        return "action_ask_booking_confirm"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        draft = booking_drafts.get(tracker.sender_id)
        if draft is None:
            dispatcher.utter_message(text="预约信息已过期，请回复“预约”重新开始。")
            return [ActiveLoop(None), *_clear()]
        c, today = draft.choice, hours.now().date()
        dispatcher.utter_message(
            text=(f"请确认预约信息：\n业务：{category_name(c['category'])}\n大厅：{c['hall_name']}\n"
                  f"时间：{slot_label(c, today)}\n"
                  f"预约人：{mask_name(draft.name)}，手机 {mask_phone(draft.phone)}，"
                  f"身份证 {mask_id(draft.id_number)}\n确认无误请点“确认预约”。"),
            buttons=[{"title": "确认预约", "payload": "/affirm"}, {"title": "先不约了", "payload": "/deny"}],
            json_message=booking_payload("confirm", "请确认预约信息", [
                ("业务", category_name(c["category"])), ("大厅", c["hall_name"]), ("时间", slot_label(c, today)),
                ("预约人", mask_name(draft.name)), ("手机", mask_phone(draft.phone)),
                ("身份证", mask_id(draft.id_number))], note="确认无误请点“确认预约”。"))
        return []


class ActionSubmitBooking(Action):
    def name(self) -> str:
        return "action_submit_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        draft = booking_drafts.get(tracker.sender_id)
        if draft is None or not tracker.get_slot("booking_choice"):
            return _clear()
        if read_confirmation(tracker.get_slot("booking_confirm")) is not True:
            booking_drafts.drop(tracker.sender_id)
            dispatcher.utter_message(text="好的，本次没有预约，您填写的信息不会保存。需要时随时说“预约”。")
            return _clear()
        c = draft.choice
        request = {"hall_id": c["hall_id"], "category": c["category"], "date": c["date"], "start": c["start"],
                   "name": draft.name, "phone": draft.phone, "id_number": draft.id_number}
        try:
            booked = await HallService().book(request, draft.key)
        except HallServiceError as error:
            if error.code == "unreachable":  # keep the draft: its idempotency key makes a retry book once
                dispatcher.utter_message(text=error.message + "稍后回复“预约”可重新选择时段。")
                return _clear()
            booking_drafts.drop(tracker.sender_id)
            dispatcher.utter_message(text=f"预约没有成功：{error.message}",
                                     buttons=[{"title": "重新选择时段", "payload": "/book_appointment"}])
            return _clear()
        booking_drafts.drop(tracker.sender_id)
        dispatcher.utter_message(text="预约成功！\n" + appointment_text(booked, hours.now().date()) +
                                 "\n请记好预约码，按时带齐材料和身份证原件前往。"
                                 f"如需查询或取消，告诉我“查询预约 {booked['code']}”或“取消预约 {booked['code']}”。",
                                 json_message=_booked_payload(booked))
        return _clear()


def _booked_payload(booked: dict[str, Any]) -> dict[str, Any]:
    """The confirmation card of the web widget: the same facts as appointment_text, personal data masked."""
    person, day = booked["person"], dt.date.fromisoformat(booked["date"])
    return booking_payload("booked", "预约成功", [
        ("预约码", booked["code"]), ("业务", booked["category"]["name"]), ("大厅", booked["hall"]["name"]),
        ("地址", booked["hall"]["address"]),
        ("时间", f"{day_label(day, hours.now().date())} {booked['start']}-{booked['end']}"),
        ("预约人", person["name"]), ("手机", person["phone"]), ("身份证", person["id_number"])],
        note="请记好预约码，按时带齐材料和身份证原件前往。"
             f"如需查询或取消，告诉我“查询预约 {booked['code']}”或“取消预约 {booked['code']}”。", code=booked["code"])


class ActionStopBooking(Action):
    def name(self) -> str:
        return "action_stop_booking"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        booking_drafts.drop(tracker.sender_id)
        dispatcher.utter_message(text="好的，已停止本次预约，您填写的信息不会保存。")
        return [ActiveLoop(None), *_clear()]


def _code(tracker: Tracker) -> str | None:
    return (entity(tracker, "booking_code") or find_code(text_of(tracker)) or "").upper() or None


async def _appointment(dispatcher: CollectingDispatcher, tracker: Tracker, ask_for_code: str
                       ) -> tuple[str, dict[str, Any]] | None:
    """The appointment whose code the message gives; otherwise says what is missing or wrong and returns None."""
    code = _code(tracker)
    if not code:
        dispatcher.utter_message(text=ask_for_code)
        return None
    try:
        return code, await HallService().appointment(code)
    except HallServiceError as error:
        dispatcher.utter_message(text=error.message)
        return None


class ActionLookupBooking(Action):
    def name(self) -> str:
        return "action_lookup_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        found = await _appointment(dispatcher, tracker, "请告诉我预约码（预约成功时给您的 8 位字母和数字），"
                                                       "例如“查询预约 K7M2P9QX”。")
        if found is None:
            return []
        code, booking = found
        buttons = ([{"title": "取消这个预约", "payload": f'/cancel_booking{{"booking_code":"{code}"}}'}]
                   if booking["status"] == "active" else [])
        dispatcher.utter_message(text=appointment_text(booking, hours.now().date()), buttons=buttons)
        return []


class ActionCancelBooking(Action):
    """Shows the booking and asks to confirm; the cancellation itself is action_confirm_cancel."""

    def name(self) -> str:
        return "action_cancel_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        found = await _appointment(dispatcher, tracker, "请告诉我要取消的预约码，例如“取消预约 K7M2P9QX”。")
        if found is None:
            return []
        code, booking = found
        if booking["status"] != "active":
            dispatcher.utter_message(text=f"预约 {code} 已经取消过了，不需要再取消。")
            return []
        dispatcher.utter_message(
            text=appointment_text(booking, hours.now().date()) + "\n确定要取消这个预约吗？",
            buttons=[{"title": "确认取消", "payload": f'/confirm_cancel{{"booking_code":"{code}"}}'},
                     {"title": "保留预约", "payload": "/keep_booking"}])
        return []


class ActionConfirmCancel(Action):
    def name(self) -> str:
        return "action_confirm_cancel"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        code = _code(tracker)
        if not code:
            dispatcher.utter_message(text="请告诉我要取消的预约码。")
            return []
        try:
            await HallService().cancel(code)
        except HallServiceError as error:
            dispatcher.utter_message(text=error.message)
            return []
        dispatcher.utter_message(text=f"预约 {code} 已取消，名额已释放。需要时可以重新预约。")
        return []
