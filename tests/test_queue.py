"""The live queue board (events, averages, estimated wait, staleness, validation), the hall keys and the HTTP API."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.api import openapi, queue_routes
from bot.api.context import CATALOG, CLOCK
from bot.api.errors import error_middleware
from bot.catalog.model import Catalog, CategoryInfo
from bot.halls.hours import TZ
from bot.halls.model import Hall, Schedule, Window
from bot.queue import keys
from bot.queue.board import MAX_WAITING, SERVICE_SAMPLES, QueueBoard, QueueEventError, parse_event

SECRET = "test-secret"
WEDNESDAY = dt.datetime(2024, 5, 8, 10, 0, tzinfo=TZ)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, moment: dt.datetime = WEDNESDAY):
        self.moment = moment

    def __call__(self) -> dt.datetime:
        return self.moment

    def advance(self, minutes: float) -> dt.datetime:
        self.moment += dt.timedelta(minutes=minutes)
        return self.moment


def office_hours() -> Schedule:
    windows = (Window(dt.time(9), dt.time(12)), Window(dt.time(13, 30), dt.time(17)))
    return Schedule("office", "周一至周五 9:00-12:00，13:30-17:00", {"weekday": windows, "saturday": (),
                                                                    "sunday": (), "holiday": ()})


def make_hall(hall_id: str, district: str = "天河", kind: str = "center", counters: int = 6,
              categories: frozenset[str] | None = None) -> Hall:
    return Hall(hall_id, f"{hall_id} 大厅", kind, district, "某路 1 号", "020-12345678", office_hours(), categories,
                counters)


def make_catalog(halls: list[Hall]) -> Catalog:
    return Catalog([CategoryInfo("birth", "出生登记", ""), CategoryInfo("move", "迁移", "")], {}, {}, halls)


def at(clock: Clock, minutes: float = 0) -> str:
    return (clock.moment + dt.timedelta(minutes=minutes)).isoformat()


def issue(board: QueueBoard, ticket: str, minutes: float = 0, hall: str = "h") -> None:
    board.apply(hall, {"type": "ticket_issued", "ticket": ticket, "at": at(board.clock, minutes)})


def call(board: QueueBoard, ticket: str, counter: int, minutes: float = 0, hall: str = "h") -> None:
    board.apply(hall, {"type": "ticket_called", "ticket": ticket, "counter": counter, "at": at(board.clock, minutes)})


def counter(board: QueueBoard, kind: str, number: int, minutes: float = 0, hall: str = "h") -> None:
    board.apply(hall, {"type": f"counter_{kind}", "counter": number, "at": at(board.clock, minutes)})


@pytest.fixture
def board() -> QueueBoard:
    return QueueBoard(Clock())


# -- the board ---------------------------------------------------------------------------------------------------


def test_issue_call_and_counters_give_waiting_and_estimate(board: QueueBoard) -> None:
    counter(board, "opened", 1)
    counter(board, "opened", 2)
    for n in range(1, 6):
        issue(board, f"A00{n}")
    report = board.report("h")
    assert report["status"] == "live"
    assert (report["waiting"], report["counters_open"]) == (5, 2)
    assert report["avg_service_minutes"] == 10.0 and report["avg_service_measured"] is False
    assert report["estimated_wait_minutes"] == 25  # ⌈5 × 10 / 2⌉
    call(board, "A001", 1)
    call(board, "A002", 2)
    report = board.report("h")
    assert (report["waiting"], report["estimated_wait_minutes"]) == (3, 15)
    assert report["updated_at"] == WEDNESDAY.isoformat()
    assert report["simulated"] is False and report["note"] is None


def test_average_service_time_comes_from_calls_at_a_busy_counter() -> None:
    clock = Clock()
    board = QueueBoard(clock)
    counter(board, "opened", 1)
    for n in range(1, 5):
        issue(board, f"A00{n}")
    call(board, "A001", 1)
    clock.advance(8)
    call(board, "A002", 1)  # A001 took 8 minutes
    clock.advance(12)
    call(board, "A003", 1)  # A002 took 12
    report = board.report("h")
    assert report["avg_service_minutes"] == 10.0 and report["avg_service_measured"] is True
    clock.advance(16)
    call(board, "A004", 1)
    report = board.report("h")
    assert report["avg_service_minutes"] == 12.0  # (8 + 12 + 16) / 3
    assert (report["waiting"], report["estimated_wait_minutes"]) == (0, 0)


def test_idle_time_between_customers_is_not_service_time() -> None:
    clock = Clock()
    board = QueueBoard(clock)
    issue(board, "A001")
    call(board, "A001", 1)
    clock.advance(30)
    issue(board, "A002")  # came after the counter was already free
    clock.advance(1)
    call(board, "A002", 1)
    assert board.report("h")["avg_service_measured"] is False


def test_closing_a_counter_ends_its_service_when_people_wait() -> None:
    clock = Clock()
    board = QueueBoard(clock)
    issue(board, "A001")
    issue(board, "A002")
    call(board, "A001", 1)
    clock.advance(9)
    counter(board, "closed", 1)
    report = board.report("h")
    assert report["avg_service_minutes"] == 9.0
    assert (report["counters_open"], report["waiting"]) == (0, 1)


def test_average_follows_the_most_recent_services() -> None:
    clock = Clock(WEDNESDAY.replace(hour=0))
    board = QueueBoard(clock)
    for n in range(2 * SERVICE_SAMPLES + 10):
        issue(board, f"B{n}")
    gaps = [25] * SERVICE_SAMPLES + [5] * SERVICE_SAMPLES  # 20 long services, then 20 short ones
    for n, gap in enumerate(gaps):
        call(board, f"B{n}", 1)
        clock.advance(gap)
    call(board, f"B{len(gaps)}", 1)
    report = board.report("h")
    assert report["avg_service_measured"] is True
    assert report["avg_service_minutes"] == 5.0


def test_duplicate_tickets_and_recalls_are_counted_once(board: QueueBoard) -> None:
    counter(board, "opened", 1)
    issue(board, "A001")
    issue(board, "A001")
    assert board.report("h")["waiting"] == 1
    call(board, "A001", 1)
    issue(board, "A001")  # a retry arriving after the call
    call(board, "A001", 1)  # a recall
    report = board.report("h")
    assert (report["waiting"], report["counters_open"]) == (0, 1)


def test_unknown_ticket_call_counts_but_never_goes_negative(board: QueueBoard) -> None:
    issue(board, "A001")
    issue(board, "A002")
    call(board, "Z900", 1)  # the machine restarted and lost its list
    assert board.report("h")["waiting"] == 1
    call(board, "Z901", 1)
    call(board, "Z902", 1)
    report = board.report("h")
    assert report["waiting"] == 0 and report["counters_open"] == 1  # a call implies an open counter


def test_counter_events_are_idempotent(board: QueueBoard) -> None:
    counter(board, "opened", 3)
    counter(board, "opened", 3)
    counter(board, "closed", 7)
    assert board.report("h")["counters_open"] == 1
    counter(board, "closed", 3)
    counter(board, "closed", 3)
    assert board.report("h")["status"] == "closed"


def test_people_waiting_with_no_counter_open(board: QueueBoard) -> None:
    issue(board, "A001")
    report = board.report("h")
    assert report["status"] == "live" and report["waiting"] == 1 and report["counters_open"] == 0
    assert report["estimated_wait_minutes"] is None
    assert "暂无开放窗口" in report["note"]


def test_silent_hall_is_stale_not_live() -> None:
    clock = Clock()
    board = QueueBoard(clock)
    counter(board, "opened", 1)
    issue(board, "A001")
    clock.advance(10)
    assert board.report("h")["status"] == "live"
    clock.advance(1)
    report = board.report("h")
    assert report["status"] == "stale"
    assert report["waiting"] is None and report["counters_open"] is None and report["estimated_wait_minutes"] is None
    assert report["updated_at"] == WEDNESDAY.isoformat()
    assert "未更新" in report["note"]
    board.apply("h", {"type": "heartbeat"})  # the machine is alive: the figures are current again
    assert board.report("h")["status"] == "live"


def test_closed_no_data_and_silence_in_opening_hours() -> None:
    clock = Clock()
    board = QueueBoard(clock)
    assert board.report("nowhere")["status"] == "no_data"
    assert board.report("nowhere")["waiting"] is None
    counter(board, "opened", 1)
    counter(board, "closed", 1)
    report = board.report("h")
    assert (report["status"], report["waiting"], report["counters_open"]) == ("closed", 0, 0)
    clock.advance(60)
    assert board.report("h", open_now=False)["status"] == "closed"
    assert board.report("h", open_now=True)["status"] == "stale"  # should be open, yet the machines say nothing
    assert [r["hall_id"] for r in board.reports(["h", "x"])] == ["h", "x"]


def test_simulated_flag_is_reported(board: QueueBoard) -> None:
    board.apply("h", {"type": "counter_opened", "counter": 1, "simulated": True})
    assert board.report("h")["simulated"] is True


def test_a_new_day_starts_afresh() -> None:
    clock = Clock(WEDNESDAY.replace(hour=16, minute=55))
    board = QueueBoard(clock)
    counter(board, "opened", 1)
    issue(board, "A001")
    clock.moment = WEDNESDAY.replace(day=9, hour=9)
    counter(board, "opened", 2)
    report = board.report("h")
    assert (report["waiting"], report["counters_open"]) == (0, 1)
    issue(board, "A001", minutes=-16 * 60)  # a late event from yesterday changes nothing today
    assert board.report("h")["waiting"] == 0
    issue(board, "A001")  # today's A001 is a new person
    assert board.report("h")["waiting"] == 1


def test_state_stays_bounded(board: QueueBoard) -> None:
    board.apply_all("h", [{"type": "ticket_issued", "ticket": f"T{n}"} for n in range(MAX_WAITING + 50)])
    assert board.report("h")["waiting"] == MAX_WAITING


def test_time_defaults_to_now_and_accepts_utc(board: QueueBoard) -> None:
    event = board.parse({"type": "heartbeat"})
    assert event.at == WEDNESDAY
    event = board.parse({"type": "heartbeat", "at": "2024-05-08T01:59:00Z"})
    assert event.at == WEDNESDAY - dt.timedelta(minutes=1)


@pytest.mark.parametrize(("event", "code"), [
    ([], "invalid_event"),
    ({}, "unknown_type"),
    ({"type": "ticket_printed", "ticket": "A1"}, "unknown_type"),
    ({"type": "ticket_issued"}, "invalid_ticket"),
    ({"type": "ticket_issued", "ticket": ""}, "invalid_ticket"),
    ({"type": "ticket_issued", "ticket": "A" * 17}, "invalid_ticket"),
    ({"type": "ticket_issued", "ticket": 12}, "invalid_ticket"),
    ({"type": "ticket_called", "ticket": "A1"}, "invalid_counter"),
    ({"type": "ticket_called", "ticket": "A1", "counter": 0}, "invalid_counter"),
    ({"type": "counter_opened", "counter": 100}, "invalid_counter"),
    ({"type": "counter_opened", "counter": "3"}, "invalid_counter"),
    ({"type": "counter_opened", "counter": True}, "invalid_counter"),
    ({"type": "counter_opened", "counter": 2.0}, "invalid_counter"),
    ({"type": "heartbeat", "at": "2024-05-08 10:00"}, "invalid_time"),
    ({"type": "heartbeat", "at": "yesterday"}, "invalid_time"),
    ({"type": "heartbeat", "at": 1715133600}, "invalid_time"),
    ({"type": "heartbeat", "at": "2024-05-08T10:06:00+08:00"}, "time_in_future"),
    ({"type": "heartbeat", "at": "2024-05-07T09:59:00+08:00"}, "time_too_old"),
    ({"type": "ticket_issued", "ticket": "A1", "category": ["birth"]}, "invalid_category"),
    ({"type": "heartbeat", "simulated": "yes"}, "invalid_simulated"),
])
def test_invalid_events_are_refused_with_a_reason(event: Any, code: str) -> None:
    with pytest.raises(QueueEventError) as raised:
        parse_event(event, WEDNESDAY)
    assert raised.value.code == code
    assert raised.value.message and not raised.value.message.isascii()  # a Chinese explanation


def test_clock_drift_within_five_minutes_is_accepted() -> None:
    assert parse_event({"type": "heartbeat", "at": "2024-05-08T10:04:59+08:00"}, WEDNESDAY).type == "heartbeat"


def test_a_batch_is_all_or_nothing(board: QueueBoard) -> None:
    with pytest.raises(QueueEventError) as raised:
        board.apply_all("h", [{"type": "ticket_issued", "ticket": "A1"}, {"type": "ticket_called", "ticket": "A1"}])
    assert raised.value.index == 1
    assert board.report("h")["status"] == "no_data"


# -- keys --------------------------------------------------------------------------------------------------------


def test_hall_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    key = keys.hall_key(SECRET, "tianhe-center")
    assert len(key) == 32 and int(key, 16) >= 0
    assert key == keys.hall_key(SECRET, "tianhe-center")
    assert key != keys.hall_key(SECRET, "yuexiu-center") != keys.hall_key("other", "tianhe-center")
    assert keys.check_key(SECRET, "tianhe-center", key)
    assert not keys.check_key(SECRET, "yuexiu-center", key)
    assert not keys.check_key(SECRET, "tianhe-center", None)
    assert not keys.check_key(SECRET, "tianhe-center", "密钥")
    monkeypatch.delenv(keys.SECRET_ENV, raising=False)
    assert keys.default_secret() == keys.DEV_SECRET
    monkeypatch.setenv(keys.SECRET_ENV, "prod")
    assert keys.default_secret() == "prod"


# -- the HTTP API ------------------------------------------------------------------------------------------------

HALLS = [make_hall("tianhe-center"), make_hall("tianhe-station", kind="station", counters=3,
                                                   categories=frozenset({"move"})),
         make_hall("yuexiu-center", district="越秀")]


def make_app(clock: Callable[[], dt.datetime]) -> web.Application:
    app = web.Application(middlewares=[error_middleware])
    app[CATALOG] = make_catalog(HALLS)
    app[CLOCK] = clock
    queue_routes.setup(app, secret=SECRET)
    return app


@pytest_asyncio.fixture
async def client() -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_app(Clock()))) as c:
        yield c


def key_for(hall_id: str) -> dict[str, str]:
    return {"X-Hall-Key": keys.hall_key(SECRET, hall_id)}


async def post(client: TestClient, hall_id: str, body: Any, headers: dict[str, str] | None = None
               ) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    response = await client.post(f"/api/halls/{hall_id}/queue/events", data=data,
                                 headers=key_for(hall_id) if headers is None else headers)
    return response.status, await response.json()


@pytest.mark.asyncio
async def test_posting_events_and_reading_the_queue(client: TestClient) -> None:
    status, body = await post(client, "tianhe-center", {"type": "counter_opened", "counter": 1})
    assert (status, body) == (200, {"accepted": 1})
    events = [{"type": "ticket_issued", "ticket": f"A{n:03d}", "category": "birth"} for n in range(1, 4)]
    status, body = await post(client, "tianhe-center", {"events": events})
    assert (status, body) == (200, {"accepted": 3})
    response = await client.get("/api/halls/tianhe-center/queue")
    assert response.status == 200
    report = await response.json()
    assert report["hall_id"] == "tianhe-center" and report["name"] == "tianhe-center 大厅"
    assert report["district"] == "天河"
    assert (report["status"], report["waiting"], report["counters_open"]) == ("live", 3, 1)
    assert report["estimated_wait_minutes"] == 30


@pytest.mark.asyncio
async def test_bearer_key_is_accepted(client: TestClient) -> None:
    bearer = {"Authorization": f"Bearer {keys.hall_key(SECRET, 'tianhe-center')}"}
    status, _ = await post(client, "tianhe-center", {"type": "heartbeat"}, headers=bearer)
    assert status == 200


@pytest.mark.asyncio
@pytest.mark.parametrize(("headers", "code"), [
    ({}, "missing_key"),
    ({"Authorization": "Basic abc"}, "missing_key"),
    ({"X-Hall-Key": "0" * 32}, "bad_key"),
    ({"X-Hall-Key": keys.hall_key(SECRET, "yuexiu-center")}, "bad_key"),  # another hall's key
    ({"X-Hall-Key": keys.hall_key("wrong", "tianhe-center")}, "bad_key"),
])
async def test_events_need_the_halls_own_key(client: TestClient, headers: dict[str, str], code: str) -> None:
    status, body = await post(client, "tianhe-center", {"type": "heartbeat"}, headers=headers)
    assert status == 401 and body["error"]["code"] == code
    assert "密钥" in body["error"]["message"]


@pytest.mark.asyncio
async def test_unknown_hall_is_404(client: TestClient) -> None:
    status, body = await post(client, "no-such-hall", {"type": "heartbeat"})
    assert status == 404 and body["error"]["code"] == "hall_not_found"
    response = await client.get("/api/halls/no-such-hall/queue")
    assert response.status == 404


@pytest.mark.asyncio
@pytest.mark.parametrize(("body", "code"), [("{not json", "invalid_json"), ("", "empty_body"),
                                            ("[1, 2]", "invalid_json"), (b"\xff\xfe", "invalid_json")])
async def test_malformed_json_is_400(client: TestClient, body: str | bytes, code: str) -> None:
    status, answer = await post(client, "tianhe-center", body)
    assert status == 400 and answer["error"]["code"] == code


@pytest.mark.asyncio
async def test_invalid_events_are_422_and_change_nothing(client: TestClient) -> None:
    events = [{"type": "ticket_issued", "ticket": "A001"}, {"type": "ticket_called", "ticket": "A001", "counter": 0}]
    status, body = await post(client, "tianhe-center", {"events": events})
    assert status == 422 and body["error"]["code"] == "invalid_counter"
    assert body["error"]["details"]["index"] == 1 and "第 2 个事件" in body["error"]["message"]
    report = await (await client.get("/api/halls/tianhe-center/queue")).json()
    assert report["status"] == "no_data"
    for bad, code in [({"events": []}, "invalid_events"), ({"events": {"type": "heartbeat"}}, "invalid_events"),
                      ({"events": [{"type": "heartbeat"}] * 201}, "too_many_events"),
                      ({"kind": "ticket"}, "unknown_type")]:
        status, body = await post(client, "tianhe-center", bad)
        assert (status, body["error"]["code"]) == (422, code)


@pytest.mark.asyncio
async def test_queue_list_is_sorted_and_filtered(client: TestClient) -> None:
    await post(client, "tianhe-center", {"events": [{"type": "counter_opened", "counter": 1}] + [
        {"type": "ticket_issued", "ticket": f"A{n}"} for n in range(6)]})
    await post(client, "yuexiu-center", {"events": [{"type": "counter_opened", "counter": 1},
                                                    {"type": "ticket_issued", "ticket": "A1"}]})
    response = await client.get("/api/queue")
    body = await response.json()
    assert body["count"] == 3
    assert [h["hall_id"] for h in body["halls"]] == ["yuexiu-center", "tianhe-center", "tianhe-station"]
    assert [h["status"] for h in body["halls"]] == ["live", "live", "no_data"]
    body = await (await client.get("/api/queue", params={"district": "天河区"})).json()
    assert [h["hall_id"] for h in body["halls"]] == ["tianhe-center", "tianhe-station"]
    body = await (await client.get("/api/queue", params={"category": "birth"})).json()
    assert [h["hall_id"] for h in body["halls"]] == ["yuexiu-center", "tianhe-center"]
    for params, code in [({"district": "火星"}, "unknown_district"), ({"category": "nope"}, "unknown_category")]:
        response = await client.get("/api/queue", params=params)
        assert response.status == 422 and (await response.json())["error"]["code"] == code


def test_openapi_fragment_merges_and_its_references_resolve() -> None:
    doc = openapi.document()
    for path in ("/api/halls/{hall_id}/queue/events", "/api/halls/{hall_id}/queue", "/api/queue"):
        assert path in doc["paths"]
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            refs.extend(v for k, v in node.items() if k == "$ref")
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    for ref in refs:
        target: Any = doc
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        assert target, ref


@pytest.mark.asyncio
async def test_the_assembled_service_serves_queues(tmp_path: Any) -> None:
    from bot.api.app import create_app

    app = create_app(make_catalog(HALLS), booking_url=f"sqlite:///{tmp_path / 'bookings.sqlite3'}",
                     queue_secret=SECRET, clock=Clock())
    async with TestClient(TestServer(app)) as c:
        status, _ = await post(c, "tianhe-center", {"type": "counter_opened", "counter": 2})
        assert status == 200
        report = await (await c.get("/api/halls/tianhe-center/queue")).json()
        assert report["counters_open"] == 1
        assert (await c.get("/api/openapi.json")).status == 200
