"""What the hotline remembers about a call between turns, and how a caller's words are read against it.

The state is kept in Redis when HUJI_REDIS_URL is set (several Rasa instances share a call), else in memory."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass, field, fields

import cn2an

from bot.channels.hotline.speech import Choice
from bot.privacy import mask

CALL_TTL = 3600.0  # a call's state is forgotten an hour after its last turn
REDIS_PREFIX = "huji:hotline:call:"
HEARD_KEPT = 3  # utterances kept for the agent's summary
HUMAN_WORDS = ("转人工", "人工服务", "人工客服", "找民警", "找警察", "真人", "人工", "转接民警")
YES = ("对", "对的", "是", "是的", "没错", "对啊", "是啊", "嗯对", "好", "好的", "系", "系啊", "啱", "可以", "对对")
NO = ("不对", "不是", "错了", "唔系", "唔啱", "不", "没有", "不对不对")
BYE = ("再见", "拜拜", "没有了", "没事了", "挂了", "好的谢谢", "谢谢再见", "不用了")
ORDINAL = re.compile(r"^(?:第|选|按|选择)?([0-9一二两三四五六七八九])(?:个|号|项)?$")
PUNCT = re.compile(r"[\s，。,.!！?？、~～]+")


@dataclass
class CallState:
    call_id: str
    choices: list[Choice] = field(default_factory=list)
    failures: int = 0
    pending: str | None = None  # what was heard with low confidence, waiting for "对" or "不对"
    pages: list[str] = field(default_factory=list)  # checklist pages still to read
    after_pages: tuple[str, list[Choice]] = ("", [])  # the question and choices once the pages are read
    heard: list[str] = field(default_factory=list)  # the last utterances, ID and mobile numbers masked
    sms_sent_for: str | None = None  # the scenario whose list went by SMS
    extras_read: list[str] = field(default_factory=list)  # extras of that scenario already read out

    def remember(self, heard: str) -> None:
        self.heard = (self.heard + [mask(heard)])[-HEARD_KEPT:]

    def to_json(self) -> str:
        data = asdict(self)
        data["choices"] = [asdict(c) for c in self.choices]
        data["after_pages"] = [self.after_pages[0], [asdict(c) for c in self.after_pages[1]]]
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> CallState:
        data = json.loads(text)
        data["choices"] = [Choice(**c) for c in data.get("choices") or []]
        after, after_choices = data.get("after_pages") or ("", [])
        data["after_pages"] = (after, [Choice(**c) for c in after_choices])
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class MemoryCalls:
    """Call state in this process's memory: enough for one Rasa instance."""

    def __init__(self, ttl: float = CALL_TTL) -> None:
        self.ttl = ttl
        self._calls: dict[str, tuple[float, str]] = {}

    async def load(self, call_id: str) -> CallState:
        now = time.monotonic()
        for old in [k for k, (touched, _) in self._calls.items() if now - touched > self.ttl]:
            del self._calls[old]
        found = self._calls.get(call_id)
        return CallState.from_json(found[1]) if found else CallState(call_id)

    async def save(self, state: CallState) -> None:
        self._calls[state.call_id] = (time.monotonic(), state.to_json())


class RedisCalls:
    """Call state in Redis, so that any of several Rasa instances can take a call's next turn.

    The key is a hash of the call id (the hotline system's id may carry the caller's number); the state expires
    `ttl` seconds after the call's last turn."""

    def __init__(self, url: str, prefix: str = REDIS_PREFIX, ttl: float = CALL_TTL) -> None:
        import redis.asyncio as aioredis

        self.redis = aioredis.from_url(url, decode_responses=True)
        self.prefix, self.ttl = prefix, int(ttl)

    def key(self, call_id: str) -> str:
        return self.prefix + hashlib.sha256(call_id.encode()).hexdigest()[:32]

    async def load(self, call_id: str) -> CallState:
        found = await self.redis.get(self.key(call_id))
        return CallState.from_json(found) if found else CallState(call_id)

    async def save(self, state: CallState) -> None:
        await self.redis.set(self.key(state.call_id), state.to_json(), ex=self.ttl)

    async def close(self) -> None:
        await self.redis.aclose() if hasattr(self.redis, "aclose") else await self.redis.close()


Calls = MemoryCalls | RedisCalls


def make_calls(redis_url: str | None = None, prefix: str | None = None) -> Calls:
    """Redis when `redis_url` (or HUJI_REDIS_URL) is set, memory otherwise; HUJI_HOTLINE_REDIS_PREFIX for tests."""
    redis_url = redis_url or os.environ.get("HUJI_REDIS_URL") or None
    if not redis_url:
        return MemoryCalls()
    return RedisCalls(redis_url, prefix or os.environ.get("HUJI_HOTLINE_REDIS_PREFIX") or REDIS_PREFIX)


def bare(text: str) -> str:
    return PUNCT.sub("", text or "")


def wants_person(text: str) -> bool:
    return any(w in bare(text) for w in HUMAN_WORDS)


def is_yes(text: str) -> bool:
    t = bare(text).lstrip("嗯啊哦").rstrip("啊呀的吧") or bare(text)
    return t in YES or bare(text) in YES


def is_no(text: str) -> bool:
    return bare(text) in NO or bare(text).startswith(("不对", "不是", "唔系"))


def is_goodbye(text: str) -> bool:
    return bare(text) in BYE


def pick(text: str, choices: list[Choice]) -> Choice | None:
    """The choice the caller named: its digit ("1", "一", "第一个", "按1"), or its label said in the text."""
    said = bare(text)
    if not said or not choices:
        return None
    m = ORDINAL.match(said)
    if m:
        digit = m.group(1)
        n = int(digit) if digit.isdigit() else int(cn2an.cn2an(digit, "smart"))
        return next((c for c in choices if c.key == str(n)), None)
    if said in ("最后一个", "最后那个"):
        return choices[-1]
    exact = [c for c in choices if bare(c.say) == said]
    if exact:
        return exact[0]
    named = [c for c in choices if len(bare(c.say)) >= 2 and (bare(c.say) in said or
                                                              (len(said) >= 2 and said in bare(c.say)))]
    return named[0] if len(named) == 1 else None
