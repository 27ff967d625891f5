"""Slot arithmetic: a hall's opening windows on a day cut into bookable slots, their capacity and the horizon.

Pure functions of a hall, a day and "now"; nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.halls import hours
from bot.halls.model import Hall, Window

from .errors import Invalid

SLOT_MINUTES = 60
MERGE_BELOW = 30  # a window's remainder shorter than this joins the previous slot instead of standing alone
HORIZON_DAYS = 7  # bookable until the end of the 7th day after today
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_START = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Slot:
    day: dt.date
    start: dt.time
    end: dt.time

    @property
    def minutes(self) -> int:
        return _minutes(self.end) - _minutes(self.start)

    @property
    def starts_at(self) -> dt.datetime:
        return hours.at(self.day, self.start)

    @property
    def ends_at(self) -> dt.datetime:
        return hours.at(self.day, self.end)

    @property
    def key(self) -> str:
        """How the slot is stored and addressed: its start as HH:MM."""
        return f"{self.start:%H:%M}"

    @property
    def end_key(self) -> str:
        return f"{self.end:%H:%M}"


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _time(minutes: int) -> dt.time:
    return dt.time(minutes // 60, minutes % 60)


def split_window(window: Window) -> list[tuple[dt.time, dt.time]]:
    """13:30-17:00 -> 13:30-14:30, 14:30-15:30, 15:30-16:30, 16:30-17:00; 09:00-12:20 -> 09:00-10:00, 10:00-11:00,
    11:00-12:20."""
    start, end = _minutes(window.start), _minutes(window.end)
    bounds = list(range(start, end, SLOT_MINUTES))
    if len(bounds) > 1 and end - bounds[-1] < MERGE_BELOW:
        bounds.pop()  # the short tail is merged into the previous slot
    return [(_time(a), _time(b)) for a, b in zip(bounds, [*bounds[1:], end], strict=True)]


def slots_on(hall: Hall, day: dt.date) -> tuple[Slot, ...]:
    """Every slot of the day; () when the hall is closed (weekend, statutory holiday) under its schedule."""
    return tuple(Slot(day, a, b) for w in hours.windows_on(hall.schedule, day) for a, b in split_window(w))


def capacity(hall: Hall, slot: Slot) -> int:
    """How many appointments one slot takes: every counter serves about one citizen an hour."""
    return max(1, hall.counters * slot.minutes // 60)


def today(now: dt.datetime) -> dt.date:
    return now.astimezone(hours.TZ).date()


def last_bookable_day(now: dt.datetime) -> dt.date:
    return today(now) + dt.timedelta(days=HORIZON_DAYS)


def is_past(slot: Slot, now: dt.datetime) -> bool:
    """A slot that has started can no longer be booked."""
    return slot.starts_at <= now


def parse_day(value: object) -> dt.date:
    if not isinstance(value, str) or not _DATE.match(value.strip()):
        raise Invalid("invalid_date", "日期格式应为 YYYY-MM-DD，例如 2026-10-09。")
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid("invalid_date", f"日期 {value.strip()} 不存在，请核对。") from None


def parse_start(value: object) -> str:
    """'9:00' -> '09:00'; anything that is not a clock time is reported as an unknown slot by the caller."""
    m = _START.match(value.strip()) if isinstance(value, str) else None
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        return ""
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def closed_message(hall: Hall, day: dt.date) -> str:
    holiday = hours.holiday_name(day)
    reason = f"（{holiday}）" if holiday else ""
    return f"{hall.name}在 {day:%Y-%m-%d}{reason}不开放，请选择其他日期。开放时间：{hall.schedule.label}"


def check_horizon(day: dt.date, now: dt.datetime) -> None:
    """Only today and the next HORIZON_DAYS days can be listed or booked."""
    if day < today(now):
        raise Invalid("slot_past", f"{day:%Y-%m-%d} 已经过去，请选择今天或以后的日期。")
    if day > last_bookable_day(now):
        last = f"{last_bookable_day(now):%Y-%m-%d}"
        raise Invalid("too_far_ahead", f"最多可预约 {HORIZON_DAYS} 天内的时段（截至 {last}）。",
                      last_bookable_date=last)


def check_day(hall: Hall, day: dt.date, now: dt.datetime) -> tuple[Slot, ...]:
    """The day's slots, or the reason the day cannot be booked at all."""
    check_horizon(day, now)
    slots = slots_on(hall, day)
    if not slots:
        raise Invalid("hall_closed", closed_message(hall, day))
    return slots


def bookable_slot(hall: Hall, day: dt.date, start: object, now: dt.datetime) -> Slot:
    """The slot the citizen asked for, if it exists on that day and has not started yet."""
    slots = check_day(hall, day, now)
    key = parse_start(start)
    slot = next((s for s in slots if s.key == key), None)
    if slot is None:
        starts = [s.key for s in slots]
        raise Invalid("unknown_slot",
                      f"{day:%Y-%m-%d} 没有从 {str(start)[:10]} 开始的时段。可选开始时间：{'、'.join(starts)}。",
                      starts=starts)
    if is_past(slot, now):
        raise Invalid("slot_past", f"{day:%Y-%m-%d} {slot.key} 的时段已经开始或已过，请选择更晚的时段。")
    return slot
