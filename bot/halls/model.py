"""Halls and their opening-hour rules, as read from scenarios/halls.yml."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

DAY_KINDS = ("weekday", "saturday", "sunday", "holiday")
HALL_KINDS = ("center", "station", "other")
VERIFIABLE_FIELDS = ("name", "address", "phone", "schedule", "categories", "self_service")


@dataclass(frozen=True)
class Window:
    start: dt.time
    end: dt.time

    @property
    def minutes(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Schedule:
    id: str
    label: str  # how citizens read it, e.g. 周一至周五 9:00-12:00，13:30-17:00（法定节假日休息）
    days: dict[str, tuple[Window, ...]]  # keyed by DAY_KINDS; () = closed
    line: int = 0


@dataclass(frozen=True)
class Hall:
    id: str
    name: str
    kind: str
    district: str
    address: str
    phone: str
    schedule: Schedule
    categories: frozenset[str] | None  # None: every business
    counters: int
    id_card_machines: int = 0
    collection_machines: int = 0
    verified: tuple[str, ...] = ()
    source: str = ""
    note: str = ""
    appointments: bool = True  # False: walk-in only (e.g. a self-service area), no slots to book
    line: int = 0
    file: str = field(default="", compare=False)

    def accepts(self, category: str | None) -> bool:
        return category is None or self.categories is None or category in self.categories

    @property
    def needs_checking(self) -> bool:
        """Address, phone or hours rest on no public source: tell the citizen to check before going."""
        return not {"address", "phone", "schedule"} <= set(self.verified)
