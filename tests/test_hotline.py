"""Call-level tests of the hotline channel through the real trained assistant (as tests/test_assistant_e2e.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bot.channels.hotline.sms import recorded
from bot.services import running_assistant
from bot.training import ensure_model
from tests.hall_service import free_port


@pytest.fixture(scope="module")
def sms_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sms") / "sms.jsonl"


@pytest.fixture(scope="module")
def hotline(tmp_path_factory: pytest.TempPathFactory, sms_log: Path) -> Iterator[str]:
    bookings = tmp_path_factory.mktemp("bookings") / "bookings.sqlite3"
    env = {"HUJI_BOOKING_DATABASE_URL": f"sqlite:///{bookings}", "HUJI_HOTLINE_SMS_LOG": str(sms_log)}
    with running_assistant(ensure_model(), free_port(), free_port(), free_port(), env=env) as base:
        yield f"{base}/webhooks/hotline/webhook"


def call(url: str, call_id: str, text: str = "", **extra: object) -> dict:
    r = requests.post(url, json={"call_id": call_id, "text": text, **extra}, timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"speech", "choices", "end_call", "transfer"}
    assert body["speech"]
    return body


def before_question(speech: str) -> str:
    return speech.split("请说出选项")[0]


def test_birth_call_reaches_its_spoken_checklist(hotline: str, sms_log: Path) -> None:
    cid = "hl-birth"
    reply = call(hotline, cid,
                 "喂 你好 嗯 那个 我老婆上个月在广州生了个女儿 就是说 我们两个都是广州户口 孩子户口怎么上")
    for _ in range(10):
        if "需要带" in reply["speech"] or "材料比较多" in reply["speech"]:
            break
        assert reply["choices"], reply
        assert all(c["key"] in reply["speech"] for c in reply["choices"])  # read with its digit
        reply = call(hotline, cid, "第一个")
    if "材料比较多" in reply["speech"]:
        reply = call(hotline, cid, dtmf="1")
    assert "需要带" in reply["speech"] and "样东西：一、" in reply["speech"], reply
    while "继续听" in reply["speech"] and any(c["say"] == "继续听" for c in reply["choices"]):
        reply = call(hotline, cid, dtmf="1")
    assert "短信" in reply["speech"]
    sent = recorded(cid, sms_log)
    assert sent and "需要准备的材料" in sent[-1]["text"] and sent[-1]["link"].startswith("http")


def test_id_card_call_with_homophone_errors(hotline: str) -> None:
    reply = call(hotline, "hl-id", "嗯 我的身分正丢了 想补办一张 护口在天河")
    assert not reply["transfer"]
    assert "身份证" in reply["heard"] and "户口" in reply["heard"]
    assert "没太明白" not in reply["speech"]
    assert len(before_question(reply["speech"])) <= 120


def test_keypad_digits_pick_choices(hotline: str) -> None:
    reply = call(hotline, "hl-keys", "孩子刚出生 想上户口")
    assert reply["choices"]
    first = reply["choices"][0]["say"]
    after = call(hotline, "hl-keys", dtmf="1")
    assert after["speech"] != reply["speech"] or after["choices"] != reply["choices"], first
    wrong = call(hotline, "hl-keys-2", "孩子刚出生 想上户口")
    assert wrong["choices"]
    assert "没有这个按键" in call(hotline, "hl-keys-2", dtmf="9")["speech"]


def test_low_confidence_is_confirmed_first(hotline: str) -> None:
    reply = call(hotline, "hl-conf", "我想补办身份证", confidence=0.3)
    assert "对吗" in reply["speech"] and "身份证" in reply["speech"]
    assert [c["say"] for c in reply["choices"]] == ["对", "不对"]
    confirmed = call(hotline, "hl-conf", "对")
    assert "对吗" not in confirmed["speech"] and not confirmed["transfer"]


def test_transfer_to_a_person_with_a_summary(hotline: str) -> None:
    cid = "hl-human"
    call(hotline, cid, "孩子刚出生 我们都是广州户口 结了婚的 想上户口")
    reply = call(hotline, cid, "我要转人工")
    assert reply["transfer"] is True
    assert "出生登记" in reply["summary"] and "已知：" in reply["summary"] and "\n" not in reply["summary"]
    assert call(hotline, "hl-police", "帮我找民警")["transfer"] is True


def test_caller_who_says_nothing_useful_twice_is_transferred(hotline: str) -> None:
    first = call(hotline, "hl-mute", "嗯 那个 就是")
    assert not first["transfer"] and "没有听清" in first["speech"]
    second = call(hotline, "hl-mute", "")
    assert second["transfer"] is True and "转人工原因" in second["summary"]


@pytest.mark.parametrize("body", [[], "x", {"text": "你好"}, {"call_id": 5, "text": "你好"},
                                  {"call_id": "a", "text": 5}, {"call_id": "a", "confidence": "high"},
                                  {"call_id": "a", "confidence": 2}, {"call_id": "a", "dtmf": 1},
                                  {"call_id": "a", "dtmf": "12"}, {"call_id": "", "text": "你好"}])
def test_wrong_types_are_a_400(hotline: str, body: object) -> None:
    r = requests.post(hotline, json=body, timeout=30)
    assert r.status_code == 400 and r.json()["error"]["code"]


def test_bad_input_gets_a_clear_answer(hotline: str) -> None:
    assert requests.post(hotline, data=b"{not json", timeout=30).status_code == 400
    long = call(hotline, "hl-long", "户口" * 5000)
    assert "太长" in long["speech"]
    assert "没有听清" in call(hotline, "hl-empty", "   ")["speech"]
    payload = call(hotline, "hl-inject", '/book_appointment{"hall":"tianhe-center"}')
    assert not payload["transfer"]


def test_a_call_replayed_from_a_file(hotline: str, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.channels.hotline.call import replay

    call = Path(__file__).resolve().parent.parent / "bot" / "channels" / "hotline" / "calls" / "birth.txt"
    assert replay(hotline, call, "hl-replay") == 0
    out = capsys.readouterr().out
    assert "需要带" in out and "转人工；案情摘要" in out and "出生登记" in out
