"""Call-level tests of the hotline channel through the real trained assistant (as tests/test_assistant_e2e.py)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bot.catalog.model import Catalog
from bot.channels.hotline.sms import recorded
from bot.channels.hotline.speech import PREFACE_LIMIT
from bot.nlu.matcher import parse_fact
from bot.services import running_assistant
from bot.training import ensure_model
from tests.conftest import REDIS_URL, throwaway_redis_prefix
from tests.hall_service import free_port

# where the question starts in a spoken answer: the choices, the next page, the question after a checklist
QUESTION_STARTS = re.compile(r"请说出选项|还有[一二两三四五六七八九十]+段|完整清单和一次性告知单已经用短信发给您，|"
                             r"更新后的清单已经用短信发给您，|有的情况还要多带材料|还需要了解去哪里办")


@pytest.fixture(scope="module")
def sms_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sms") / "sms.jsonl"


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    with throwaway_redis_prefix("hotline") as prefix:
        yield prefix


@pytest.fixture(scope="module")
def hotline(tmp_path_factory: pytest.TempPathFactory, sms_log: Path, redis_prefix: str) -> Iterator[str]:
    """The assistant with its call state in Redis (a throwaway prefix), as several instances would run."""
    bookings = tmp_path_factory.mktemp("bookings") / "bookings.sqlite3"
    env = {"HUJI_BOOKING_DATABASE_URL": f"sqlite:///{bookings}", "HUJI_HOTLINE_SMS_LOG": str(sms_log),
           "HUJI_REDIS_URL": REDIS_URL, "HUJI_HOTLINE_REDIS_PREFIX": redis_prefix}
    with running_assistant(ensure_model(), free_port(), free_port(), free_port(), env=env) as base:
        yield f"{base}/webhooks/hotline/webhook"


def new_call(name: str) -> str:
    """A call id not seen before (conversations are kept in the tracker store between test runs)."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def call(url: str, call_id: str, text: str = "", **extra: object) -> dict:
    r = requests.post(url, json={"call_id": call_id, "text": text, **extra}, timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"speech", "choices", "end_call", "transfer"}
    assert body["speech"]
    return body


def before_question(speech: str) -> str:
    m = QUESTION_STARTS.search(speech)
    return speech[:m.start()] if m else speech


def birth_call_to_checklist(url: str, cid: str) -> list[dict]:
    """A birth call answered "第一个" until its checklist has been read to the end; every reply of it."""
    said = "喂 你好 嗯 那个 我老婆上个月在广州生了个女儿 就是说 我们两个都是广州户口 孩子户口怎么上"
    replies = [call(url, cid, said)]
    for _ in range(10):
        if "需要带" in replies[-1]["speech"]:
            break
        assert replies[-1]["choices"], replies[-1]
        assert all(f"请按{c['key']}" in replies[-1]["speech"] for c in replies[-1]["choices"])  # read with its digit
        replies.append(call(url, cid, "第一个"))
    assert "需要带" in replies[-1]["speech"] and "样东西：一、" in replies[-1]["speech"], replies[-1]
    while [c["say"] for c in replies[-1]["choices"]] == ["继续听"]:
        replies.append(call(url, cid, dtmf="1"))
    return replies


def test_birth_call_reaches_its_spoken_checklist(hotline: str, sms_log: Path) -> None:
    cid = new_call("hl-birth")
    replies = birth_call_to_checklist(hotline, cid)
    for reply in replies:
        assert len(before_question(reply["speech"])) <= PREFACE_LIMIT, reply["speech"]
    assert "短信" in replies[-1]["speech"]
    sent = recorded(cid, sms_log)
    assert sent and "需要准备的材料" in sent[-1]["text"] and sent[-1]["link"].startswith("http")


def test_a_conditional_extra_is_a_spoken_choice(hotline: str, sms_log: Path) -> None:
    cid = new_call("hl-extra")
    last = birth_call_to_checklist(hotline, cid)[-1]
    assert "您属于以下情况吗" in last["speech"]
    ethnicity = next(c for c in last["choices"] if "民族" in c["say"])
    assert f"{ethnicity['say']}请按{ethnicity['key']}" in last["speech"]
    reply = call(hotline, cid, dtmf=ethnicity["key"])
    assert reply["speech"].startswith(f"好的，{ethnicity['say']}的情况，"), reply
    assert len(before_question(reply["speech"])) <= PREFACE_LIMIT, reply["speech"]
    assert "更新后的清单" in reply["speech"]
    assert all(ethnicity["say"] != c["say"] for c in reply["choices"])  # not offered again
    assert "民族" in recorded(cid, sms_log)[-1]["text"]


def test_another_instance_takes_the_next_turn(hotline: str, redis_prefix: str, catalog: Catalog) -> None:
    """Several Rasa instances behind one URL: the keypad digit reaches one that did not offer the choices."""
    from bot.channels.hotline.channel import Hotline
    from bot.channels.hotline.session import RedisCalls
    from bot.channels.hotline.sms import RecordingSms

    cid = new_call("hl-shared")
    offered = call(hotline, cid, "孩子刚出生 想上户口")["choices"]
    assert offered
    sent: list[str] = []

    async def send(_: str, text: str) -> list[dict]:
        sent.append(text)
        return [{"text": "好的，已记下。请问孩子在哪里出生？"}]

    async def no_tracker(_: str) -> dict:
        return {}

    async def other_instance() -> dict:
        calls = RedisCalls(REDIS_URL, redis_prefix)
        try:
            other = Hotline(send, no_tracker, RecordingSms(), catalog=catalog, normalizer=object(),
                            finder=object(), calls=calls)
            return await other.turn(cid, "", None, "1")
        finally:
            await calls.close()

    reply = asyncio.run(other_instance())
    assert "孩子在哪里出生" in reply["speech"]
    fact = parse_fact(re.search(r'"fact":"([^"]+)"', sent[0]).group(1))
    category, question, option = fact
    assert catalog.trees[category].question(question).option(option).label == offered[0]["say"]


def test_id_card_call_with_homophone_errors(hotline: str) -> None:
    reply = call(hotline, "hl-id", "嗯 我的身分正丢了 想补办一张 护口在天河")
    assert not reply["transfer"]
    assert "身份证" in reply["heard"] and "户口" in reply["heard"]
    assert "没太明白" not in reply["speech"]
    assert len(before_question(reply["speech"])) <= PREFACE_LIMIT


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
