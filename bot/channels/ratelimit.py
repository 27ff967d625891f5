"""Per-sender rate limit of the channels: a token bucket per sender, answered politely before anything is parsed.

A sender may send `burst` messages at once and then `per_minute` a minute on average. A message over the limit gets
TOO_FAST at once: it never waits, so a client firing requests cannot pile up work behind a conversation's lock.
Buckets live in process memory, or in Redis when HUJI_REDIS_URL is set, so every process behind one URL counts the
same sender together. Sender ids (WeChat OpenIDs, call ids) are hashed before they become keys.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import OrderedDict
from typing import Callable, Protocol

logger = logging.getLogger(__name__)

TOO_FAST = "您发送得太快了，请稍等几秒再发。"
MAX_SENDERS = 100_000  # memory buckets kept; the least recently seen sender is forgotten (its bucket starts full)
KEY_PREFIX = "huji:rate:"


def _sender_hash(sender: str) -> str:
    return hashlib.sha256(sender.encode("utf-8")).hexdigest()[:32]


class Limiter(Protocol):
    async def allow(self, sender: str) -> bool: ...


class Unlimited:
    async def allow(self, sender: str) -> bool:
        return True


class MemoryBuckets:
    def __init__(self, burst: int, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst, self.per_second, self.clock = burst, per_second, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # sender hash → (tokens, when)

    async def allow(self, sender: str) -> bool:
        key, now = _sender_hash(sender), self.clock()
        tokens, then = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - then) * self.per_second)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > MAX_SENDERS:
            self._buckets.popitem(last=False)
        return allowed


# One round trip, atomic across processes; the clock is Redis's own, so machines with skewed clocks agree.
_BUCKET_SCRIPT = """
local burst, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local stored = redis.call('HMGET', KEYS[1], 'tokens', 'when')
local tokens = tonumber(stored[1]) or burst
local when = tonumber(stored[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - when) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'when', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return allowed
"""


class RedisBuckets:
    def __init__(self, url: str, burst: int, per_second: float, prefix: str = KEY_PREFIX) -> None:
        import redis.asyncio as aioredis

        self.burst, self.per_second, self.prefix = burst, per_second, prefix
        self.redis = aioredis.from_url(url)
        self._script = self.redis.register_script(_BUCKET_SCRIPT)

    def key(self, sender: str) -> str:
        return self.prefix + _sender_hash(sender)

    async def allow(self, sender: str) -> bool:
        try:
            return bool(await self._script(keys=[self.key(sender)], args=[self.burst, self.per_second]))
        except Exception as error:  # noqa: BLE001 - Redis down: let citizens through rather than refuse everyone
            logger.warning("rate limit not applied, Redis failed: %s", type(error).__name__)
            return True


def configured() -> Limiter:
    from bot.settings import rate_limit

    burst, per_minute = rate_limit()
    if burst <= 0 or per_minute <= 0:
        return Unlimited()
    redis_url = os.environ.get("HUJI_REDIS_URL")
    if redis_url:
        return RedisBuckets(redis_url, burst, per_minute / 60)
    return MemoryBuckets(burst, per_minute / 60)


_limiter: Limiter | None = None


async def allow(sender: str) -> bool:
    """Whether this process may hand the sender's message to the assistant now (the channels' one-line hook)."""
    global _limiter
    if _limiter is None:
        _limiter = configured()
    return await _limiter.allow(sender)
