"""Chinese text for halls, queues, slots and bookings, as the assistant says it."""

from __future__ import annotations

import datetime as dt
from typing import Any

WEEKDAY_NAMES = "一二三四五六日"


def day_label(day: dt.date, today: dt.date) -> str:
    relative = {0: "今天", 1: "明天", 2: "后天"}.get((day - today).days)
    base = f"{day.month}月{day.day}日（周{WEEKDAY_NAMES[day.weekday()]}）"
    return f"{relative} {base}" if relative else base


def slot_label(slot: dict[str, Any], today: dt.date) -> str:
    return f"{day_label(dt.date.fromisoformat(slot['date']), today)} {slot['start']}-{slot['end']}"


def _live_figures(report: dict[str, Any]) -> str:
    if report.get("estimated_wait_minutes") is None:
        return f"排队 {report['waiting']} 人，暂无开放窗口"
    return (f"排队 {report['waiting']} 人，开放 {report['counters_open']} 个窗口，"
            f"预计等候约 {report['estimated_wait_minutes']} 分钟")


def queue_line(report: dict[str, Any] | None, hall: dict[str, Any]) -> str:
    live = report if (report or {}).get("status") == "live" else None
    if not hall["open_now"]:
        opening = hall.get("next_opening")
        when = dt.datetime.fromisoformat(opening) if opening else None
        closed = f"现在不在办公时间，下次开放：{when:%m月%d日 %H:%M}。" if when else "近期没有开放时间。"
        # the demo simulator keeps queues moving around the clock; say plainly that those are not real
        return closed + (f"（演示模拟：{_live_figures(live)}）" if live and live.get("simulated") else "")
    if live:
        return f"现在{_live_figures(live)}{'（模拟数据）' if live.get('simulated') else ''}。"
    if (report or {}).get("status") == "stale":
        return "排队数据暂时没有更新，无法显示实时人数。"
    return "暂无实时排队数据。"


def hall_card(number: int, hall: dict[str, Any], report: dict[str, Any] | None, slots: list[dict[str, Any]],
              today: dt.date) -> str:
    lines = [f"{number}. {hall['name']}（{hall['district']}区）",
             f"   地址：{hall['address']}；电话：{hall['phone']}",
             f"   开放时间：{hall['hours']['label']}",
             f"   {queue_line(report, hall)}"]
    if not hall.get("appointments", True):
        lines.append("   无需预约，开放时间内直接前往即可。")
    elif slots:
        lines.append("   最近可预约：" + "、".join(slot_label(s, today) for s in slots))
    else:
        lines.append("   未来 7 天暂无可预约时段。")
    if hall.get("note"):
        lines.append(f"   提示：{hall['note']}")
    return "\n".join(lines)


def checking_note(halls: list[dict[str, Any]]) -> str:
    """Said once under a list that includes halls whose address, phone or hours no public source confirms."""
    if not any(h.get("needs_checking") for h in halls):
        return ""
    return "\n注：部分大厅的地址、电话或开放时间尚未核实，出发前请先致电确认，或以“广州微警务”小程序公布为准。"


def appointment_text(a: dict[str, Any], today: dt.date) -> str:
    person = a["person"]
    status = {"active": "有效", "cancelled": "已取消"}.get(a["status"], a["status"])
    day = dt.date.fromisoformat(a["date"])
    return (f"预约码：{a['code']}（{status}）\n"
            f"业务：{a['category']['name']}\n"
            f"大厅：{a['hall']['name']}，{a['hall']['address']}\n"
            f"时间：{day_label(day, today)} {a['start']}-{a['end']}\n"
            f"预约人：{person['name']}，手机 {person['phone']}，身份证 {person['id_number']}")
