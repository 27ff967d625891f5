"""Entities for finding a hall and handling a booking: the district a message names and a confirmation code."""

from __future__ import annotations

import re

from bot.halls.districts import district_names

# Confirmation codes: 8 characters mixing letters and digits (bot/booking/service.py new_code);
# longer runs such as phone and ID numbers never match.
CODE = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z0-9]*[A-Za-z])(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{8}(?![A-Za-z0-9])")


def find_code(text: str) -> str | None:
    match = CODE.search(text or "")
    return match.group(0).upper() if match else None


def booking_entities(text: str) -> list[dict]:
    out: list[dict] = []
    names = district_names()
    best: tuple[int, int, str] | None = None
    for word, district in names.items():
        start = text.find(word)
        if start >= 0 and (best is None or len(word) > best[1] - best[0]):
            best = (start, start + len(word), district)
    if best:
        out.append({"entity": "district", "value": best[2], "start": best[0], "end": best[1], "confidence": 1.0})
    match = CODE.search(text)
    if match:
        out.append({"entity": "booking_code", "value": match.group(0).upper(), "start": match.start(),
                    "end": match.end(), "confidence": 1.0})
    return out
