"""What the WeChat channel remembers between requests: messages seen (replay and retry) and the choices offered.

In memory for one process, or in Redis when `HUJI_REDIS_URL` is set, so that several processes behind one URL
agree: a message claimed by one is not run again by another. Keys are hashed: no OpenID is stored in clear. All keys
start with one prefix (tests use a throwaway one); wechatpy's shared access token lives under `<prefix>token:`.
"""

from __future__ import annotations

import hashlib
import json
import time

PREFIX = "huji:wechat:"
PROCESSING = "processing"
SEEN_TTL = 24 * 3600  # WeChat's MsgIds are unique; a day covers every retry and any replay worth stopping
PROCESSING_TTL = 120  # a turn that died with its process frees the message again
CHOICES_TTL = 2 * 24 * 3600


def _hash(kind: str, key: str, prefix: str = PREFIX) -> str:
    return f"{prefix}{kind}:" + hashlib.sha256(key.encode()).hexdigest()[:32]


class MemoryStore:
    def __init__(self, prefix: str = PREFIX) -> None:
        self.prefix = prefix
        self._data: dict[str, tuple[float, str]] = {}

    def _key(self, kind: str, key: str) -> str:
        return _hash(kind, key, self.prefix)

    def _get(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None or item[0] < time.monotonic():
            self._data.pop(key, None)
            return None
        return item[1]

    def _set(self, key: str, value: str, ttl: int) -> None:
        if len(self._data) > 100_000:
            now = time.monotonic()
            self._data = {k: v for k, v in self._data.items() if v[0] >= now}
        self._data[key] = (time.monotonic() + ttl, value)

    async def claim(self, key: str) -> str | None:
        """None when this call claimed the message; else what is recorded (PROCESSING or the answer)."""
        k = self._key("msg", key)
        current = self._get(k)
        if current is None:
            self._set(k, PROCESSING, PROCESSING_TTL)
        return current

    async def get(self, key: str) -> str | None:
        return self._get(self._key("msg", key))

    async def finish(self, key: str, answer: str) -> None:
        self._set(self._key("msg", key), answer, SEEN_TTL)

    async def set_choices(self, openid: str, buttons: list[dict]) -> None:
        self._set(self._key("choices", openid), json.dumps(buttons, ensure_ascii=False), CHOICES_TTL)

    async def choices(self, openid: str) -> list[dict]:
        return json.loads(self._get(self._key("choices", openid)) or "[]")


class RedisStore(MemoryStore):
    def __init__(self, url: str, prefix: str = PREFIX) -> None:
        import redis.asyncio as aioredis

        self.prefix = prefix
        self.redis = aioredis.from_url(url, decode_responses=True)

    async def claim(self, key: str) -> str | None:
        k = self._key("msg", key)
        if await self.redis.set(k, PROCESSING, nx=True, ex=PROCESSING_TTL):
            return None
        return await self.redis.get(k) or PROCESSING

    async def get(self, key: str) -> str | None:
        return await self.redis.get(self._key("msg", key))

    async def finish(self, key: str, answer: str) -> None:
        await self.redis.set(self._key("msg", key), answer, ex=SEEN_TTL)

    async def set_choices(self, openid: str, buttons: list[dict]) -> None:
        await self.redis.set(self._key("choices", openid), json.dumps(buttons, ensure_ascii=False), ex=CHOICES_TTL)

    async def choices(self, openid: str) -> list[dict]:
        return json.loads(await self.redis.get(self._key("choices", openid)) or "[]")


def make_store(redis_url: str | None, prefix: str = PREFIX) -> MemoryStore:
    return RedisStore(redis_url, prefix) if redis_url else MemoryStore(prefix)
