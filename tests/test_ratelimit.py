"""Per-sender rate limit: token buckets in memory and in Redis, and the answer each channel gives over the limit."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from rasa.core.channels.channel import UserMessage

from bot.channels import ratelimit
from bot.channels.ratelimit import TOO_FAST, MemoryBuckets, RedisBuckets
from bot.channels.wechat.channel import WeChatInput
from bot.channels.wechat.protocol import Incoming
from bot.services import running_assistant
from bot.training import ensure_model
from tests.hall_service import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"
TOKEN = "ratelimit-token"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def allowed(limiter: ratelimit.Limiter, sender: str, times: int) -> list[bool]:
    async def send() -> list[bool]:
        return [await limiter.allow(sender) for _ in range(times)]

    return asyncio.run(send())


def test_memory_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    clock = Clock()
    buckets = MemoryBuckets(burst=3, per_second=0.5, clock=clock)
    assert allowed(buckets, "alice", 5) == [True, True, True, False, False]
    assert allowed(buckets, "bob", 1) == [True]  # each sender has its own bucket
    clock.now += 1.0  # half a message earned: still refused
    assert allowed(buckets, "alice", 1) == [False]
    clock.now += 1.0
    assert allowed(buckets, "alice", 2) == [True, False]
    clock.now += 3600  # a long pause refills to the burst, not beyond
    assert allowed(buckets, "alice", 4) == [True, True, True, False]


def test_memory_buckets_stay_bounded_and_keep_no_sender_in_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "MAX_SENDERS", 50)
    buckets = MemoryBuckets(burst=1, per_second=0.01, clock=Clock())
    for n in range(200):
        allowed(buckets, f"oOpenId-{n}", 1)
    assert len(buckets._buckets) == 50
    assert not any("oOpenId" in key for key in buckets._buckets)


@pytest.fixture()
def redis_prefix() -> Iterator[str]:
    prefix = f"test:rate:{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)
    client.close()


def test_redis_buckets_are_shared_by_processes(redis_prefix: str) -> None:
    async def run() -> tuple[list[bool], list[bool], list[bool]]:
        first, second = (RedisBuckets(REDIS_URL, burst=3, per_second=20, prefix=redis_prefix) for _ in range(2))
        try:
            a = [await first.allow("oCitizen") for _ in range(2)]
            b = [await second.allow("oCitizen") for _ in range(2)]  # the other process sees the same bucket
            await asyncio.sleep(0.12)  # 20 a second: two messages earned
            c = [await first.allow("oCitizen") for _ in range(3)]
            return a, b, c
        finally:
            await first.redis.close()
            await second.redis.close()

    a, b, c = asyncio.run(run())
    assert a == [True, True] and b == [True, False] and c == [True, True, False]
    client = redis.Redis.from_url(REDIS_URL)
    keys = [k.decode() for k in client.scan_iter(redis_prefix + "*")]
    assert len(keys) == 1 and "oCitizen" not in keys[0]  # hashed sender
    assert 0 < client.ttl(keys[0]) <= 2  # forgotten once it would be full again
    client.close()


def test_redis_down_lets_citizens_through() -> None:
    async def run() -> bool:
        down = RedisBuckets(f"redis://127.0.0.1:{free_port()}/0", burst=1, per_second=0.01)
        return all([await down.allow("oCitizen") for _ in range(3)])

    assert asyncio.run(run())


def test_configuration_picks_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUJI_REDIS_URL", raising=False)
    assert isinstance(ratelimit.configured(), MemoryBuckets)
    monkeypatch.setenv("HUJI_REDIS_URL", REDIS_URL)
    assert isinstance(ratelimit.configured(), RedisBuckets)
    monkeypatch.setenv("HUJI_RATE_PER_MINUTE", "0")
    assert isinstance(ratelimit.configured(), ratelimit.Unlimited)


def test_wechat_answers_politely_over_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "_limiter", MemoryBuckets(burst=2, per_second=0.001))
    channel = WeChatInput(token="t", appid="wx-test")
    turns: list[str] = []

    async def on_new_message(message: UserMessage) -> None:
        turns.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, "您好")

    async def run() -> list[list[str]]:
        return [await channel._answer(Incoming("text", "oFast", "gh_x", n, f"msg-{n}", text=f"第{n}条"),
                                      on_new_message) for n in range(3)]

    answers = asyncio.run(run())
    assert answers[:2] == [["您好"], ["您好"]] and answers[2] == [TOO_FAST]
    assert turns == ["第0条", "第1条"]  # the third never reached the assistant


@pytest.fixture(scope="module")
def limited_assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("ratelimit")
    env = {"HUJI_BOOKING_DATABASE_URL": f"sqlite:///{tmp / 'bookings.sqlite3'}", "HUJI_API_TOKEN": TOKEN,
           "HUJI_TRACKER_DB_URL": f"sqlite:///{tmp / 'tracker.sqlite3'}", "HUJI_RATE_BURST": "2",
           "HUJI_RATE_PER_MINUTE": "1", "HUJI_REDIS_URL": ""}
    with running_assistant(ensure_model(), free_port(), free_port(), free_port(), env=env,
                           log_dir=Path(tmp)) as base:
        yield base


def test_rest_answers_politely_over_the_limit_without_parsing(limited_assistant: str) -> None:
    base, sender = limited_assistant, "rest-fast"
    replies = [requests.post(f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": "你好"},
                             timeout=60) for _ in range(4)]
    assert [r.status_code for r in replies] == [200] * 4
    texts = ["".join(m.get("text") or "" for m in r.json()) for r in replies]
    assert TOO_FAST not in texts[0] and TOO_FAST not in texts[1] and texts[2:] == [TOO_FAST, TOO_FAST]
    other = requests.post(f"{base}/webhooks/rest/webhook", json={"sender": "rest-calm", "message": "你好"}, timeout=60)
    assert TOO_FAST not in other.text
    tracker = requests.get(f"{base}/conversations/{sender}/tracker", params={"token": TOKEN}, timeout=30).json()
    assert sum(1 for e in tracker["events"] if e["event"] == "user") == 2  # the refused ones were never parsed


def test_hotline_answers_politely_over_the_limit(limited_assistant: str) -> None:
    url, started = f"{limited_assistant}/webhooks/hotline/webhook", time.monotonic()
    spoken = [requests.post(url, json={"call_id": "call-fast", "text": "身份证怎么办"}, timeout=60).json()["speech"]
              for _ in range(3)]
    assert time.monotonic() - started < 60  # all three inside one minute: no token earned meanwhile
    assert TOO_FAST not in spoken[0] and TOO_FAST not in spoken[1] and spoken[2] == TOO_FAST
