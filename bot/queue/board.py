"""The live queue board: applies ticket-machine events per hall and reports waiting, counters and estimated wait.

State lives in a store (bot/queue/stores.py): this process's memory, or Redis when several processes serve.
Methods never await; each update is one atomic change of a hall's state.
Event JSON (the machines' contract, also in bot/api/openapi/queue.yml):
    {"type": "ticket_issued", "ticket": "A012", "category": "birth", "at": "2024-05-08T09:30:00+08:00"}
    {"type": "ticket_called", "ticket": "A012", "counter": 3, "at": ...}
    {"type": "counter_opened", "counter": 3, "at": ...}
    {"type": "counter_closed", "counter": 3, "at": ...}
    {"type": "heartbeat", "at": ...}            # "still running, nothing new": keeps a quiet hall from looking stale
`at` is optional (default: the server's clock); `"simulated": true` marks events from the simulator.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.halls.hours import TZ  # a hall's day (ticket numbers restart daily) is a Guangzhou day
from bot.queue.stores import MemoryStore, RedisStore

EVENT_TYPES = ("ticket_issued", "ticket_called", "counter_opened", "counter_closed", "heartbeat")
_NEEDS = {"ticket_issued": ("ticket",), "ticket_called": ("ticket", "counter"), "counter_opened": ("counter",),
          "counter_closed": ("counter",), "heartbeat": ()}

MAX_FUTURE = dt.timedelta(minutes=5)  # machine clocks drift a little; more means a wrong clock
MAX_AGE = dt.timedelta(hours=24)
DEFAULT_STALE_AFTER = dt.timedelta(minutes=10)
# Until a hall has measured services, assume a typical household-registration case takes 10 minutes at the counter
# (reported with avg_service_measured: false).
DEFAULT_SERVICE_MINUTES = 10.0
SERVICE_SAMPLES = 20  # the average follows the last 20 services, so it tracks the current mix of cases
MIN_SERVICE = dt.timedelta(seconds=30)  # shorter: a recall or a no-show, not a service
MAX_SERVICE = dt.timedelta(minutes=90)  # longer: the counter was paused, not serving
MAX_TICKET_LENGTH = 16
MAX_CATEGORY_LENGTH = 32
MAX_WAITING = 2000  # no hall has that many people waiting; the cap only bounds memory if a machine misbehaves
MAX_CALLED = 3000  # today's called tickets, remembered so a resent issue or a recall is not counted twice


class QueueEventError(ValueError):
    """An event the board refuses: `code` for programs, `message` in Chinese for people."""

    def __init__(self, code: str, message: str, index: int | None = None):
        super().__init__(message)
        self.code, self.message, self.index = code, message, index


@dataclass(frozen=True)
class QueueEvent:
    type: str
    at: dt.datetime
    ticket: str | None = None
    counter: int | None = None
    category: str | None = None
    simulated: bool = False

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "at": self.at.isoformat()}
        for name in ("ticket", "counter", "category"):
            if getattr(self, name) is not None:
                body[name] = getattr(self, name)
        if self.simulated:
            body["simulated"] = True
        return body


def _ticket(raw: dict[str, Any]) -> str:
    value = raw.get("ticket")
    if not isinstance(value, str) or not 0 < len(value.strip()) <= MAX_TICKET_LENGTH \
            or any(not ch.isprintable() for ch in value):
        raise QueueEventError("invalid_ticket", f"票号 ticket 应为 1 到 {MAX_TICKET_LENGTH} 个字符的字符串，如 A012。")
    return value.strip()


def _counter(raw: dict[str, Any]) -> int:
    value = raw.get("counter")
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 99:
        raise QueueEventError("invalid_counter", "窗口号 counter 应为 1 到 99 的整数。")
    return value


def _at(raw: dict[str, Any], now: dt.datetime) -> dt.datetime:
    value = raw.get("at")
    if value is None:
        return now
    bad = QueueEventError("invalid_time", "时间 at 应为带时区的 ISO 8601 时间，如 2024-05-08T09:30:00+08:00。")
    if not isinstance(value, str) or len(value) > 40:
        raise bad
    try:
        at = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise bad from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise bad
    if at - now > MAX_FUTURE:
        raise QueueEventError("time_in_future", "事件时间 at 比服务器时间晚 5 分钟以上，请校准取号机时钟。")
    if now - at > MAX_AGE:
        raise QueueEventError("time_too_old", "事件时间 at 已超过 24 小时，不再接收。")
    return at


def parse_event(raw: Any, now: dt.datetime) -> QueueEvent:
    """Validate one event as sent by a machine; raise QueueEventError saying what is wrong."""
    if not isinstance(raw, dict):
        raise QueueEventError("invalid_event", "每个事件应为 JSON 对象。")
    kind = raw.get("type")
    if kind not in EVENT_TYPES:
        shown = str(kind)[:30] if kind is not None else "（缺少 type）"
        raise QueueEventError("unknown_type", f"未知的事件类型 {shown}，可选：{'、'.join(EVENT_TYPES)}。")
    needs = _NEEDS[kind]
    category = raw.get("category")
    if category is not None and (not isinstance(category, str) or not 0 < len(category) <= MAX_CATEGORY_LENGTH):
        raise QueueEventError("invalid_category",
                              f"业务分类 category 应为不超过 {MAX_CATEGORY_LENGTH} 个字符的字符串。")
    simulated = raw.get("simulated", False)
    if not isinstance(simulated, bool):
        raise QueueEventError("invalid_simulated", "simulated 应为 true 或 false。")
    return QueueEvent(
        type=kind,
        at=_at(raw, now),
        ticket=_ticket(raw) if "ticket" in needs else None,
        counter=_counter(raw) if "counter" in needs else None,
        category=category if kind == "ticket_issued" else None,
        simulated=simulated,
    )


@dataclass(frozen=True)
class _Service:
    since: dt.datetime  # the call that started it
    queued: bool  # people were still waiting right after that call


@dataclass
class _Hall:
    day: dt.date | None = None
    waiting: OrderedDict[str, dt.datetime] = field(default_factory=OrderedDict)  # ticket → issued at, oldest first
    called: OrderedDict[str, int] = field(default_factory=OrderedDict)  # today's called tickets → counter
    counters: dict[int, _Service | None] = field(default_factory=dict)  # open counter → its current service
    emptied_at: dt.datetime | None = None  # when the last waiting person was called
    services: deque[float] = field(default_factory=lambda: deque(maxlen=SERVICE_SAMPLES))  # minutes
    updated_at: dt.datetime | None = None
    simulated: bool = False

    def new_day(self, day: dt.date) -> None:
        """Ticket numbers restart and counters are set up afresh every day; yesterday's leftovers are not live."""
        self.day = day
        self.waiting.clear()
        self.called.clear()
        self.counters.clear()
        self.emptied_at = None

    def end_service(self, service: _Service | None, end: dt.datetime) -> None:
        """Count the gap from a counter's call to its next call (or its closing) as a service only if the queue was
        never empty in between.

        Machines report calls, not completions, so the gap includes any time the counter stood idle for lack of
        customers. While people wait, a counter that finishes calls the next one at once: the gap is service time.
        """
        if service is None or not service.queued or not self.waiting:
            return
        if self.emptied_at is not None and self.emptied_at > service.since:
            return
        if MIN_SERVICE <= end - service.since <= MAX_SERVICE:
            self.services.append((end - service.since).total_seconds() / 60)

    def issue(self, event: QueueEvent) -> None:
        ticket = event.ticket or ""
        if ticket in self.waiting or ticket in self.called:
            return  # a resent event: machines retry
        self.waiting[ticket] = event.at
        while len(self.waiting) > MAX_WAITING:
            self.waiting.popitem(last=False)

    def call(self, event: QueueEvent) -> None:
        ticket, counter = event.ticket or "", event.counter or 0
        if ticket in self.called:
            return  # a recall of someone who did not come up: not a new service
        self.end_service(self.counters.get(counter), event.at)
        if self.waiting.pop(ticket, None) is None and self.waiting:
            # We missed its issue (a machine restart): the call still takes one person off the queue.
            self.waiting.popitem(last=False)
        self.called[ticket] = counter
        while len(self.called) > MAX_CALLED:
            self.called.popitem(last=False)
        if not self.waiting:
            self.emptied_at = max(self.emptied_at, event.at) if self.emptied_at else event.at
        current = self.counters.get(counter)
        if current is None or event.at >= current.since:  # a call implies an open counter
            self.counters[counter] = _Service(event.at, bool(self.waiting))

    def close(self, event: QueueEvent) -> None:
        if event.counter in self.counters:
            self.end_service(self.counters.pop(event.counter or 0), event.at)

    def apply(self, event: QueueEvent) -> None:
        day = event.at.astimezone(TZ).date()
        if self.day is None or day > self.day:
            self.new_day(day)
        elif day < self.day:
            return  # a late event from a day already over: it says nothing about today
        if event.type == "ticket_issued":
            self.issue(event)
        elif event.type == "ticket_called":
            self.call(event)
        elif event.type == "counter_opened":
            self.counters.setdefault(event.counter or 0, None)
        elif event.type == "counter_closed":
            self.close(event)
        self.updated_at = max(self.updated_at, event.at) if self.updated_at else event.at
        self.simulated = event.simulated


class QueueBoard:
    def __init__(self, clock: Callable[[], dt.datetime], stale_after: dt.timedelta = DEFAULT_STALE_AFTER,
                 store: MemoryStore | RedisStore | None = None):
        self.clock = clock
        self.stale_after = stale_after
        self.store = store or MemoryStore()

    def parse(self, raw: Any) -> QueueEvent:
        return parse_event(raw, self.clock())

    def apply(self, hall_id: str, event: dict[str, Any] | QueueEvent) -> None:
        """Validate (if raw JSON) and apply one event; raises QueueEventError."""
        parsed = event if isinstance(event, QueueEvent) else self.parse(event)
        self.store.update(hall_id, lambda hall: hall.apply(parsed), _Hall)

    def apply_all(self, hall_id: str, events: Iterable[Any]) -> int:
        """All or nothing: validate every event first; the error carries the index of the first bad one."""
        now = self.clock()
        parsed: list[QueueEvent] = []
        for index, raw in enumerate(events):
            try:
                parsed.append(parse_event(raw, now))
            except QueueEventError as e:
                e.index = index
                raise

        def apply_batch(hall: _Hall) -> None:
            for event in parsed:
                hall.apply(event)

        self.store.update(hall_id, apply_batch, _Hall)  # one transaction: a batch is seen whole or not at all
        return len(parsed)

    def report(self, hall_id: str, open_now: bool | None = None) -> dict[str, Any]:
        """What a citizen may be told now. `open_now` (from the hall's hours) turns silence in opening hours into
        "stale" rather than "closed"."""
        return self._report(hall_id, self.store.load_many([hall_id]).get(hall_id), open_now)

    def _report(self, hall_id: str, hall: _Hall | None, open_now: bool | None) -> dict[str, Any]:
        out: dict[str, Any] = {"hall_id": hall_id, "status": "no_data", "waiting": None, "counters_open": None,
                               "avg_service_minutes": None, "avg_service_measured": False,
                               "estimated_wait_minutes": None, "updated_at": None, "simulated": False,
                               "note": "暂无排队数据。"}
        if hall is None or hall.updated_at is None:
            return out
        measured = bool(hall.services)
        avg = sum(hall.services) / len(hall.services) if measured else DEFAULT_SERVICE_MINUTES
        out.update(avg_service_minutes=round(avg, 1), avg_service_measured=measured,
                   updated_at=hall.updated_at.isoformat(), simulated=hall.simulated, note=None)
        fresh = self.clock() - hall.updated_at <= self.stale_after
        active = bool(hall.counters or hall.waiting)
        if fresh and active:
            waiting, counters = len(hall.waiting), len(hall.counters)
            out.update(status="live", waiting=waiting, counters_open=counters)
            if waiting == 0:
                out["estimated_wait_minutes"] = 0
            elif counters:
                out["estimated_wait_minutes"] = math.ceil(waiting * avg / counters)
            else:
                out["note"] = "暂无开放窗口，无法估算等候时间。"
        elif active or (not fresh and open_now):
            minutes = int(self.stale_after.total_seconds() // 60)
            out.update(status="stale", note=f"排队数据已超过 {minutes} 分钟未更新，暂不显示实时人数。")
        else:
            out.update(status="closed", waiting=0, counters_open=0, note="目前没有开放的窗口。")
        return out

    def reports(self, hall_ids: Iterable[str], open_now: Mapping[str, bool] | None = None) -> list[dict[str, Any]]:
        ids = list(hall_ids)
        halls = self.store.load_many(ids)  # one round trip to Redis for the whole city
        return [self._report(h, halls.get(h), (open_now or {}).get(h)) for h in ids]
