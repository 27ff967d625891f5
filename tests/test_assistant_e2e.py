"""End to end: the trained assistant and the action server, spoken to over Rasa's REST channel."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import requests

from bot.services import running_assistant
from bot.training import ensure_model


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def assistant() -> Iterator[str]:
    with running_assistant(ensure_model(), free_port(), free_port()) as base:
        yield base


def say(base: str, sender: str, text: str) -> list[dict]:
    response = requests.post(f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    assert response.status_code == 200
    return response.json()


def slots(base: str, sender: str) -> dict:
    return requests.get(f"{base}/conversations/{sender}/tracker", timeout=30).json()["slots"]


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
    tracker = requests.get(f"{assistant}/conversations/e2e-pii/tracker", timeout=30).text
    assert "13812345678" not in tracker and "440106199001011234" not in tracker
    assert "138****5678" in tracker
