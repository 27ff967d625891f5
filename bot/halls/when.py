"""Reads when a citizen wants to go: "明天上午", "下周三下午三点", "12月3号", "后天"."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import cn2an

_RELATIVE_DAYS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "聽日": 1, "听日": 1, "后天": 2, "後天": 2, "大后天": 3}
_WEEKDAYS = {"一": 0, "1": 0, "二": 1, "2": 1, "三": 2, "3": 2, "四": 3, "4": 3, "五": 4, "5": 4,
             "六": 5, "6": 5, "日": 6, "天": 6, "7": 6}
_PARTS = (("上午", "am"), ("早上", "am"), ("早晨", "am"), ("朝早", "am"), ("上昼", "am"),
          ("中午", "pm"), ("下午", "pm"), ("下昼", "pm"), ("晏昼", "pm"))


@dataclass(frozen=True)
class When:
    day: dt.date | None = None
    part: str | None = None  # "am" | "pm"
    hour: dt.time | None = None

    @property
    def empty(self) -> bool:
        return self.day is None and self.part is None and self.hour is None


def _normalise(text: str) -> str:
    text = re.sub(r"两(?=点)", "2", text)
    try:
        return cn2an.transform(text, "cn2an")
    except (ValueError, KeyError, IndexError):  # cn2an gives up on some mixed strings; keep the raw text
        return text


def _day(text: str, today: dt.date) -> dt.date | None:
    for word in sorted(_RELATIVE_DAYS, key=len, reverse=True):
        if word in text:
            return today + dt.timedelta(days=_RELATIVE_DAYS[word])
    m = re.search(r"(?:(\d{1,2})月)?(\d{1,2})[号日]", text)
    if m:
        month = int(m.group(1)) if m.group(1) else today.month
        try:
            day = dt.date(today.year, month, int(m.group(2)))
        except ValueError:
            return None
        if day < today:  # "3号" after the 3rd means next month; "1月5日" in December means next year
            day = (dt.date(today.year + 1, month, day.day) if m.group(1)
                   else (day.replace(day=1) + dt.timedelta(days=32)).replace(day=day.day))
        return day
    m = re.search(r"(下+)?(?:周|星期|礼拜|禮拜)([一二三四五六日天1-7])", text)
    if m:
        weeks_ahead = len(m.group(1) or "")
        target = _WEEKDAYS[m.group(2)]
        monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=weeks_ahead)
        day = monday + dt.timedelta(days=target)
        return day if day >= today else day + dt.timedelta(weeks=1)
    return None


def _hour(text: str, part: str | None) -> dt.time | None:
    m = re.search(r"(\d{1,2})(?:[点點:：时](半|(\d{1,2})分?)?)", text)
    if not m:
        return None
    hour = int(m.group(1))
    minute = 30 if m.group(2) == "半" else int(m.group(3) or 0)
    if part == "pm" and hour < 12 or part is None and 1 <= hour <= 6:  # "3点" at a hall means 15:00
        hour += 12
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def parse_when(text: str, today: dt.date) -> When:
    text = _normalise(text or "")
    part = next((p for word, p in _PARTS if word in text), None)
    hour = _hour(text, part)
    if part is None and hour is not None:
        part = "am" if hour.hour < 12 else "pm"
    return When(_day(text, today), part, hour)
