"""Guangzhou's 11 districts, what citizens call them, and which border which (for "near me")."""

from __future__ import annotations

DISTRICTS = ("越秀", "荔湾", "海珠", "天河", "白云", "黄埔", "番禺", "花都", "南沙", "从化", "增城")

NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "越秀": ("荔湾", "海珠", "天河", "白云"),
    "荔湾": ("越秀", "海珠", "白云", "番禺"),
    "海珠": ("越秀", "荔湾", "天河", "黄埔", "番禺"),
    "天河": ("越秀", "海珠", "白云", "黄埔"),
    "白云": ("越秀", "荔湾", "天河", "黄埔", "花都", "从化"),
    "黄埔": ("天河", "海珠", "白云", "番禺", "增城"),
    "番禺": ("海珠", "荔湾", "黄埔", "南沙"),
    "花都": ("白云", "从化"),
    "南沙": ("番禺",),
    "从化": ("花都", "白云", "增城"),
    "增城": ("黄埔", "从化"),
}

# Old names and well-known areas people use instead of the district's name.
ALIASES: dict[str, str] = {
    "萝岗": "黄埔", "科学城": "黄埔", "知识城": "黄埔", "芳村": "荔湾", "西关": "荔湾", "东山": "越秀",
    "北京路": "越秀", "珠江新城": "天河", "体育中心": "天河", "天河城": "天河", "岗顶": "天河",
    "大学城": "番禺", "市桥": "番禺", "新塘": "增城", "荔城": "增城", "街口": "从化", "新华": "花都",
    "同和": "白云", "嘉禾": "白云", "江高": "白云", "太和": "白云", "琶洲": "海珠", "客村": "海珠",
    "蕉门": "南沙", "黄阁": "南沙",
}


def district_names() -> dict[str, str]:
    """Every word that names a district ("天河", "天河区", "萝岗") → the district."""
    names = {d: d for d in DISTRICTS}
    names.update({f"{d}区": d for d in DISTRICTS})
    names.update(ALIASES)
    return names


def find_district(text: str) -> str | None:
    """The district a message names (the longest name wins), or None."""
    found = [(len(word), district) for word, district in district_names().items() if word in text]
    return max(found)[1] if found else None


def nearby(district: str) -> tuple[str, ...]:
    """The district itself, then its neighbours."""
    return (district, *NEIGHBOURS.get(district, ()))
