"""Reads scenarios/halls.yml (opening-hour rules and halls) and reports every problem with its line."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from bot.catalog.loader import _line, _Reader, _text, _texts
from bot.catalog.problems import Problem
from bot.halls.districts import DISTRICTS
from bot.halls.model import DAY_KINDS, HALL_KINDS, VERIFIABLE_FIELDS, Hall, Schedule, Window

HALLS_FILE = "halls.yml"
_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_PHONE = re.compile(r"^(020-\d{8}|\d{3,4}-\d{7,8}|1\d{10}|\d{5,6})$")
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class _HallReader(_Reader):
    def windows(self, node: Any, line: int, where: str) -> tuple[Window, ...]:
        out: list[Window] = []
        for text in _texts(self.seq(node, "开放时段", line, where)):
            m = _WINDOW.match(text)
            if not m:
                self.problem(line, "bad-hours", f"时段 `{text}` 应写成 09:00-12:00", where)
                continue
            h1, m1, h2, m2 = (int(g) for g in m.groups())
            if not (h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60):
                self.problem(line, "bad-hours", f"时段 `{text}` 不是有效时间", where)
                continue
            window = Window(dt.time(h1, m1), dt.time(h2, m2))
            if window.minutes <= 0 or (out and window.start < out[-1].end):
                self.problem(line, "bad-hours", f"时段 `{text}` 须晚于开始时间且按顺序不重叠", where)
                continue
            out.append(window)
        return tuple(out)

    def schedule(self, node: dict) -> Schedule:
        sid = self.required(node, "id", "")
        days = {kind: self.windows(node.get(kind), _line(node, kind), sid) for kind in DAY_KINDS}
        for kind in DAY_KINDS:
            if kind not in node:
                self.problem(_line(node), "missing-field", f"缺少 `{kind}`（不开放写 []）", sid)
        return Schedule(sid, self.required(node, "label", sid), days, _line(node))

    def hall(self, node: dict, schedules: dict[str, Schedule], codes: set[str]) -> Hall | None:
        hid = self.required(node, "id", "")
        if hid and not _ID.match(hid):
            self.problem(_line(node, "id"), "bad-id", f"大厅 id `{hid}` 只能用小写字母、数字和连字符", hid)
        kind = _text(node.get("kind"))
        if kind not in HALL_KINDS:
            self.problem(_line(node, "kind"), "bad-value", f"kind 应为 {'/'.join(HALL_KINDS)}", hid)
        district = _text(node.get("district"))
        if district not in DISTRICTS:
            self.problem(_line(node, "district"), "bad-value", f"district `{district}` 不是广州的 11 个区之一", hid)
        phone = self.required(node, "phone", hid)
        if phone and not _PHONE.match(phone):
            self.problem(_line(node, "phone"), "bad-value", f"电话 `{phone}` 格式不对（如 020-12345678）", hid)
        schedule = schedules.get(_text(node.get("schedule")))
        if schedule is None:
            self.problem(_line(node, "schedule"), "unknown-schedule", f"未定义的开放时间 `{node.get('schedule')}`", hid)
        categories: frozenset[str] | None = None
        if _text(node.get("categories")) != "all":
            categories = frozenset(_texts(self.seq(node.get("categories"), "categories", _line(node), hid)))
            for code in sorted(categories - codes):
                self.problem(_line(node, "categories"), "unknown-category", f"未知业务分类 `{code}`", hid)
            if not categories:
                self.problem(_line(node, "categories"), "missing-field", "categories 不能为空（全部业务写 all）", hid)
        counters = self.count(node, "counters", hid, 1, 30)
        machines = self.mapping(node.get("self_service") or {}, "self_service", _line(node), hid)
        verified = tuple(_texts(node.get("verified")))
        for name in verified:
            if name not in VERIFIABLE_FIELDS:
                self.problem(_line(node, "verified"), "bad-value", f"verified 中的 `{name}` 不是可核实的字段", hid)
        source = _text(node.get("source"))
        if verified and not source:
            self.problem(_line(node, "verified"), "missing-source", "列为已核实的字段须写明来源 source", hid)
        if schedule is None or kind not in HALL_KINDS or district not in DISTRICTS:
            return None
        return Hall(hid, self.required(node, "name", hid), kind, district, self.required(node, "address", hid),
                    phone, schedule, categories, counters, self.count(machines, "id_card", hid, 0, 50),
                    self.count(machines, "collection", hid, 0, 50), verified, source, _text(node.get("note")),
                    node.get("appointments", True) is not False, _line(node), self.file)

    def count(self, node: dict, key: str, where: str, low: int, high: int) -> int:
        value = node.get(key, low if low == 0 else None)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.problem(_line(node, key), "bad-value", f"`{key}` 应为 {low} 到 {high} 的整数", where)
            return max(low, 1)
        return value


def load_halls(directory: Path, category_codes: set[str]) -> tuple[list[Hall], list[Problem]]:
    path = directory / HALLS_FILE
    if not path.exists():
        return [], []
    reader = _HallReader(str(path))
    doc = reader.mapping(reader.load(path) or {}, HALLS_FILE, 1)
    schedules: dict[str, Schedule] = {}
    for node in reader.seq(doc.get("schedules"), "schedules", 1):
        schedule = reader.schedule(reader.mapping(node, "schedule", 1))
        if schedule.id in schedules:
            reader.problem(schedule.line, "duplicate-id", f"开放时间 id `{schedule.id}` 重复", schedule.id)
        schedules[schedule.id] = schedule
    halls: list[Hall] = []
    seen: dict[str, dict[str, str]] = {"id": {}, "name": {}, "address": {}}
    for node in reader.seq(doc.get("halls"), "halls", 1):
        node = reader.mapping(node, "hall", 1)
        for key, values in seen.items():
            value = _text(node.get(key))
            if value and value in values:
                reader.problem(_line(node, key), "duplicate-hall", f"{key} `{value}` 与 {values[value]} 重复", value)
            values[value] = _text(node.get("id"))
        hall = reader.hall(node, schedules, category_codes)
        if hall is not None:
            halls.append(hall)
    served = set().union(*(h.categories or category_codes for h in halls)) if halls else set()
    for code in sorted(category_codes - served) if halls else ():
        reader.problem(1, "category-without-hall", f"没有任何大厅受理业务 `{code}`", code)
    return halls, reader.problems
