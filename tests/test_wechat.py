"""The WeChat official-account channel: pure parts, then the trained assistant through the WeChat stand-in."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rasa.core.channels.channel import UserMessage

from bot.channels.wechat import WeChatInput
from bot.channels.wechat.protocol import DEFAULTS, Protocol, Rejected, pseudonym, safe_xml
from bot.channels.wechat.render import MAX_BYTES, choose, render, split
from bot.channels.wechat.standin import WeChatStandIn, texts
from bot.channels.wechat.store import PROCESSING, MemoryStore
from bot.services import running_assistant
from bot.settings import api_params
from bot.training import ensure_model
from tests.hall_service import free_port

TOKEN, APPID, AES_KEY = DEFAULTS["HUJI_WECHAT_TOKEN"], DEFAULTS["HUJI_WECHAT_APPID"], DEFAULTS["HUJI_WECHAT_AES_KEY"]
BIRTH = "我老婆上个月在广州生了个女儿,我们都是广州户口,孩子户口怎么上"
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
          "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>"
          "<MsgType>text</MsgType><Content>&lol2;</Content><MsgId>1</MsgId></xml>")


# --- pure parts -------------------------------------------------------------------------------------------
def test_buttons_become_numbered_choices_and_a_number_label_or_sound_alike_picks_one() -> None:
    text, buttons = render([{"text": "孩子的父母结婚了吗？", "buttons": [
        {"title": "已婚", "payload": "/a"}, {"title": "未婚", "payload": "/b"}]}])
    assert "回复 1 选择「已婚」" in text and "回复 2 选择「未婚」" in text
    assert choose("2", buttons)["payload"] == "/b"
    assert choose("２", buttons)["payload"] == "/b"  # full-width digit from a phone keyboard
    assert choose("选1", buttons)["payload"] == "/a"
    assert choose("未婚。", buttons)["payload"] == "/b"
    assert choose("味婚", buttons)["payload"] == "/b"  # a sound-alike
    assert choose("3", buttons) is None and choose("我想问别的", buttons) is None and choose("1", []) is None


def test_long_answers_are_split_under_2048_bytes_at_line_boundaries() -> None:
    lines = [f"{n}. 居民户口簿（原件及复印件各一份；须与本人一致）" for n in range(1, 150)]
    text = "\n".join(lines[:70]) + "\n\n" + "\n".join(lines[70:])
    chunks = split(text)
    assert len(chunks) > 1
    assert all(len(c.encode("utf-8")) <= MAX_BYTES < 2048 for c in chunks)
    assert [line for c in chunks for line in c.split("\n") if line] == lines  # nothing lost, no line cut
    one_long_line = "很" * 3000
    assert "".join(split(one_long_line)).replace("\n", "") == one_long_line
    assert split("短") == ["短"] and split("") == []


def test_signatures_timestamps_and_dangerous_xml_are_checked() -> None:
    protocol = Protocol(TOKEN, APPID)
    standin = WeChatStandIn(token=TOKEN, appid=APPID)
    query = standin.signed_query()
    protocol.check_query(query)
    with pytest.raises(Rejected) as bad:
        protocol.check_query({**query, "signature": "0" * 40})
    assert bad.value.status == 403
    with pytest.raises(Rejected, match="stale"):
        protocol.check_query(standin.signed_query(timestamp=int(time.time()) - 301))
    with pytest.raises(Rejected, match="stale"):
        protocol.check_query(standin.signed_query(timestamp=int(time.time()) + 301))
    for body in [LAUGHS.encode(), b"<xml>" + b"a" * 70_000 + b"</xml>", b"   "]:
        with pytest.raises(Rejected) as refused:
            safe_xml(body)
        assert refused.value.status == 400
    with pytest.raises(Rejected) as malformed:
        protocol.read(standin.signed_query(), b"<xml><FromUserName>x</xml")
    assert malformed.value.status == 400


def test_safe_mode_round_trip_and_a_tampered_ciphertext() -> None:
    protocol = Protocol(TOKEN, APPID, AES_KEY)
    standin = WeChatStandIn(token=TOKEN, appid=APPID, aes_key=AES_KEY)
    xml = standin.message_xml("oUser123", Content="你好 & <再见>", msg_id=42)
    body, params = standin._encrypt(xml, standin.signed_query())
    message, encrypted = protocol.read(params, body)
    assert encrypted and message.text == "你好 & <再见>" and message.key == "id:42" and message.openid == "oUser123"
    with pytest.raises(Rejected) as refused:
        protocol.read({**params, "msg_signature": "f" * 40}, body)
    assert refused.value.status == 403
    with pytest.raises(Rejected):  # plain while safe mode is configured
        protocol.read(standin.signed_query(), xml.encode())
    assert pseudonym("oUser123") != "oUser123" and "oUser123" not in pseudonym("oUser123")


def test_a_message_whose_create_time_is_far_from_now_is_refused_like_a_stale_timestamp() -> None:
    protocol = Protocol(TOKEN, APPID)
    standin = WeChatStandIn(token=TOKEN, appid=APPID)
    now = int(time.time())
    for offset in (-600, -301, 301, 3600):  # signed just now, but the message itself is old (or from the future)
        xml = standin.message_xml("oOld0123", Content="你好", create_time=now + offset)
        with pytest.raises(Rejected, match="stale CreateTime") as refused:
            protocol.read(standin.signed_query(), xml.encode())
        assert refused.value.status == 403
    recent = standin.message_xml("oOld0123", Content="你好", create_time=now - 15)  # WeChat's third retry
    assert protocol.read(standin.signed_query(), recent.encode())[0].text == "你好"
    for bad in ("", "yesterday"):
        xml = standin.message_xml("oOld0123", Content="你好").replace(f"<CreateTime>{now}</CreateTime>",
                                                                     f"<CreateTime>{bad}</CreateTime>")
        with pytest.raises(Rejected) as refused:
            protocol.read(standin.signed_query(), xml.encode())
        assert refused.value.status == 400


def test_coordinates_map_to_the_nearest_district_and_other_cities_are_outside() -> None:
    from bot.halls.geo import district_at

    assert district_at(23.119, 113.327) == "天河"  # 珠江新城
    assert district_at(23.106, 113.324) == "海珠"  # 广州塔, south of the river
    assert district_at(23.125, 113.269) == "越秀"  # 北京路
    assert district_at(22.940, 113.400) == "番禺"  # 市桥
    assert district_at(23.550, 113.580) == "从化"
    assert district_at(22.770, 113.550) == "南沙"
    for elsewhere in [(23.020, 113.110), (22.800, 113.290), (23.030, 113.750), (22.540, 114.060),
                      (39.900, 116.400), (0.0, 0.0), (float("nan"), 113.3), (123.0, 113.3)]:
        assert district_at(*elsewhere) is None, elsewhere  # 佛山, 顺德, 东莞, 深圳, 北京, nonsense


def test_replay_store_claims_once() -> None:
    import asyncio

    async def run() -> None:
        store = MemoryStore()
        assert await store.claim("id:1") is None
        assert await store.claim("id:1") == PROCESSING
        await store.finish("id:1", "passive:好")
        assert await store.claim("id:1") == "passive:好"

    asyncio.run(run())


# --- through the trained assistant ------------------------------------------------------------------------
class Stack:
    def __init__(self, base: str, standin: WeChatStandIn, logs: Path) -> None:
        self.base, self.standin, self.logs = base, standin, logs

    def user_turns(self, openid: str) -> list[str]:
        events = requests.get(f"{self.base}/conversations/{openid}/tracker", params=api_params(),
                              timeout=30).json()["events"]
        return [e.get("text") for e in events if e["event"] == "user"]

    def slots(self, openid: str) -> dict:
        return requests.get(f"{self.base}/conversations/{openid}/tracker", params=api_params(),
                            timeout=30).json()["slots"]


def _stack(tmp: Path, aes_key: str, passive_seconds: float) -> Iterator[Stack]:
    standin = WeChatStandIn(token=TOKEN, appid=APPID, aes_key=aes_key)
    env = {"HUJI_BOOKING_DATABASE_URL": f"sqlite:///{tmp / 'bookings.sqlite3'}", "HUJI_WECHAT_AES_KEY": aes_key,
           "HUJI_WECHAT_API_BASE": standin.start_api(), "HUJI_WECHAT_PASSIVE_SECONDS": str(passive_seconds)}
    env.pop("HUJI_REDIS_URL", None)
    try:
        with running_assistant(ensure_model(), free_port(), free_port(), free_port(), env=env, log_dir=tmp) as base:
            standin.webhook = f"{base}/webhooks/wechat/webhook"
            yield Stack(base, standin, tmp)
    finally:
        standin.stop()


@pytest.fixture(scope="module")
def safe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Safe mode (AES), passive replies within the normal 4 s."""
    yield from _stack(tmp_path_factory.mktemp("wechat-safe"), AES_KEY, 4.0)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Plain mode, with a passive deadline so short that every turn is slow: answers go by 客服消息."""
    yield from _stack(tmp_path_factory.mktemp("wechat-plain"), "", 0.001)


def consult_birth_by_numbers(stack: Stack, openid: str) -> list[str]:
    replies = texts(stack.standin.say(openid, BIRTH))
    assert replies and "回复 1 选择" in replies[-1], replies
    for _ in range(10):
        if any("需要准备的材料" in r for r in replies):
            break
        replies = texts(stack.standin.say(openid, "1"))
        assert replies, "every numbered choice gets an answer"
    assert stack.slots(openid)["scenario"], "a scenario was reached"
    return replies


@pytest.mark.parametrize("mode", ["safe", "plain"])
def test_url_check(mode: str, request: pytest.FixtureRequest) -> None:
    stack: Stack = request.getfixturevalue(mode)
    answer = stack.standin.url_check("echo-12345")
    assert answer.status_code == 200 and answer.text == "echo-12345"
    refused = stack.standin.url_check("echo-12345", signature="0" * 40)
    assert refused.status_code == 403 and refused.text == ""


@pytest.mark.parametrize("mode", ["safe", "plain"])
def test_birth_consultation_to_its_checklist_by_numbered_choices(mode: str, request: pytest.FixtureRequest) -> None:
    stack: Stack = request.getfixturevalue(mode)
    openid = f"oBirth{mode}0123456789abcdefgh"
    replies = consult_birth_by_numbers(stack, openid)
    checklist = "\n".join(replies)
    assert "需要准备的材料" in checklist and "一次性告知单" in checklist
    assert all(len(r.encode("utf-8")) < 2048 for r in replies)


def test_a_slow_turn_is_answered_by_customer_service_messages(plain: Stack) -> None:
    exchange = plain.standin.say("oSlow0123456789", "孩子刚出生怎么上户口")  # a turn that calls the actions
    assert exchange.status == 200 and exchange.passive is None and exchange.body == "success"
    assert exchange.custom and "回复 1 选择" in exchange.custom[-1]
    assert plain.user_turns("oSlow0123456789") == ["孩子刚出生怎么上户口"]
    assert plain.standin.token_requests >= 1  # wechatpy fetched the access token from the stand-in's API


def test_a_wechat_retry_waits_for_the_turn_in_progress_and_a_replay_gets_the_same_answer(safe: Stack) -> None:
    openid, standin = "oRetry0123456789", safe.standin
    xml = standin.message_xml(openid, Content="孩子刚出生怎么上户口", msg_id=987654321)
    first: list = []
    thread = threading.Thread(target=lambda: first.append(standin.post(xml, retries=0)))
    thread.start()
    time.sleep(0.05)
    retry = standin.post(xml, retries=0)  # the same MsgId again, freshly signed, while the first is processed
    thread.join(timeout=30)
    assert retry.status == 200 and retry.passive and first[0].passive == retry.passive
    replay = standin.post(xml, retries=0)
    assert replay.passive == retry.passive
    assert safe.user_turns(openid) == ["孩子刚出生怎么上户口"], "one turn for three deliveries"
    same_time = standin.message_xml(openid, "event", Event="subscribe", EventKey="")
    welcomes = [standin.post(same_time).passive for _ in range(2)]  # no MsgId: FromUserName + CreateTime
    assert welcomes[0] and welcomes[0] == welcomes[1]
    assert len(safe.user_turns(openid)) == 2


def test_stale_timestamps_wrong_signatures_and_bad_xml_are_refused(safe: Stack) -> None:
    standin, openid = safe.standin, "oBad0123456789"
    xml = standin.message_xml(openid, Content="你好")
    stale = standin.post(xml, query=standin.signed_query(timestamp=int(time.time()) - 600), retries=0)
    assert stale.status == 403 and stale.body == ""
    wrong = standin.post(xml, query={"signature": "0" * 40}, retries=0)
    assert wrong.status == 403 and wrong.body == ""
    wrong_msg = standin.post(xml, query={"msg_signature": "0" * 40}, retries=0)
    assert wrong_msg.status == 403
    for body in ["<xml><ToUserName>a</To", LAUGHS, "<xml>" + "啊" * 40_000 + "</xml>"]:
        assert standin.post(body, retries=0, encrypt=False, query={"encrypt_type": "aes", "msg_signature": "x"}
                            ).status in (400, 403)
    plain_stack = WeChatStandIn(webhook=standin.webhook, token=TOKEN, appid=APPID)  # signed, but not encrypted
    for body in ["<xml><ToUserName>a</To", LAUGHS, "<xml>" + "啊" * 40_000 + "</xml>"]:
        assert plain_stack.post(body, retries=0).status in (400, 403)
    assert safe.user_turns(openid) == []
    assert "网上户籍室" in texts(standin.say(openid, "你好"))[0], "the channel still works"


def test_bad_xml_is_400_in_plain_mode(plain: Stack) -> None:
    for body in ["<xml><ToUserName>a</To", LAUGHS, "<xml>" + "啊" * 40_000 + "</xml>", "<xml><a>1</a></xml>"]:
        answer = plain.standin.post(body, retries=0)
        assert answer.status == 400 and answer.body == ""


def test_events_and_messages_that_are_not_text(safe: Stack) -> None:
    standin, openid = safe.standin, "oKinds0123456789"
    welcome = standin.post(standin.message_xml(openid, "event", Event="subscribe", EventKey=""))
    assert welcome.passive and "网上户籍室" in welcome.passive
    image = standin.post(standin.message_xml(openid, "image", PicUrl="http://x/y.jpg", MediaId="m1"))
    assert "文字" in image.passive
    location = standin.post(standin.message_xml(openid, "location", Location_X="23.1", Location_Y="113.3",
                                                Scale="15", Label=""))
    assert "区" in location.passive
    unknown = standin.post(standin.message_xml(openid, "hologram", Payload="?"))
    assert unknown.status == 200 and unknown.passive
    voice = standin.post(standin.message_xml(openid, "voice", MediaId="v1", Format="amr",
                                             Recognition="孩子刚出生怎么上户口。"))
    assert voice.passive and "回复 1 选择" in voice.passive
    assert safe.user_turns(openid)[-1] == "孩子刚出生怎么上户口"


def test_a_location_gives_the_halls_of_the_district_it_is_in(safe: Stack) -> None:
    standin, openid = safe.standin, "oWhere0123456789"
    shared = standin.post(standin.message_xml(openid, "location", Location_X="23.119", Location_Y="113.327",
                                              Scale="15", Label=""))
    replies = "\n".join(texts(shared) if shared.passive is not None else standin.wait_custom(openid, 1))
    assert "大致在天河区" in replies and "回复 1 选择" in replies, replies  # which business: the halls depend on it
    assert safe.slots(openid)["district"] == "天河"
    halls = "\n".join(texts(standin.say(openid, "1")))
    assert "天河区附近可以办理" in halls and "（天河区）" in halls, halls
    labelled = standin.post(standin.message_xml(openid, "location", Location_X="23.02", Location_Y="113.11",
                                                Scale="15", Label="广东省广州市番禺区市桥街道"))
    assert safe.slots(openid)["district"] == "番禺", "the address WeChat resolved outranks the coordinates"
    assert labelled.status == 200


def test_a_location_outside_guangzhou_gets_a_polite_answer_and_no_turn(safe: Stack) -> None:
    standin, openid = safe.standin, "oAway0123456789"
    for x, y in [("23.02", "113.11"), ("39.9", "116.4")]:  # 佛山, 北京
        away = standin.post(standin.message_xml(openid, "location", Location_X=x, Location_Y=y, Scale="15",
                                                Label=""))
        assert "不在广州市范围内" in away.passive and "区" in away.passive
    nonsense = standin.post(standin.message_xml(openid, "location", Location_X="abc", Location_Y="",
                                                Scale="15", Label=""))
    assert nonsense.status == 200 and "所在的区" in nonsense.passive
    foshan = standin.post(standin.message_xml(openid, "location", Location_X="23.03", Location_Y="113.15",
                                              Scale="15", Label="广东省佛山市南海区桂城街道天河路"))
    assert "不在广州市范围内" in foshan.passive, "a road named 天河 in Foshan is not 天河区"
    assert safe.user_turns(openid) == []


def test_an_old_create_time_is_refused_over_http_without_a_turn(safe: Stack) -> None:
    standin, openid = safe.standin, "oOldTime0123456"
    old = standin.post(standin.message_xml(openid, Content="你好", create_time=int(time.time()) - 600), retries=0)
    assert old.status == 403 and old.body == ""
    assert safe.user_turns(openid) == []


def test_a_failed_customer_service_message_is_sent_again(plain: Stack) -> None:
    standin, openid = plain.standin, "oFlaky0123456789"
    before = standin.custom_attempts
    standin.fail_custom = 1  # WeChat's API says 「系统繁忙」 once
    exchange = standin.say(openid, "孩子刚出生怎么上户口")
    assert exchange.passive is None and exchange.custom and "回复 1 选择" in exchange.custom[-1]
    assert standin.custom_attempts - before == len(exchange.custom) + 1, "one failed try, then each part once"
    assert plain.user_turns(openid) == ["孩子刚出生怎么上户口"]
    logs = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in plain.logs.glob("*.log"))
    assert f"客服消息 to {pseudonym(openid)} failed (try 1 of 3)" in logs and openid not in logs


def test_replay_records_are_shared_through_redis() -> None:
    import asyncio
    import os
    import uuid

    from bot.channels.wechat.store import RedisStore, _hash

    url = os.environ.get("HUJI_TEST_REDIS", "redis://127.0.0.1:6379/0")

    async def run() -> None:
        first, second = RedisStore(url), RedisStore(url)  # two processes behind one URL
        try:
            await first.redis.ping()
        except Exception:  # noqa: BLE001
            pytest.skip(f"no Redis at {url}")
        key = f"id:{uuid.uuid4().hex}"
        assert await first.claim(key) is None
        assert await second.claim(key) == PROCESSING
        await first.finish(key, "passive:好")
        assert await second.claim(key) == "passive:好"
        await second.set_choices(f"o{key}", [{"title": "已婚", "payload": "/a"}])
        assert (await first.choices(f"o{key}"))[0]["payload"] == "/a"
        assert f"o{key}" not in str(await first.redis.keys("huji:wechat:*"))
        await first.redis.delete(_hash("msg", key), _hash("choices", f"o{key}"))
        for store in (first, second):
            await store.redis.aclose() if hasattr(store.redis, "aclose") else await store.redis.close()

    asyncio.run(run())


REDIS_URL = os.environ.get("HUJI_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _channel(stack: Stack, prefix: str, passive_seconds: float = 4.0) -> WeChatInput:
    """One more WeChat channel, as in another Rasa process: shares only Redis (a throwaway prefix) with the others."""
    return WeChatInput(TOKEN, APPID, AES_KEY, DEFAULTS["HUJI_WECHAT_SECRET"], api_base=stack.standin.api_base,
                       passive_seconds=passive_seconds, redis_url=REDIS_URL, redis_prefix=prefix)


def _forward(stack: Stack, delay: float, turns: list[str]):
    """The turn itself, by the running assistant (its REST channel, same sender), made slow deliberately."""
    async def on_new_message(message: UserMessage) -> None:
        turns.append(message.text)
        await asyncio.sleep(delay)
        answer = await asyncio.to_thread(requests.post, f"{stack.base}/webhooks/rest/webhook", timeout=30,
                                         json={"sender": message.sender_id, "message": message.text})
        for reply in answer.json():
            reply.pop("recipient_id", None)
            await message.output_channel.send_response(message.sender_id, reply)

    return on_new_message


def _delivery(stack: Stack, channel: WeChatInput, xml: str):
    """What a channel reads from one delivery of `xml` by WeChat (freshly signed and encrypted, like each retry)."""
    body, params = stack.standin._encrypt(xml, stack.standin.signed_query())
    return channel.protocol.read(params, body)[0]


async def _close(prefix: str, *channels: WeChatInput) -> None:
    store = channels[0].store
    keys = [k async for k in store.redis.scan_iter(match=prefix + "*")]
    if keys:
        await store.redis.delete(*keys)
    for channel in channels:
        redis = channel.store.redis
        await (redis.aclose() if hasattr(redis, "aclose") else redis.close())


def test_a_retry_that_reaches_another_process_gets_the_same_answer_and_no_second_turn(safe: Stack) -> None:
    prefix, openid = f"huji-test:{uuid.uuid4().hex[:8]}:wechat:", "oTwoProcs0123456"
    xml = safe.standin.message_xml(openid, Content="孩子刚出生怎么上户口", msg_id=uuid.uuid4().int % 10**15)
    turns: list[str] = []

    async def run() -> tuple[str, str, str]:
        first, second = _channel(safe, prefix), _channel(safe, prefix)
        try:
            original = asyncio.create_task(first.handle(_delivery(safe, first, xml), _forward(safe, 0.6, turns)))
            await asyncio.sleep(0.2)  # WeChat retries; its load balancer sends the retry to the other process
            retry = await second.handle(_delivery(safe, second, xml), _forward(safe, 0.6, turns))
            replay = await second.handle(_delivery(safe, second, xml), _forward(safe, 0.6, turns))
            return await original, retry, replay
        finally:
            await _close(prefix, first, second)

    original, retry, replay = asyncio.run(run())
    assert original.startswith("passive:") and "回复 1 选择" in original
    assert retry == original and replay == original
    assert turns == ["孩子刚出生怎么上户口"] and safe.user_turns(openid) == turns


def test_a_slow_turn_retried_at_another_process_is_sent_once_by_customer_service_message(safe: Stack) -> None:
    prefix, openid = f"huji-test:{uuid.uuid4().hex[:8]}:wechat:", "oTwoSlow0123456"
    xml = safe.standin.message_xml(openid, Content="孩子刚出生怎么上户口", msg_id=uuid.uuid4().int % 10**15)
    turns: list[str] = []

    async def run() -> list[str]:
        first, second = _channel(safe, prefix, 0.3), _channel(safe, prefix, 0.3)
        try:
            original = asyncio.create_task(first.handle(_delivery(safe, first, xml), _forward(safe, 0.9, turns)))
            await asyncio.sleep(0.35)
            answers = [await second.handle(_delivery(safe, second, xml), _forward(safe, 0.9, turns)),
                       await original]
            while first._tasks:  # the turn goes on after the passive deadline, then 客服消息
                await asyncio.gather(*first._tasks)
            answers.append(await second.handle(_delivery(safe, second, xml), _forward(safe, 0.9, turns)))
            return answers
        finally:
            await _close(prefix, first, second)

    assert asyncio.run(run()) == ["success"] * 3
    sent = safe.standin.custom_for(openid)
    assert len(sent) == 1 and "回复 1 选择" in sent[0], sent
    assert turns == ["孩子刚出生怎么上户口"] and safe.user_turns(openid) == turns


def test_the_access_token_is_shared_by_the_processes_through_redis(safe: Stack) -> None:
    prefix, openid = f"huji-test:{uuid.uuid4().hex[:8]}:wechat:", "oToken0123456789"

    async def run() -> tuple[list[bool], int, str | None]:
        first, second = _channel(safe, prefix), _channel(safe, prefix)
        try:
            before = safe.standin.token_requests
            sent = [await first.send_custom(openid, ["第一条"]), await second.send_custom(openid, ["第二条"])]
            token = await first.store.redis.get(f"{prefix}token:{APPID}_access_token")
            return sent, safe.standin.token_requests - before, token
        finally:
            await _close(prefix, first, second)

    sent, fetched, token = asyncio.run(run())
    assert sent == [True, True] and safe.standin.custom_for(openid) == ["第一条", "第二条"]
    assert fetched == 1, "the second process used the token the first one fetched"
    assert token and safe.standin.access_token in token


def test_customer_service_messages_are_retried_with_backoff_then_given_up_without_the_openid_in_logs(
        caplog: pytest.LogCaptureFixture) -> None:
    standin, openid = WeChatStandIn(token=TOKEN, appid=APPID), "oBusyApi0123456"
    channel = WeChatInput(TOKEN, APPID, "", DEFAULTS["HUJI_WECHAT_SECRET"], api_base=standin.start_api(),
                          send_backoff=0.2)
    caplog.set_level("INFO", logger="bot.channels.wechat.channel")
    try:
        standin.fail_custom = 2  # 「系统繁忙」 twice, then fine
        started = time.monotonic()
        assert asyncio.run(channel.send_custom(openid, ["第一条", "第二条"]))
        assert time.monotonic() - started >= 0.2 + 0.4, "waits 0.2 s, then 0.4 s"
        assert standin.custom_for(openid) == ["第一条", "第二条"] and standin.custom_attempts == 4
        standin.fail_custom = 10  # down for good: three tries, and the second part is not sent out of order
        assert not asyncio.run(channel.send_custom(openid, ["第三条", "第四条"]))
        assert standin.custom_attempts == 7 and standin.custom_for(openid) == ["第一条", "第二条"]
        standin.fail_custom, standin.fail_code = 1, 45015  # the citizen has been silent for 48 h: no retry helps
        assert not asyncio.run(channel.send_custom(openid, ["第五条"]))
        assert standin.custom_attempts == 8
    finally:
        standin.stop()
    assert "try 3 of 3" in caplog.text and "lost: part 1 of 2" in caplog.text and "not retried" in caplog.text
    assert pseudonym(openid) in caplog.text and openid not in caplog.text


def _number_of(reply: str, pattern: str) -> str:
    import re

    for line in reply.splitlines():
        match = re.match(r"回复 (\d+) 选择「(.*)」$", line)
        if match and re.search(pattern, match.group(2)):
            return match.group(1)
    raise AssertionError(f"no choice matching {pattern!r} in {reply!r}")


def test_a_booking_through_wechat_echoes_personal_data_masked_and_books_once(safe: Stack) -> None:
    from stdnum.cn import ric

    standin, openid = safe.standin, "oBook0123456789"
    person_id = "44010619900307123" + ric.calc_check_digit("440106199003071230")
    reply = "\n".join(texts(standin.say(openid, '/book_appointment{"hall":"tianhe-center","category":"id_card"}')))
    reply = "\n".join(texts(standin.say(openid, _number_of(reply, r"\d{1,2}:\d{2}"))))
    assert "姓名" in reply
    assert "手机" in "\n".join(texts(standin.say(openid, "张三丰")))
    assert "身份证" in "\n".join(texts(standin.say(openid, "138 1234 5678")))
    summary = "\n".join(texts(standin.say(openid, person_id)))
    assert "张**" in summary and "138****5678" in summary
    assert person_id not in summary and "张三丰" not in summary
    try:
        confirm = _number_of(summary, "确认|是")
    except AssertionError:
        confirm = "/affirm"
    xml = standin.message_xml(openid, Content=confirm)
    done = standin.post(xml)
    turns = len(safe.user_turns(openid))
    again = standin.post(xml)  # WeChat delivers the same confirmation again: same answer, no second booking
    assert done.passive and "预约成功" in done.passive and again.passive == done.passive
    assert len(safe.user_turns(openid)) == turns
    everything = "\n".join(m["text"]["content"] for m in standin.custom) + done.passive
    assert person_id not in everything and "13812345678" not in everything


@pytest.mark.parametrize("mode", ["safe", "plain"])
def test_openids_never_reach_the_logs(mode: str, request: pytest.FixtureRequest) -> None:
    stack: Stack = request.getfixturevalue(mode)
    logs = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in stack.logs.glob("*.log"))
    assert "WeChat channel" in logs and "wx-" in logs  # the channel logged, with pseudonyms
    for openid in ["oBirth", "oRetry", "oBook0123456789", "oKinds", "oSlow", "oBad0123456789", "oWhere", "oAway",
                   "oOldTime", "oFlaky", "oTwoProcs", "oTwoSlow", "oToken", "oBusyApi"]:
        assert openid not in logs
