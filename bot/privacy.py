"""Masks personal data (names, ID numbers, mobile numbers) before anything is stored, logged or shown back.

One format everywhere: ID numbers keep the area code and the last four (440106********1235), mobiles the
network prefix and the last four (138****5678), names the surname (张*).
"""

from __future__ import annotations

import re

# 18-digit resident ID numbers (the last character may be X) and mainland mobile numbers, not inside longer numbers
ID_NUMBER = re.compile(r"(?<!\d)\d{17}[0-9Xx](?!\d)")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def mask_id(id_number: str) -> str:
    """440106199001011235 -> 440106********1235."""
    return id_number[:6] + "********" + id_number[-4:] if len(id_number) >= 10 else "*" * len(id_number)


def mask_phone(phone: str) -> str:
    """13812345678 -> 138****5678."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "*" * len(phone)


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***. A name has no pattern: callers mask it where they know it is one."""
    name = name.strip()
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def mask(text: str) -> str:
    """Every ID and mobile number in free text, masked."""
    text = ID_NUMBER.sub(lambda m: mask_id(m.group(0)), text)
    return MOBILE.sub(lambda m: mask_phone(m.group(0)), text)
