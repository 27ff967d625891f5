"""Personal data is masked before it is stored."""

from __future__ import annotations

import asyncio

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.privacy import mask
from bot.tracker_store import MaskingTrackerStore

ID = "440106199001011234"


def test_id_and_mobile_numbers_are_masked() -> None:
    assert mask(f"我的身份证是{ID}，电话13812345678") == "我的身份证是440106********1234，电话138****5678"
    assert mask("身份证44010619900101123X") == "身份证440106********123X"


def test_other_numbers_are_left_alone() -> None:
    for text in ["出生一年多了", "办理时限 15 个工作日", "订单号 12345678901234567890123", "2026-11-25"]:
        assert mask(text) == text


def test_stored_history_is_masked() -> None:
    store = MaskingTrackerStore(Domain.empty())
    tracker = DialogueStateTracker("citizen", [])
    tracker.update(UserUttered(f"我的身份证号是{ID}", parse_data={"text": f"我的身份证号是{ID}"}))
    asyncio.run(store.save(tracker))
    stored = store.stored_text("citizen")
    assert ID not in stored and "440106********1234" in stored
    loaded = asyncio.run(store.retrieve("citizen"))
    assert loaded.latest_message.text == "我的身份证号是440106********1234"


def test_the_answer_to_the_name_question_is_stored_masked() -> None:
    store = MaskingTrackerStore(Domain.empty())
    tracker = DialogueStateTracker("citizen", [])
    tracker.update(UserUttered("我想预约", parse_data={"text": "我想预约"}))
    tracker.update(SlotSet("requested_slot", "booking_name"))
    tracker.update(UserUttered("欧阳娜娜", parse_data={"text": "欧阳娜娜"}))
    tracker.update(SlotSet("booking_name", "欧阳娜娜"))
    tracker.update(SlotSet("requested_slot", "booking_phone"))
    tracker.update(UserUttered("13812345678", parse_data={"text": "13812345678"}))
    asyncio.run(store.save(tracker))
    stored = store.stored_text("citizen")
    assert "欧阳娜娜" not in stored and "欧***" in stored
    assert "我想预约" in stored  # other messages are kept as said
    assert "13812345678" not in stored and "138****5678" in stored


def test_numbers_in_the_stored_history_stay_valid_json() -> None:
    store = MaskingTrackerStore(Domain.empty())
    tracker = DialogueStateTracker("citizen", [])
    # a confidence whose digits look like a mobile number must not be masked into invalid JSON
    tracker.update(UserUttered("你好", parse_data={"text": "你好", "intent": {"name": "greet",
                                                                            "confidence": 0.13812345678}}))
    asyncio.run(store.save(tracker))
    loaded = asyncio.run(store.retrieve("citizen"))
    assert loaded is not None and loaded.latest_message.intent["confidence"] == 0.13812345678
