"""Conversation lock store: one conversation's turns run one at a time, in arrival order, across processes.

endpoints.yml names `bot.lock_store.HujiLockStore`. With `HUJI_REDIS_URL` set it keeps the locks in Redis, so
several Rasa instances behind one proxy serialize each conversation; without it, in this process's memory.

Why not Rasa's own `RedisLockStore`: it issues, renews and returns tickets by reading the whole lock from Redis,
changing it in Python and writing it back (rasa issues 9213 and 7921), so
  - two instances that take a ticket at the same moment both get the same number and run the turn concurrently,
    or one overwrites the other's ticket;
  - an instance that finishes deletes the lock while another has just queued behind it, which then fails with
    `LockError` (the message is lost);
  - a ticket expires after a fixed 60 s even while its turn is still running, and the next turn then runs beside it;
  - a waiting turn polls once a second, so queued turns wait up to a second each.
Here every change is one Lua script (atomic in Redis): tickets come from INCR, the queue is ordered by ticket
number, and a ticket's lease is renewed while its turn runs or waits, so only a crashed process's tickets expire.
Times are Redis's clock (TIME), not each machine's.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockStore

logger = logging.getLogger(__name__)

LEASE_SECONDS = 10.0  # how long a crashed process's ticket blocks its conversation; live tickets are renewed
POLL_FIRST, POLL_MAX = 0.01, 0.1  # a waiting turn is woken by the one before it; polling only finds expiries
IDLE_KEY_SECONDS = 3600  # keys of a conversation nobody is talking in disappear by themselves

_PRUNE = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function prune(queue, leases, now)
  local all = redis.call('HGETALL', leases)
  for i = 1, #all, 2 do
    if tonumber(all[i + 1]) < now then
      redis.call('HDEL', leases, all[i])
      redis.call('ZREM', queue, all[i])
    end
  end
end
local function keep(idle_ms)
  for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, idle_ms) end
end
"""

# KEYS: queue (zset ticket->ticket), leases (hash ticket->expiry ms), counter. ARGV: lease ms, idle ms.
ISSUE = _PRUNE + """
local now = now_ms()
local ticket = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[1], ticket, ticket)
redis.call('HSET', KEYS[2], ticket, now + tonumber(ARGV[1]))
keep(tonumber(ARGV[2]))
return ticket
"""

# ARGV: ticket, lease ms, idle ms. 1: the ticket is served now; 0: wait; -1: the ticket expired.
TRY_ACQUIRE = _PRUNE + """
local now = now_ms()
prune(KEYS[1], KEYS[2], now)
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return -1 end
redis.call('HSET', KEYS[2], ARGV[1], now + tonumber(ARGV[2]))
keep(tonumber(ARGV[3]))
local head = redis.call('ZRANGE', KEYS[1], 0, 0)
if head[1] == ARGV[1] then return 1 end
return 0
"""

# ARGV: ticket, lease ms, idle ms. 1: renewed; 0: the ticket had already expired.
RENEW = _PRUNE + """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], now_ms() + tonumber(ARGV[2]))
keep(tonumber(ARGV[3]))
return 1
"""

# KEYS: queue, leases, wake-up list prefix. ARGV: ticket. 1: released; 0: the ticket had already expired (its
# turn outlived its lease). The next ticket's process is woken through its list instead of waiting for its poll.
RELEASE = """
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[3] .. ARGV[1])
local head = redis.call('ZRANGE', KEYS[1], 0, 0)
if head[1] then
  redis.call('RPUSH', KEYS[3] .. head[1], 1)
  redis.call('PEXPIRE', KEYS[3] .. head[1], 60000)
else
  redis.call('DEL', KEYS[1], KEYS[2])
end
return removed
"""


def conversation_key(conversation_id: str) -> str:
    """Sender ids can be phone numbers or WeChat OpenIDs: keys hold a hash, never the id."""
    return hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()[:32]


class RedisTicketLocks:
    """FIFO ticket locks in Redis, one queue per conversation, shared by every process using the same prefix."""

    def __init__(self, url: str, prefix: str = "huji:", lease_seconds: float = LEASE_SECONDS) -> None:
        import redis.asyncio

        self.url, self.prefix, self.lease_seconds = url, prefix, lease_seconds
        self.redis = redis.asyncio.from_url(url)
        self._issue, self._try = self.redis.register_script(ISSUE), self.redis.register_script(TRY_ACQUIRE)
        self._renew, self._release = self.redis.register_script(RENEW), self.redis.register_script(RELEASE)

    def _base(self, conversation_id: str) -> str:
        return f"{self.prefix}lock:{conversation_key(conversation_id)}"

    def keys(self, conversation_id: str) -> list[str]:
        base = self._base(conversation_id)
        return [f"{base}:queue", f"{base}:leases", f"{base}:next"]

    def _times(self) -> tuple[int, int]:
        return int(self.lease_seconds * 1000), IDLE_KEY_SECONDS * 1000

    async def issue(self, conversation_id: str) -> int:
        return int(await self._issue(keys=self.keys(conversation_id), args=list(self._times())))

    async def wait_for_turn(self, conversation_id: str, ticket: int) -> int:
        """Returns the ticket that is now served (a new one only if ours expired while this process stalled)."""
        pause = POLL_FIRST
        while True:
            state = int(await self._try(keys=self.keys(conversation_id), args=[ticket, *self._times()]))
            if state == 1:
                return ticket
            if state == -1:  # the event loop stalled longer than a lease: queue again rather than drop the turn
                logger.warning("Conversation lock ticket %s expired while waiting; queueing again.", ticket)
                ticket = await self.issue(conversation_id)
                continue
            # woken at once when the turn before ours ends; the timeout catches a crashed holder's expiry
            await self.redis.blpop([f"{self._base(conversation_id)}:wake:{ticket}"], timeout=pause)
            pause = min(POLL_MAX, pause * 2)

    async def renew(self, conversation_id: str, ticket: int) -> bool:
        return bool(await self._renew(keys=self.keys(conversation_id), args=[ticket, *self._times()]))

    async def release(self, conversation_id: str, ticket: int) -> bool:
        keys = [*self.keys(conversation_id)[:2], f"{self._base(conversation_id)}:wake:"]
        return bool(await self._release(keys=keys, args=[ticket]))

    @asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[int]:
        ticket = await self.issue(conversation_id)
        try:
            ticket = await self.wait_for_turn(conversation_id, ticket)
            keeper = asyncio.create_task(self._keep_alive(conversation_id, ticket))
            try:
                yield ticket
            finally:
                keeper.cancel()
        finally:  # also when the waiting was cancelled: our ticket must not block the queue until it expires
            if not await asyncio.shield(self.release(conversation_id, ticket)):
                logger.error("A turn outlived its conversation lock lease (%.0f s); another turn may have run "
                             "beside it.", self.lease_seconds)

    async def _keep_alive(self, conversation_id: str, ticket: int) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                if not await self.renew(conversation_id, ticket):
                    logger.error("Conversation lock lease lost during a turn (the process stalled).")
                    return
            except Exception:  # noqa: BLE001 - Redis briefly unreachable: try again at the next beat
                logger.warning("Could not renew a conversation lock lease.", exc_info=True)

    async def close(self) -> None:
        await self.redis.close()


class MemoryTicketLocks:
    """The same guarantees inside one process: a FIFO asyncio lock per conversation, forgotten when idle."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # conversation -> (lock, holders and waiters)
        self._issued = 0

    @asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[int]:
        lock, users = self._locks.get(conversation_id) or (asyncio.Lock(), 0)
        self._locks[conversation_id] = (lock, users + 1)
        self._issued += 1
        try:
            async with lock:  # asyncio.Lock hands over to waiters first come, first served
                yield self._issued
        finally:
            lock, users = self._locks[conversation_id]
            if users == 1:
                del self._locks[conversation_id]
            else:
                self._locks[conversation_id] = (lock, users - 1)

    async def close(self) -> None:
        pass


class HujiLockStore(LockStore):
    """Rasa's lock-store interface over Redis (`HUJI_REDIS_URL`, keys under `HUJI_REDIS_PREFIX`) or memory."""

    def __init__(self, endpoint_config: Any = None, url: str | None = None, prefix: str | None = None) -> None:
        kwargs = getattr(endpoint_config, "kwargs", None) or {}
        url = url or getattr(endpoint_config, "url", None) or os.environ.get("HUJI_REDIS_URL") or None
        prefix = prefix or kwargs.get("key_prefix") or os.environ.get("HUJI_REDIS_PREFIX") or "huji:"
        lease = float(kwargs.get("lease_seconds") or os.environ.get("HUJI_LOCK_LEASE_SECONDS") or LEASE_SECONDS)
        self.locks: RedisTicketLocks | MemoryTicketLocks = (
            RedisTicketLocks(url, prefix, lease) if url else MemoryTicketLocks())
        logger.info("Conversation locks: %s", "Redis" if url else "in memory (one Rasa process only)")
        super().__init__()

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = 0,
                   wait_time_in_seconds: float = 0) -> AsyncIterator[TicketLock]:
        """Rasa's signature; the lifetime and polling interval are ours (leases renewed while a turn runs)."""
        async with self.locks.hold(conversation_id):
            yield TicketLock(conversation_id)

    # Rasa's ticket-by-ticket interface is read-modify-write by design; nothing in Rasa 3.6 calls it besides lock().
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        raise NotImplementedError("HujiLockStore serializes turns through lock() only")

    def save_lock(self, lock: TicketLock) -> None:
        raise NotImplementedError("HujiLockStore serializes turns through lock() only")

    def delete_lock(self, conversation_id: str) -> None:
        raise NotImplementedError("HujiLockStore serializes turns through lock() only")
