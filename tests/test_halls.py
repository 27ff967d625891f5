"""The hall catalog, opening hours with China's holiday calendar, districts, time phrases and recommendations."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from bot.catalog.loader import load_catalog
from bot.catalog.model import Catalog
from bot.halls import hours
from bot.halls.districts import DISTRICTS, find_district, nearby
from bot.halls.recommend import recommend
from bot.halls.when import parse_when
from bot.nlu.booking_entities import booking_entities, find_code
from bot.settings import SCENARIOS_DIR

THURSDAY = dt.date(2026, 11, 26)


def test_catalog_has_100_halls_in_all_11_districts(catalog: Catalog) -> None:
    assert len(catalog.halls) == 100
    assert {h.district for h in catalog.halls} == set(DISTRICTS)
    for district in DISTRICTS:
        centers = [h for h in catalog.halls if h.district == district and h.kind == "center"]
        assert len(centers) == 1 and centers[0].categories is None, district
    codes = {c.code for c in catalog.categories}
    for code in codes:
        assert any(h.accepts(code) for h in catalog.halls), code


def test_halls_without_a_source_are_flagged_for_checking(catalog: Catalog) -> None:
    for hall in catalog.halls:
        assert hall.needs_checking == (not {"address", "phone", "schedule"} <= set(hall.verified))
        assert bool(hall.verified) <= bool(hall.source)


def _broken_copy(tmp_path: Path, old: str, new: str) -> list[str]:
    target = tmp_path / "scenarios"
    shutil.copytree(SCENARIOS_DIR, target)
    path = target / "halls.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    _, problems = load_catalog(target)
    return [f"{p.kind}:{p.line}:{p.where}" for p in problems]


@pytest.mark.parametrize(("old", "new", "kind"), [
    ("district: 天河\n", "district: 天河新区\n", "bad-value"),
    ("schedule: five_plus_one\n    categories: all", "schedule: always\n    categories: all", "unknown-schedule"),
    ('weekday: ["09:00-12:00", "13:30-17:00"]', 'weekday: ["09:00-12:00", "11:30-17:00"]', "bad-hours"),
    ('weekday: ["09:00-12:00", "13:30-17:00"]', 'weekday: ["9点到12点"]', "bad-hours"),
    ("counters: 16", "counters: 0", "bad-value"),
    ("phone: 020-89975985", "phone: 8997", "bad-value"),
    ("verified: []\n    note: \"人才引进", "verified: [address]\n    note: \"人才引进", "missing-source"),
])
def test_hall_problems_are_reported_with_their_line(tmp_path: Path, old: str, new: str, kind: str) -> None:
    problems = _broken_copy(tmp_path, old, new)
    assert any(p.startswith(f"{kind}:") and int(p.split(":")[1]) > 0 for p in problems), problems


def test_unknown_category_and_duplicate_id_are_reported(tmp_path: Path) -> None:
    problems = _broken_copy(tmp_path, "id: tianhe-wushan", "id: tianhe-center")
    assert any(p.startswith("duplicate-hall:") for p in problems)


def test_day_kinds_follow_the_state_council_calendar() -> None:
    assert hours.day_kind(dt.date(2026, 11, 26)) == "weekday"
    assert hours.day_kind(dt.date(2026, 11, 28)) == "saturday"
    assert hours.day_kind(dt.date(2026, 11, 29)) == "sunday"
    assert hours.day_kind(dt.date(2026, 10, 1)) == "holiday"
    assert hours.holiday_name(dt.date(2026, 10, 1)) == "国庆节"
    assert hours.day_kind(dt.date(2026, 9, 20)) == "weekday"  # a Sunday made a working day (调休)


def test_opening_and_next_opening(catalog: Catalog) -> None:
    center = catalog.hall("tianhe-center")
    assert center is not None and center.schedule.id == "five_plus_one"
    thursday_10 = hours.at(THURSDAY, dt.time(10))
    lunch = hours.at(THURSDAY, dt.time(12, 30))
    assert hours.is_open(center.schedule, thursday_10)
    assert not hours.is_open(center.schedule, lunch)
    assert hours.next_opening(center.schedule, lunch) == hours.at(THURSDAY, dt.time(13, 30))
    sunday_evening = hours.at(dt.date(2026, 11, 29), dt.time(18))
    assert hours.next_opening(center.schedule, sunday_evening) == hours.at(dt.date(2026, 11, 30), dt.time(9))
    national_day = hours.at(dt.date(2026, 10, 2), dt.time(10))
    assert not hours.is_open(center.schedule, national_day)


@pytest.mark.parametrize(("text", "day", "part", "hour"), [
    ("帮我约明天上午", dt.date(2026, 11, 27), "am", None),
    ("下周三下午三点", dt.date(2026, 12, 2), "pm", dt.time(15)),
    ("12月3号", dt.date(2026, 12, 3), None, None),
    ("3号下午两点半", dt.date(2026, 12, 3), "pm", dt.time(14, 30)),
    ("星期天上午10点", dt.date(2026, 11, 29), "am", dt.time(10)),
    ("约后天", dt.date(2026, 11, 28), None, None),
    ("1月5日上午", dt.date(2027, 1, 5), "am", None),
    ("现在哪个大厅人少", None, None, None),
])
def test_time_phrases(text: str, day: dt.date | None, part: str | None, hour: dt.time | None) -> None:
    when = parse_when(text, THURSDAY)
    assert (when.day, when.part, when.hour) == (day, part, hour)


def test_districts_and_codes_in_messages() -> None:
    assert find_district("天河哪里可以办") == "天河"
    assert find_district("我住萝岗") == "黄埔"
    assert find_district("帮我约明天上午") is None
    assert nearby("南沙")[0] == "南沙"
    assert find_code("查询预约 k7m2p9qx 谢谢") == "K7M2P9QX"
    assert find_code("手机13812345678") is None
    assert find_code("身份证440106199001011235") is None
    entities = {e["entity"]: e["value"] for e in booking_entities("取消预约K7M2P9QX，我在番禺区")}
    assert entities == {"booking_code": "K7M2P9QX", "district": "番禺"}


def _hall(hid: str, district: str, open_now: bool = True, kind: str = "station") -> dict:
    return {"id": hid, "district": district, "open_now": open_now, "kind": kind}


def _live(wait: int) -> dict:
    return {"status": "live", "estimated_wait_minutes": wait}


def test_recommend_prefers_own_district_then_short_waits() -> None:
    halls = [_hall("a", "天河"), _hall("b", "天河"), _hall("c", "越秀"), _hall("d", "南沙"), _hall("e", "天河", False)]
    queues = {"a": _live(40), "b": _live(5), "c": _live(1), "d": _live(0), "e": _live(0)}
    assert [h["id"] for h in recommend(halls, queues, "天河")] == ["b", "a", "e"]
    assert [h["id"] for h in recommend(halls, queues, "天河", shortest_wait=True)] == ["c", "b", "a"]
    assert [h["id"] for h in recommend(halls, queues, None, limit=2)] == ["d", "c"]
    stale = {**queues, "c": {"status": "stale", "estimated_wait_minutes": None}}
    assert [h["id"] for h in recommend(halls, stale, "天河", shortest_wait=True)] == ["b", "a", "c"]


def test_queue_lines_never_pass_old_or_simulated_figures_off_as_live() -> None:
    from bot.halls.render import queue_line

    open_hall = {"open_now": True}
    closed_hall = {"open_now": False, "next_opening": "2026-11-27T09:00:00+08:00"}
    live = {"status": "live", "waiting": 7, "counters_open": 2, "estimated_wait_minutes": 35, "simulated": False}
    assert queue_line(live, open_hall) == "现在排队 7 人，开放 2 个窗口，预计等候约 35 分钟。"
    assert queue_line({**live, "simulated": True}, open_hall).endswith("（模拟数据）。")
    assert queue_line({**live, "estimated_wait_minutes": None, "counters_open": 0}, open_hall) == \
        "现在排队 7 人，暂无开放窗口。"
    assert queue_line({"status": "stale", "waiting": None}, open_hall) == "排队数据暂时没有更新，无法显示实时人数。"
    assert queue_line(None, open_hall) == "暂无实时排队数据。"
    assert queue_line(live, closed_hall) == "现在不在办公时间，下次开放：11月27日 09:00。"
    assert "演示模拟：排队 7 人" in queue_line({**live, "simulated": True}, closed_hall)
