"""End to end: the trained assistant and the action server, spoken to over Rasa's REST channel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from stdnum.cn import ric

from bot.services import running_assistant
from bot.settings import api_params
from bot.training import ensure_model
from tests.hall_service import free_port


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    bookings = tmp_path_factory.mktemp("bookings") / "bookings.sqlite3"
    env = {"HUJI_BOOKING_DATABASE_URL": f"sqlite:///{bookings}",
           "HUJI_TRACKER_DB_URL": f"sqlite:///{bookings.parent / 'tracker.sqlite3'}"}
    with running_assistant(ensure_model(), free_port(), free_port(), free_port(), env=env) as base:
        yield base


def say(base: str, sender: str, text: str) -> list[dict]:
    response = requests.post(f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    assert response.status_code == 200
    return response.json()


def slots(base: str, sender: str) -> dict:
    return requests.get(f"{base}/conversations/{sender}/tracker", params=api_params(), timeout=30).json()["slots"]


def test_birth_consultation_over_rest(assistant: str) -> None:
    sender = "e2e-birth"
    replies = say(assistant, sender, "我老婆上个月在广州生了个女儿,我们都是广州户口,孩子户口怎么上")
    assert replies and replies[-1].get("buttons")
    state = slots(assistant, sender)
    assert state["category"] == "birth"
    assert state["answers"]["marital"] == "married"
    for _ in range(10):
        if not state["pending_question"]:
            break
        replies = say(assistant, sender, replies[-1]["buttons"][0]["payload"])
        state = slots(assistant, sender)
    assert state["scenario"], "a scenario was reached"
    assert any("需要准备的材料" in (r.get("text") or "") for r in replies)


def test_greeting_and_human_help_over_rest(assistant: str) -> None:
    assert "网上户籍室" in say(assistant, "e2e-hi", "你好")[0]["text"]
    assert "12345" in say(assistant, "e2e-hi", "我要转人工")[0]["text"]


def test_empty_and_emoji_messages_get_an_answer(assistant: str) -> None:
    for text in ["😀😀😀", "？？？"]:
        replies = say(assistant, "e2e-bad", text)
        assert replies and replies[0].get("text")


def test_stored_history_masks_personal_data(assistant: str) -> None:
    say(assistant, "e2e-pii", "我电话13812345678，身份证440106199001011234，孩子刚出生怎么上户口")
    tracker = requests.get(f"{assistant}/conversations/e2e-pii/tracker", params=api_params(), timeout=30).text
    assert "13812345678" not in tracker and "440106199001011234" not in tracker
    assert "138****5678" in tracker


def valid_id(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")  # stdnum reads the first 17 of 18 characters


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def buttons(replies: list[dict]) -> list[dict]:
    return [b for r in replies for b in (r.get("buttons") or [])]


def test_find_a_hall_with_live_queue_and_slots(assistant: str) -> None:
    replies = say(assistant, "e2e-hall", "天河哪里可以办身份证")
    text = texts(replies)
    assert "天河区附近可以办理「居民身份证申领换领补领」的大厅" in text
    assert "天河区公安分局户政办证中心" in text or "天河区" in text
    assert "排队" in text or "不在办公时间" in text
    assert any(b["payload"].startswith("/book_appointment") for b in buttons(replies))
    quiet = texts(say(assistant, "e2e-hall", "现在哪个大厅人少"))
    assert "按现在的等候时间排序" in quiet


def test_booking_in_the_conversation_then_look_up_and_cancel(assistant: str) -> None:
    sender, person_id = "e2e-book", valid_id("44010619900307123")
    replies = say(assistant, sender, "帮我约天河区的大厅办身份证")
    assert "天河区附近可以办理「居民身份证申领换领补领」的大厅" in texts(replies)
    hall_button = next(b for b in buttons(replies) if b["payload"].startswith('/book_appointment{"hall"'))
    replies = say(assistant, sender, hall_button["payload"])
    slot_button = next(b for b in buttons(replies) if b["payload"].startswith("/choose_slot"))
    replies = say(assistant, sender, slot_button["payload"])
    assert "姓名" in texts(replies)
    assert "手机" in texts(say(assistant, sender, "张三丰"))
    assert "身份证" in texts(say(assistant, sender, "138 1234 5678"))
    wrong_check_digit = person_id[:-1] + ("1" if person_id[-1] != "1" else "2")
    assert "校验不通过" in texts(say(assistant, sender, wrong_check_digit))
    replies = say(assistant, sender, person_id)
    summary = texts(replies)
    assert "张**" in summary and "138****5678" in summary and person_id not in summary and "张三丰" not in summary
    replies = say(assistant, sender, "/affirm")
    done = texts(replies)
    assert "预约成功" in done, done
    code = done.split("预约码：")[1][:8]
    tracker = requests.get(f"{assistant}/conversations/{sender}/tracker", params=api_params(), timeout=30).text
    assert "张三丰" not in tracker and person_id not in tracker and "13812345678" not in tracker

    looked_up = texts(say(assistant, sender, f"查询预约 {code}"))
    assert code in looked_up and "有效" in looked_up and "张**" in looked_up
    replies = say(assistant, sender, f"取消预约 {code}")
    confirm = next(b for b in buttons(replies) if b["title"] == "确认取消")
    assert "已取消" in texts(say(assistant, sender, confirm["payload"]))
    assert "已取消" in texts(say(assistant, sender, f"查询预约 {code}"))


def test_stopping_a_booking_midway_keeps_nothing(assistant: str) -> None:
    sender = "e2e-stop"
    replies = say(assistant, sender, '/book_appointment{"hall":"tianhe-center","category":"id_card"}')
    slot_button = next(b for b in buttons(replies) if b["payload"].startswith("/choose_slot"))
    say(assistant, sender, slot_button["payload"])
    say(assistant, sender, "李四")
    assert "停止" in texts(say(assistant, sender, "算了不约了"))
    state = slots(assistant, sender)
    assert state["booking_choice"] is None and state["booking_name"] is None
