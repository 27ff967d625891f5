"""Rasa input channel for a WeChat official account (公众号): POST/GET /webhooks/wechat/webhook.

The 5-second rule: a turn ready within `passive_seconds` (4 s) is the passive reply; otherwise WeChat gets
`success` at once and the answer goes out through the customer-service message API (客服消息). A WeChat retry of a
message still being processed waits for that same turn; a message seen before gets the same answer again.
Protocol checks are in `protocol`, the memory of messages and choices in `store`, the text in
`render`. The OpenID is the Rasa sender id; logs only show its pseudonym.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import ratelimit
from bot.channels.wechat.protocol import DEFAULTS, MAX_BODY, Incoming, Protocol, Rejected, pseudonym
from bot.channels.wechat.render import choose, render, split
from bot.channels.wechat.store import PREFIX, PROCESSING, MemoryStore, make_store

logger = logging.getLogger(__name__)

PASSIVE = "passive:"
SUCCESS = "success"
WELCOME_PAYLOAD = "/greet"
SORRY = "抱歉，系统暂时有点忙，请稍后再发一次；着急的话可以拨打 12345 咨询。"
NOT_TEXT = "暂时只能看懂文字和语音。请用文字告诉我您要办的户籍业务，例如“孩子刚出生怎么上户口”。"
LOCATION = "收到您的位置。请直接回复您所在的区（例如“天河区”），我帮您找附近可以办理的大厅。"
OUTSIDE_GUANGZHOU = ("您发送的位置不在广州市范围内。本服务只能推荐广州市的户政办证大厅。"
                     "如需在广州办理，请回复您想去的区（例如“天河区”）；外地的户籍业务请咨询当地公安机关。")
NEAR = "根据您发送的位置（大致在{district}区），为您查找附近的大厅。"
SEND_ATTEMPTS = 3  # one 客服消息 tried at most this often; then it is logged as lost
NO_VOICE_TEXT = "这段语音没能识别出文字，请再说一次，或直接打字告诉我您要办的业务。"


class _Turn:
    """One message being answered: the waiting requests and, once ready, the passive text (if any)."""

    def __init__(self) -> None:
        self.waiting = 0
        self.done = asyncio.Event()
        self.passive: str | None = None


def _client_class():
    from wechatpy import WeChatClient

    class Client(WeChatClient):
        """wechatpy's client, but the access token too comes from API_BASE_URL (wechatpy hard-codes it)."""

        def fetch_access_token(self):
            return self._fetch_access_token(url=f"{self.API_BASE_URL}token", params={
                "grant_type": "client_credential", "appid": self.appid, "secret": self.secret})

    return Client


class WeChatInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        c = credentials or {}
        return cls(
            token=str(c.get("token") or DEFAULTS["HUJI_WECHAT_TOKEN"]),
            appid=str(c.get("appid") or DEFAULTS["HUJI_WECHAT_APPID"]),
            aes_key=str(c.get("aes_key") or ""),
            secret=str(c.get("secret") or DEFAULTS["HUJI_WECHAT_SECRET"]),
            api_base=c.get("api_base") or os.environ.get("HUJI_WECHAT_API_BASE") or "",
            passive_seconds=float(c.get("passive_seconds") or os.environ.get("HUJI_WECHAT_PASSIVE_SECONDS") or 4.0),
            redis_url=c.get("redis_url") or os.environ.get("HUJI_REDIS_URL") or None,
            redis_prefix=c.get("redis_prefix") or os.environ.get("HUJI_WECHAT_REDIS_PREFIX") or PREFIX,
        )

    def __init__(self, token: str, appid: str, aes_key: str = "", secret: str = "", api_base: str = "",
                 passive_seconds: float = 4.0, redis_url: str | None = None, redis_prefix: str = PREFIX,
                 send_backoff: float = 0.5) -> None:
        self.protocol = Protocol(token, appid, aes_key)
        self.appid, self.secret = appid, secret
        self.api_base = (api_base.rstrip("/") + "/") if api_base else ""
        self.passive_seconds = passive_seconds
        self.redis_url, self.redis_prefix = redis_url, redis_prefix
        self.send_backoff = send_backoff  # seconds before the 2nd try of a 客服消息, doubled for each further try
        self.store: MemoryStore = make_store(redis_url, redis_prefix)
        self.turns: dict[str, _Turn] = {}
        self._tasks: set[asyncio.Task] = set()
        self._client = None
        logger.info("WeChat channel: %s mode, passive replies within %.1f s, replay records in %s",
                    "safe/compatible" if aes_key else "plain", passive_seconds, "Redis" if redis_url else "memory")

    # --- the customer-service message API -------------------------------------------------------------------
    @property
    def client(self):
        if self._client is None:
            from wechatpy.session.memorystorage import MemoryStorage

            session = MemoryStorage()
            if self.redis_url:  # one access token for all processes (WeChat invalidates the old one on refresh)
                import redis
                from wechatpy.session.redisstorage import RedisStorage

                session = RedisStorage(redis.Redis.from_url(self.redis_url), prefix=self.redis_prefix + "token")
            self._client = _client_class()(self.appid, self.secret, session=session, timeout=10)
            if self.api_base:
                self._client.API_BASE_URL = self.api_base
        return self._client

    async def send_custom(self, openid: str, chunks: list[str]) -> bool:
        """Send the parts in order; a part that cannot be sent stops the rest (they would arrive out of order)."""
        for number, chunk in enumerate(chunks, 1):
            if not await self._send_one(openid, chunk):
                logger.error("客服消息 to %s lost: part %d of %d and the %d after it not delivered",
                             pseudonym(openid), number, len(chunks), len(chunks) - number)
                return False
        logger.info("客服消息: %d message(s) to %s", len(chunks), pseudonym(openid))
        return True

    async def _send_one(self, openid: str, text: str) -> bool:
        """One 客服消息, retried with backoff while the failure is transient. No OpenID in the log lines: wechatpy's
        exception texts can quote the request, so only the error code and its class are logged."""
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                await asyncio.to_thread(self.client.message.send_text, openid, text)
                return True
            except Exception as error:  # noqa: BLE001 - the API down or refusing: never crash a turn
                code = getattr(error, "errcode", None)
                transient = _transient(error)
                logger.warning("客服消息 to %s failed (try %d of %d): %s errcode=%s%s", pseudonym(openid), attempt,
                               SEND_ATTEMPTS, type(error).__name__, code, "" if transient else ", not retried")
                if not transient or attempt == SEND_ATTEMPTS:
                    return False
                await asyncio.sleep(self.send_backoff * 2 ** (attempt - 1))
        return False

    # --- one message --------------------------------------------------------------------------------------
    async def _text_for(self, message: Incoming) -> tuple[str | None, str | None]:
        """(what Rasa gets, a fixed answer instead): one of them, or neither (an event needing no answer). A fixed
        answer may also come with Rasa's text: it is then said first (the location's approximate district)."""
        if message.kind in ("text", "voice"):
            if not message.text:
                return None, NO_VOICE_TEXT if message.kind == "voice" else NOT_TEXT
            button = choose(message.text, await self.store.choices(message.openid))
            return (button["payload"] if button else message.text), None
        if message.kind == "event":
            if message.event == "subscribe":
                return WELCOME_PAYLOAD, None
            if message.event == "click" and message.label:
                return message.label, None
            return None, None
        if message.kind == "location":
            return _location(message)
        return None, NOT_TEXT

    async def _answer(self, message: Incoming, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> list[str]:
        text, fixed = await self._text_for(message)
        if text is None:
            return split(fixed) if fixed else []
        if not await ratelimit.allow(message.openid):  # after the replay check: WeChat's retries are not counted
            return split(ratelimit.TOO_FAST)
        collector = CollectingOutputChannel()
        await on_new_message(UserMessage(text, collector, message.openid, input_channel=self.name(),
                                         metadata={"wechat_msg_type": message.kind}))
        rendered, buttons = render(([{"text": fixed}] if fixed else []) + collector.messages)
        await self.store.set_choices(message.openid, buttons)
        return split(rendered)

    async def _run(self, message: Incoming, turn: _Turn, on_new_message) -> None:
        try:
            chunks = await self._answer(message, on_new_message)
        except Exception:  # noqa: BLE001
            logger.exception("turn for %s failed", pseudonym(message.openid))
            chunks = [SORRY]
        if len(chunks) == 1 and turn.waiting:
            turn.passive = chunks[0]
            await self.store.finish(message.key, PASSIVE + chunks[0])
            turn.done.set()
        else:  # too late for the waiting request, or several messages: 客服消息, in order
            await self.store.finish(message.key, SUCCESS)
            turn.done.set()
            if chunks:
                await self.send_custom(message.openid, chunks)
        self.turns.pop(message.key, None)

    async def _wait(self, key: str, turn: _Turn | None, deadline: float) -> str:
        loop = asyncio.get_running_loop()
        if turn is None:  # another process runs this message: watch the shared record until the deadline
            while loop.time() < deadline:
                recorded = await self.store.get(key)
                if recorded and recorded != PROCESSING:
                    return recorded
                await asyncio.sleep(0.05)
            return SUCCESS
        turn.waiting += 1
        try:
            await asyncio.wait_for(turn.done.wait(), timeout=max(0.0, deadline - loop.time()))
        except asyncio.TimeoutError:
            pass
        finally:
            turn.waiting -= 1
        return PASSIVE + turn.passive if turn.done.is_set() and turn.passive is not None else SUCCESS

    async def handle(self, message: Incoming, on_new_message) -> str:
        deadline = asyncio.get_running_loop().time() + self.passive_seconds
        recorded = await self.store.claim(message.key)
        if recorded is None:
            turn = self.turns[message.key] = _Turn()
            task = asyncio.create_task(self._run(message, turn, on_new_message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif recorded == PROCESSING:
            logger.info("WeChat retry from %s: waiting for the turn in progress", pseudonym(message.openid))
            turn = self.turns.get(message.key)
        else:
            logger.info("message from %s seen before: same answer, no new turn", pseudonym(message.openid))
            return recorded
        return await self._wait(message.key, turn, deadline)

    # --- HTTP ---------------------------------------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("wechat_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["GET"])
        async def url_check(request: Request) -> HTTPResponse:
            try:
                return response.text(self.protocol.url_check(_args(request)))
            except Rejected as refused:
                logger.info("WeChat URL check refused: %s", refused.reason)
                return HTTPResponse(status=refused.status)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            args = _args(request)
            try:
                if int(request.headers.get("content-length") or 0) > MAX_BODY:
                    raise Rejected(400, "body too large")
                message, encrypted = self.protocol.read(args, request.body or b"")
            except Rejected as refused:
                logger.info("WeChat request refused (%d): %s", refused.status, refused.reason)
                return HTTPResponse(status=refused.status)
            except ValueError:
                return HTTPResponse(status=400)
            try:
                answer = await self.handle(message, on_new_message)
            except Exception:  # noqa: BLE001 - WeChat shows an error to the citizen for anything but a reply
                logger.exception("WeChat message from %s failed", pseudonym(message.openid))
                return response.text(SUCCESS)
            if not answer.startswith(PASSIVE):
                return response.text(SUCCESS)
            xml = self.protocol.reply(message, answer[len(PASSIVE):], encrypted,
                                      nonce=secrets.token_hex(8), timestamp=str(int(time.time())))
            return response.text(xml, content_type="application/xml; charset=utf-8")

        return hook


def _location(message: Incoming) -> tuple[str | None, str | None]:
    """The halls near a shared location: the district WeChat's label names, else the one the coordinates are
    (approximately) in; outside Guangzhou, or no usable location, a polite answer."""
    from bot.halls.districts import find_district
    from bot.halls.geo import district_at

    label = message.label
    # the label is WeChat's address of the point ("广东省广州市天河区…"); one in another city ("佛山市…天河路")
    # may still contain a district's name, so only a Guangzhou label, or one naming no city, is read
    district = find_district(label) if label and ("广州" in label or "市" not in label) else None
    note = None
    if district is None and message.latitude is not None and message.longitude is not None:
        district = district_at(message.latitude, message.longitude)
        if district is None:
            return None, OUTSIDE_GUANGZHOU
        note = NEAR.format(district=district)
    if district is None:
        return None, LOCATION
    return "/find_hall" + json.dumps({"district": district}, ensure_ascii=False), note


def _transient(error: Exception) -> bool:
    """Worth another try: the network, an HTTP error, or WeChat's 「系统繁忙」 (-1). Not: a refused OpenID, a
    citizen silent for 48 hours (45015), a quota (45047) ... which a retry cannot fix."""
    import requests

    if isinstance(error, (requests.RequestException, OSError)):
        return True
    return getattr(error, "errcode", 0) in (None, -1)


def _args(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in request.args.items() if v}
