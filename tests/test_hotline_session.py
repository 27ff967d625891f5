"""A call's state between turns: in memory for one process, in a real Redis for several Rasa instances."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bot.catalog.model import Catalog
from bot.channels.hotline.session import CALL_TTL, CallState, MemoryCalls, RedisCalls, make_calls
from bot.channels.hotline.speech import Choice
from bot.channels.normalize import Normalizer
from tests.conftest import REDIS_URL, throwaway_redis_prefix
from tests.hall_service import free_port


def sample_state(call_id: str) -> CallState:
    state = CallState(call_id, choices=[Choice("1", "是", '/consult{"fact":"birth:married=yes"}')], failures=1,
                      pending="补办身份证", pages=["三、结婚证。"],
                      after_pages=("还需要了解去哪里办吗？", [Choice("1", "去哪里办", "/find_hall")]),
                      sms_sent_for="birth-both-local", extras_read=["ethnicity"])
    state.remember("我的身份证号是440106199001011235，电话13812345678")
    return state


@pytest.fixture()
def prefix() -> Iterator[str]:
    with throwaway_redis_prefix("hotline") as prefix:
        yield prefix


def test_state_survives_a_round_trip() -> None:
    state = sample_state("c1")
    again = CallState.from_json(state.to_json())
    assert again == state
    assert "440106199001011235" not in state.to_json() and "13812345678" not in state.to_json()


def test_memory_keeps_a_call_until_it_expires() -> None:
    async def run() -> None:
        calls = MemoryCalls()
        await calls.save(sample_state("c1"))
        assert (await calls.load("c1")).failures == 1
        assert (await calls.load("other")) == CallState("other")
        short = MemoryCalls(ttl=0.0)
        await short.save(sample_state("c1"))
        await asyncio.sleep(0.01)
        assert (await short.load("c1")).failures == 0

    asyncio.run(run())


def test_two_instances_share_a_call_through_redis(prefix: str) -> None:
    import redis

    async def run() -> None:
        first, second = RedisCalls(REDIS_URL, prefix), RedisCalls(REDIS_URL, prefix)
        try:
            await first.save(sample_state("+8613812345678-call-7"))
            assert await second.load("+8613812345678-call-7") == sample_state("+8613812345678-call-7")
            state = await second.load("+8613812345678-call-7")
            state.failures = 0
            state.choices = []
            await second.save(state)
            back = await first.load("+8613812345678-call-7")
            assert back.failures == 0 and back.choices == []
        finally:
            await first.close()
            await second.close()

    asyncio.run(run())
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    keys = list(client.scan_iter(prefix + "*"))
    assert len(keys) == 1 and "13812345678" not in keys[0]  # the call id is hashed
    assert 0 < client.ttl(keys[0]) <= CALL_TTL


def test_redis_only_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUJI_REDIS_URL", raising=False)
    assert isinstance(make_calls(), MemoryCalls)
    monkeypatch.setenv("HUJI_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("HUJI_HOTLINE_REDIS_PREFIX", "huji-test:x:")
    calls = make_calls()
    assert isinstance(calls, RedisCalls) and calls.key("a").startswith("huji-test:x:")


def test_a_call_goes_on_when_redis_is_away(catalog: Catalog) -> None:
    """Redis down (nothing listens on the port): the caller still gets an answer instead of an HTTP 500."""
    from bot.channels.hotline.channel import Hotline
    from bot.channels.hotline.sms import RecordingSms

    async def send(_: str, text: str) -> list[dict]:
        return [{"text": "请问孩子在哪里出生？", "buttons": [{"title": "广州", "payload": "/consult"}]}]

    async def no_tracker(_: str) -> dict:
        return {}

    async def run() -> dict:
        calls = RedisCalls(f"redis://127.0.0.1:{free_port()}/0", "huji-test:away:")
        hotline = Hotline(send, no_tracker, RecordingSms(), catalog=catalog,
                          normalizer=Normalizer.for_catalog(catalog), finder=object(), calls=calls)
        return await hotline.turn("c-away", "孩子刚出生想上户口", None, None)

    reply = asyncio.run(run())
    assert "孩子在哪里出生" in reply["speech"] and "广州请按1" in reply["speech"]
