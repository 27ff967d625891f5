"""A catalog problem, reported with file, line and the scenario or question it concerns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    kind: str  # machine-readable, e.g. "overlapping-leaves"
    message: str
    where: str = ""  # scenario or question id

    def __str__(self) -> str:
        subject = f" [{self.where}]" if self.where else ""
        return f"{self.file}:{self.line}:{subject} {self.kind}: {self.message}"


class CatalogError(Exception):
    """Raised when a catalog with problems is used where a valid one is required."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
