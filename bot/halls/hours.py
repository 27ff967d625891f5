"""Opening hours on a given day: weekday, weekend and statutory-holiday rules, with China's 调休 working days."""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

import chinese_calendar

from bot.halls.model import Schedule, Window

TZ = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    return dt.datetime.now(TZ)


@functools.lru_cache(maxsize=4096)  # a pure function of the date, asked for every hall on every request
def day_kind(day: dt.date) -> str:
    """weekday | saturday | sunday | holiday. A 调休 weekend working day counts as a weekday.

    chinese_calendar knows the State Council's published calendars; for a year not yet published it raises,
    and the plain weekday rule is the best anyone can say.
    """
    try:
        workday = chinese_calendar.is_workday(day)
        _, holiday_name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        workday, holiday_name = day.weekday() < 5, None
    if workday:
        return "weekday"
    if holiday_name:
        return "holiday"
    return "saturday" if day.weekday() == 5 else "sunday"


def holiday_name(day: dt.date) -> str | None:
    names = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
             "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
             "Mid-autumn Festival": "中秋节"}
    try:
        _, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return names.get(name, name) if name and day_kind(day) == "holiday" else None


def windows_on(schedule: Schedule, day: dt.date) -> tuple[Window, ...]:
    return schedule.days.get(day_kind(day), ())


def at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, TZ)


def is_open(schedule: Schedule, moment: dt.datetime) -> bool:
    moment = moment.astimezone(TZ)
    return any(w.start <= moment.time() < w.end for w in windows_on(schedule, moment.date()))


def next_opening(schedule: Schedule, moment: dt.datetime, horizon_days: int = 30) -> dt.datetime | None:
    """The first moment at or after `moment` when the hall is open."""
    moment = moment.astimezone(TZ)
    for offset in range(horizon_days + 1):
        day = moment.date() + dt.timedelta(days=offset)
        for w in windows_on(schedule, day):
            if offset or moment.time() < w.end:
                return max(at(day, w.start), moment) if offset == 0 else at(day, w.start)
    return None
