"""A point (latitude, longitude) → the Guangzhou district it is most likely in, or None outside Guangzhou.

The halls in scenarios/halls.yml have no coordinates, so a location is mapped to a district and that district's halls
are recommended as usual. APPROXIMATE by design: each district is represented by the seat of its district
government, and a point belongs to the nearest seat. Seats of the neighbouring cities' governments are in the table
too, so that a point in Foshan, Dongguan, Zhongshan ... is nearer to its own city than to a Guangzhou district and
counts as outside. Near a border (a few km either way) the answer can be the wrong side; the citizen can always
name the district instead. The coordinates are rounded to about 1 km and were written from general map knowledge,
not from an official gazetteer. WeChat sends GCJ-02 coordinates, some 500 m off WGS-84 in Guangzhou: far below this
precision, so no conversion is done.
"""

from __future__ import annotations

import math

# District government seats (approximate; see the module docstring): district → (latitude, longitude).
DISTRICT_SEATS: dict[str, tuple[float, float]] = {
    "越秀": (23.129, 113.267),  # 府前路, 北京街道
    "荔湾": (23.126, 113.240),  # 金花街道
    "海珠": (23.097, 113.290),  # 江海街道 side of 海珠
    "天河": (23.125, 113.361),  # 天府路
    "白云": (23.158, 113.273),  # 白云新城
    "黄埔": (23.171, 113.480),  # 萝岗 (the merged district's seat)
    "番禺": (22.938, 113.384),  # 市桥
    "花都": (23.404, 113.220),  # 新华
    "南沙": (22.802, 113.525),  # 南沙街道
    "从化": (23.548, 113.586),  # 街口
    "增城": (23.261, 113.811),  # 荔城
}

# Neighbouring cities' government seats (approximate): only there to pull border points out of Guangzhou.
OUTSIDE_SEATS: dict[str, tuple[float, float]] = {
    "佛山禅城": (23.022, 113.122),
    "佛山南海": (23.032, 113.151),
    "佛山顺德": (22.806, 113.293),
    "东莞": (23.021, 113.752),
    "中山": (22.517, 113.392),
    "清远": (23.682, 113.056),
    "惠州": (23.112, 114.416),
    "深圳": (22.543, 114.058),
}

# Farther than this from every district seat is not Guangzhou (the farthest corners of 从化 and 增城 are ~40 km
# from their seats).
MAX_KM = 45.0
_EARTH_KM = 6371.0


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_KM * math.asin(math.sqrt(h))


def district_at(latitude: float, longitude: float) -> str | None:
    """The Guangzhou district nearest to the point, or None when it is outside Guangzhou (approximately)."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or math.isnan(latitude + longitude):
        return None
    point = (latitude, longitude)
    seats = [(distance_km(point, seat), district, True) for district, seat in DISTRICT_SEATS.items()]
    seats += [(distance_km(point, seat), city, False) for city, seat in OUTSIDE_SEATS.items()]
    km, name, in_guangzhou = min(seats)
    return name if in_guangzhou and km <= MAX_KM else None
