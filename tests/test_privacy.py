"""Personal data is masked before it is stored."""

from __future__ import annotations

import asyncio

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.privacy import mask
from bot.tracker_store import MaskingTrackerStore

ID = "440106199001011234"


def test_id_and_mobile_numbers_are_masked() -> None:
    assert mask(f"我的身份证是{ID}，电话13812345678") == "我的身份证是4401************34，电话138****5678"
    assert mask("身份证44010619900101123X") == "身份证4401************3X"


def test_other_numbers_are_left_alone() -> None:
    for text in ["出生一年多了", "办理时限 15 个工作日", "订单号 12345678901234567890123", "2026-11-25"]:
        assert mask(text) == text


def test_stored_history_is_masked() -> None:
    store = MaskingTrackerStore(Domain.empty())
    tracker = DialogueStateTracker("citizen", [])
    tracker.update(UserUttered(f"我的身份证号是{ID}", parse_data={"text": f"我的身份证号是{ID}"}))
    asyncio.run(store.save(tracker))
    stored = store.store["citizen"]
    assert ID not in stored and "4401************34" in stored
    loaded = asyncio.run(store.retrieve("citizen"))
    assert loaded.latest_message.text == "我的身份证号是4401************34"
