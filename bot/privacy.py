"""Masks personal data (ID numbers, mobile phone numbers) before anything is stored or logged."""

from __future__ import annotations

import re

# 18-digit resident ID numbers (the last character may be X) and mainland mobile numbers, not inside longer numbers
ID_NUMBER = re.compile(r"(?<!\d)(\d{4})\d{12}(\d[0-9Xx])(?!\d)")
MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask(text: str) -> str:
    """'440106199001011234' -> '4401************34'; '13812345678' -> '138****5678'."""
    text = ID_NUMBER.sub(lambda m: m.group(1) + "*" * 12 + m.group(2), text)
    return MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
