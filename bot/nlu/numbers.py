"""Numbers with a unit in free text ("我今年35岁", "社保交了五年", "住了半年") as answers to numeric questions.

A numeric question (`number: {unit, cues}` in the catalog) has options that are bands [low, high). A quantity
in the message answers the question when its unit matches and, unless it is the question being asked, one of the
question's cue words appears in the message too (so "结婚三年，我35岁" gives each question its own number).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cn2an

from bot.catalog.model import Catalog, Question

# Unit words as citizens say them -> the catalog's unit.
UNIT_WORDS = {"周岁": "岁", "岁": "岁", "年": "年", "个月": "个月", "月": "个月", "天": "天", "日": "天",
              "分": "分", "次": "次"}
_DIGITS = "0-9零〇一二两三四五六七八九十百千"
QUANTITY = re.compile(
    rf"(?P<below>未满|不满|不到|没满|没到|尚未满|还没满|还不到)?(?P<num>[{_DIGITS}]+(?:\.\d+)?|半)(?P<more>多|几)?(?P<half>个半|半)?(?P<unit>周岁|岁|个多月|个月|年|天|分|次)(?P<after>半)?(?P<limit>以下|以内|之内|以上|及以上)?"
)
JUST_UNDER = 1e-6  # "未满16岁", "16岁以下": just under the edge, so the band below it
CUE_WINDOW = (10, 4)  # a cue word counts within this many characters before / after the number
YEAR_OF_CALENDAR = 1900  # "2024年" is a date, not a duration


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str
    start: int
    end: int


@dataclass(frozen=True)
class NumericQuestion:
    category: str
    question: str
    unit: str
    cues: tuple[str, ...]
    bands: tuple[tuple[float | None, float | None, str], ...]  # (low, high, option id)

    def option_for(self, value: float) -> str | None:
        return next((o for low, high, o in self.bands
                     if (low is None or value >= low) and (high is None or value < high)), None)

    def to_dict(self) -> dict:
        return {"category": self.category, "question": self.question, "unit": self.unit,
                "cues": list(self.cues), "bands": [list(b) for b in self.bands]}

    @classmethod
    def from_dict(cls, d: dict) -> NumericQuestion:
        return cls(d["category"], d["question"], d["unit"], tuple(d["cues"]),
                   tuple((b[0], b[1], b[2]) for b in d["bands"]))


def numeric_questions(catalog: Catalog) -> list[NumericQuestion]:
    return [numeric_question(code, q) for code, tree in catalog.trees.items() for q in tree.questions
            if q.number is not None]


def numeric_question(category: str, q: Question) -> NumericQuestion:
    assert q.number is not None
    return NumericQuestion(category, q.id, q.number.unit, tuple(q.number.cues),
                           tuple((o.low, o.high, o.id) for o in q.options))


def _value(digits: str) -> float | None:
    if digits == "半":
        return 0.5
    try:
        return float(cn2an.cn2an(digits, "smart"))
    except (ValueError, KeyError, TypeError):
        return None


def quantities(text: str) -> list[Quantity]:
    """Every number-with-unit in the text; "一年半" is 1.5, "三个多月" is 3, "2024年" (a date) is skipped."""
    found = []
    for m in QUANTITY.finditer(text or ""):
        value = _value(m.group("num"))
        unit_word = m.group("unit").replace("个多月", "个月")
        if value is None:
            continue
        if m.group("half") or m.group("after"):
            value += 0.5
        if m.group("below") or m.group("limit") in ("以下", "以内", "之内"):
            value -= JUST_UNDER
        if unit_word == "年" and value >= YEAR_OF_CALENDAR:
            continue
        found.append(Quantity(value, UNIT_WORDS[unit_word], m.start(), m.end()))
    return found


def bare_number(text: str) -> float | None:
    """A reply that is only a number, with or without the unit ("35", "三十五岁")."""
    text = (text or "").strip().rstrip("。.!！")
    match = re.fullmatch(
        rf"(?:我|今年|大概|大约|已经|有)*([{_DIGITS}]+(?:\.\d+)?)(?:周岁|岁|年|个月|天|分|次)?(?:了|左右)?", text)
    return _value(match.group(1)) if match else None


def _cue_distance(text: str, quantity: Quantity, cues: tuple[str, ...]) -> int | None:
    """How far the nearest cue word is from the number, within the window; None if none is near."""
    lo, hi = max(0, quantity.start - CUE_WINDOW[0]), quantity.end + CUE_WINDOW[1]
    distances = []
    for cue in cues:
        at = text.find(cue, lo)
        while at != -1 and at < hi:
            distances.append(quantity.start - (at + len(cue)) if at < quantity.start else at - quantity.end)
            at = text.find(cue, at + 1)
    return min((abs(d) for d in distances), default=None)


def answers_in(text: str, questions: list[NumericQuestion], pending: tuple[str, str] | None = None
               ) -> list[tuple[NumericQuestion, str, Quantity]]:
    """(question, option, quantity) for every number in the text that answers a numeric question.

    A number goes to the question whose cue word is nearest ("结婚三年，社保交了一年": 三年 is the marriage,
    一年 the 社保); a question without cues takes a number in its unit; `pending` is the (category, question)
    being asked, which takes a number in its unit when no cue claims it.
    """
    out = []
    for quantity in quantities(text):
        same_unit = [nq for nq in questions if nq.unit == quantity.unit]
        cued = {nq: d for nq in same_unit if nq.cues and (d := _cue_distance(text, quantity, nq.cues)) is not None}
        if cued:
            nearest = min(cued.values())
            takers = [nq for nq, d in cued.items() if d == nearest]
        else:
            takers = [nq for nq in same_unit if not nq.cues or pending == (nq.category, nq.question)]
        for nq in takers:
            option = nq.option_for(quantity.value)
            if option is not None:
                out.append((nq, option, quantity))
    return out
