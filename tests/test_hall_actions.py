"""The hall and booking actions against a real hall service (halls, live queues, slots, bookings on SQLite).

The clock is fixed for the service and the actions alike, so the answers do not depend on when the tests run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from stdnum.cn import ric

from actions import booking_drafts
from actions.booking import ActionAskBookingConfirm, ActionSubmitBooking, ValidateBookingForm, read_confirmation
from bot.api.app import create_app
from bot.catalog.model import Catalog
from bot.halls import hours
from bot.nlu.matcher import PhraseFinder
from bot.queue.keys import hall_key
from tests.conversation import Conversation
from tests.hall_service import free_port, serving

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=hours.TZ)  # a Thursday morning
SECRET = "test-secret"


@pytest.fixture(scope="module")
def hall_service(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('bookings')) / 'bookings.sqlite3'}"
    app = create_app(catalog, booking_url=url, queue_secret=SECRET, clock=lambda: NOW)
    with serving(app) as base:
        yield base


@pytest.fixture()
def service(hall_service: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("HUJI_HALLS_URL", hall_service)
    monkeypatch.setenv("HUJI_BOOKING_DATABASE_URL", f"sqlite:///{tmp_path / 'drafts.sqlite3'}")  # booking drafts
    monkeypatch.setattr(hours, "now", lambda: NOW)
    return hall_service


def push(base: str, hall_id: str, events: list[dict]) -> None:
    response = requests.post(f"{base}/api/halls/{hall_id}/queue/events", json={"events": events},
                             headers={"X-Hall-Key": hall_key(SECRET, hall_id)}, timeout=10)
    assert response.status_code == 200, response.text


def queue_of(base: str, hall_id: str, waiting: int, counters: int) -> None:
    at = (NOW - dt.timedelta(minutes=3)).isoformat()
    events = [{"type": "counter_opened", "counter": c, "at": at} for c in range(1, counters + 1)]
    events += [{"type": "ticket_issued", "ticket": f"{hall_id[:2]}{n:03d}", "at": at} for n in range(waiting)]
    push(base, hall_id, events)


def valid_id(body: str = "44010619900307123") -> str:
    return body + ric.calc_check_digit(body + "0")


def test_halls_near_a_district_with_live_wait_and_free_slots(service: str, finder: PhraseFinder) -> None:
    queue_of(service, "tianhe-center", waiting=12, counters=4)
    talk = Conversation(finder, sender_id="find")
    talk.slots["hall_category"] = "id_card"
    talk.say("天河哪里可以办", intent="find_hall")
    assert "天河区附近可以办理「居民身份证申领换领补领」的大厅" in talk.text
    assert "天河区公安分局户政办证中心" in talk.text
    assert re.search(r"现在排队 12 人，开放 4 个窗口，预计等候约 \d+ 分钟", talk.text)
    assert "最近可预约：今天 11月26日（周四） 11:00-12:00" in talk.text  # 10:00 has started: not bookable
    assert "尚未核实" in talk.text  # the halls' filler addresses are flagged once
    assert talk.slots["district"] == "天河"
    assert all(b["payload"].startswith("/book_appointment") for b in talk.buttons)


def test_shortest_wait_ranks_live_figures_first(service: str, finder: PhraseFinder) -> None:
    queue_of(service, "yuexiu-center", waiting=0, counters=3)
    talk = Conversation(finder, sender_id="quick")
    talk.say("现在哪个大厅人少", intent="find_hall")
    assert "请问您要办理哪项业务" in talk.text  # no business known yet
    talk.press("居民身份证")
    assert "按现在的等候时间排序" in talk.text
    first = talk.text.split("\n")[1]
    assert "越秀区公安分局" in first or "预计等候约 0 分钟" in talk.text


def test_booking_offers_the_asked_time_then_books_and_cancels(service: str, finder: PhraseFinder) -> None:
    talk = Conversation(finder, sender_id="booker")
    talk.say("帮我约明天上午", intent="book_appointment")
    assert "哪项业务" in talk.text
    talk.press("居民身份证")
    assert "哪个区" in talk.text
    talk.press("天河区")
    talk.press("天河区公安分局户政办证中心")
    assert "请选择一个时段" in talk.text and "想约其他日期" not in talk.text  # a day was asked for
    titles = [b["title"] for b in talk.buttons]
    assert titles == [f"明天 11月27日（周五） {s}" for s in ("09:00-10:00", "10:00-11:00", "11:00-12:00")]
    talk.press("10:00-11:00")
    assert "您选择了天河区公安分局户政办证中心 明天 11月27日（周五） 10:00-11:00" in talk.text
    draft = booking_drafts.get("booker")
    assert draft is not None and draft.choice["start"] == "10:00"

    form = ValidateBookingForm()
    tracker = Tracker("booker", {}, {}, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    assert form.validate_booking_name("王小明", dispatcher, tracker, {}) == {"booking_name": "王**"}
    assert form.validate_booking_phone("12345", dispatcher, tracker, {}) == {"booking_phone": None}
    assert "11 位" in dispatcher.messages[-1]["text"]
    assert form.validate_booking_phone("+86 138-1234-5678", dispatcher, tracker, {}) == \
        {"booking_phone": "138****5678"}
    person = valid_id()
    assert form.validate_booking_id_number(person, dispatcher, tracker, {})["booking_id_number"].endswith("1231")
    draft = booking_drafts.get("booker")  # read back from the shared store
    assert (draft.name, draft.phone, draft.id_number) == ("王小明", "13812345678", person)
    dispatcher = CollectingDispatcher()
    ActionAskBookingConfirm().run(dispatcher, tracker, {})
    summary = dispatcher.messages[0]["text"]
    assert "大厅：天河区公安分局户政办证中心" in summary and "王**" in summary and "138****5678" in summary
    assert person not in summary and [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["确认预约", "先不约了"]

    slots = {"booking_choice": talk.slots["booking_choice"], "booking_confirm": True}
    tracker = Tracker("booker", slots, {}, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionSubmitBooking().run(dispatcher, tracker, {}))
    done = dispatcher.messages[0]["text"]
    assert "预约成功" in done and "王**" in done and person not in done and "13812345678" not in done
    code = done.split("预约码：")[1][:8]
    assert booking_drafts.get("booker") is None

    talk.say(f"查询预约 {code}", intent="my_booking")
    assert code in talk.text and "有效" in talk.text and "10:00-11:00" in talk.text
    talk.say(f"取消预约 {code.lower()}", intent="cancel_booking")
    assert "确定要取消" in talk.text
    talk.press("确认取消")
    assert "已取消" in talk.text
    talk.say(f"查询预约 {code}", intent="my_booking")
    assert "已取消" in talk.text


def test_a_slot_that_has_started_cannot_be_chosen(service: str, finder: PhraseFinder) -> None:
    talk = Conversation(finder, sender_id="late")
    talk.say('/choose_slot{"booking_slot":"tianhe-center|id_card|2026-11-26|09:00|10:00"}')
    assert "已经过了可预约的时间" in talk.text  # 09:00 today has started
    assert talk.slots["booking_choice"] is None


def test_an_unconfirmed_booking_is_dropped(service: str) -> None:
    booking_drafts.start("undecided", {"hall_id": "tianhe-center", "hall_name": "天河区公安分局户政办证中心",
                                       "category": "id_card", "date": "2026-11-27", "start": "09:00", "end": "10:00"})
    tracker = Tracker("undecided", {"booking_choice": "x", "booking_confirm": "先不约了"}, {}, [], False, None, {},
                      "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionSubmitBooking().run(dispatcher, tracker, {}))
    assert "没有预约" in dispatcher.messages[0]["text"]
    assert booking_drafts.get("undecided") is None


def test_confirmation_words() -> None:
    assert read_confirmation(True) is True and read_confirmation(False) is False
    assert read_confirmation("确认") is True and read_confirmation("好的") is True
    assert read_confirmation("算了") is False and read_confirmation("先不约了") is False
    assert read_confirmation("今天天气") is None


def test_an_unreachable_service_gets_a_clear_answer(finder: PhraseFinder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUJI_HALLS_URL", f"http://127.0.0.1:{free_port()}")
    talk = Conversation(finder, sender_id="down")
    talk.slots["hall_category"] = "birth"
    talk.say("天河哪里可以办", intent="find_hall")
    assert "暂时连接不上" in talk.text


def test_the_consulted_scenario_s_place_rule_comes_first(service: str, finder: PhraseFinder) -> None:
    talk = Conversation(finder, sender_id="after-checklist")
    talk.slots.update(category="birth", scenario="birth_married_in_time")
    talk.say("/find_hall")
    assert talk.text.startswith("请注意办理地点要求：")
    assert "户口所在的区" in talk.text
