"""Which halls to suggest: those that accept the business, near the citizen's district, shortest live wait first."""

from __future__ import annotations

from typing import Any

from bot.halls.districts import nearby


def _wait_key(report: dict[str, Any] | None) -> tuple[int, float]:
    """Live figures first (shortest estimated wait first), then halls without live figures."""
    if not report or report.get("status") != "live" or report.get("estimated_wait_minutes") is None:
        return 1, 0.0
    return 0, float(report["estimated_wait_minutes"])


def recommend(halls: list[dict[str, Any]], queues: dict[str, dict[str, Any]], district: str | None,
              shortest_wait: bool = False, limit: int = 3) -> list[dict[str, Any]]:
    """`halls` already accept the business. Own district first unless the citizen asks where it is quickest."""
    if district:
        order = {d: i for i, d in enumerate(nearby(district))}
        pool = [h for h in halls if h["district"] in order]
    else:
        order, pool = {}, list(halls)

    def key(hall: dict[str, Any]) -> tuple:
        near = 0 if shortest_wait else order.get(hall["district"], 0)
        return near, not hall["open_now"], _wait_key(queues.get(hall["id"])), hall["kind"] != "center", hall["id"]

    return sorted(pool, key=key)[:limit]
