"""Reads a citizen's message as answers to the current category's questions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import cn2an

from bot.catalog.model import CategoryTree, Option, Question
from bot.consult.engine import choices, merge
from bot.nlu.matcher import parse_fact
from bot.nlu.numbers import bare_number, quantities

# words that add a second business to a message ("孩子上户口，顺便我身份证也要换"); without one, a second business
# named is most often part of the first one's situation ("集体户口生孩子怎么落户")
ANOTHER_BUSINESS = ("顺便", "另外", "还有", "以及", "一起办", "一并", "两件事", "两样事", "两个业务", "仲有", "同埋",
                    "也要办", "还要办", "也想办", "还想办", "也要换", "也要补", "也要迁", "也要开", "也要改", "也要上",
                    "也要申请", "也要签注", "也要重新", "还想", "还要开", "还要补", "还要迁", "也刚")
ORDINAL = re.compile(r"^\s*(?:第|选)?\s*([0-9一二三四五六七八九十两]+)\s*(?:个|项|条|号)?\s*$")


@dataclass
class Reading:
    categories: list[str] = field(default_factory=list)  # businesses the message names, in order of evidence
    facts: dict[str, dict[str, str]] = field(default_factory=dict)  # category -> {question: option}
    inferred: str | None = None  # the classifier's guess when the message names no business
    # where in the message each business was named, and where each business's answers were
    named_at: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    answered_at: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    aspects: list[str] = field(default_factory=list)  # what a button asks about ("fee", "full", "special")
    # each fact with where it was said: (category, question, option, start)
    said_at: list[tuple[str, str, str, int]] = field(default_factory=list)

    def _only_an_answer_of(self, category: str, current: str | None) -> bool:
        """Every mention of the business is also an answer to the current one: "孩子落单位集体户" during a birth
        consultation answers it; it does not ask about 集体户口."""
        if current is None or category == current or category not in self.named_at:
            return False
        answers = self.answered_at.get(current, [])
        return all(any(a <= s and e <= b for a, b in answers) for s, e in self.named_at[category])

    def categories_implied(self) -> list[str]:
        return self.categories + [c for c in self.facts if c not in self.categories]

    def businesses(self, text: str, current: str | None, known: set[str]) -> list[str]:
        """Two or more businesses the message names as things to do, in the order it names them; [] unless a
        word adds the second one after the first (buttons and annotated entities without positions count)."""
        named = [c for c in self.categories if c in known and not self._only_an_answer_of(c, current)]
        if len(named) < 2:
            return []
        if not all(self.named_at.get(c) for c in named):
            return named
        first = {c: min(self.named_at[c]) for c in named}
        named.sort(key=lambda c: first[c])
        after_first = first[named[0]][1]
        if not any(text.find(cue, after_first) >= 0 for cue in ANOTHER_BUSINESS):
            return []
        return named

    def facts_by_business(self, text: str, several: list[str]) -> dict[str, dict[str, str]]:
        """What the message says about each of several businesses: the answers in its own part of the message
        ("宝宝出生要上户口，还有我的居住证到期了": "宝宝" is the birth's, not the residence permit's). A part starts
        at the word that adds the business, else where the business is named."""
        if not several:
            return {}
        starts = [0]
        for before, code in zip(several, several[1:], strict=False):
            begin = min(self.named_at[before])[1] if self.named_at.get(before) else 0
            named = min(self.named_at[code])[0] if self.named_at.get(code) else len(text)
            cues = [i for cue in ANOTHER_BUSINESS if begin <= (i := text.rfind(cue, begin, named)) < named]
            starts.append(max(cues) if cues else named)
        ends = starts[1:] + [len(text) + 1]
        out: dict[str, dict[str, str]] = {code: {} for code in several}
        for code, start, end in zip(several, starts, ends, strict=True):
            for category, question, option, at in self.said_at:
                if category == code and (start <= at < end or at < 0):
                    out[code][question] = merge(out[code].get(question), option)
        return out

    def target(self, current: str | None, known: set[str]) -> str | None:
        """The business to talk about: a business the message names (the current one if named again), else the
        current one; at the start, the classifier's guess, else the business most of the answers belong to.

        Answers alone never switch topic: with 21 businesses, "孩子" or "广州户口" answers a question of many."""
        named = [c for c in self.categories if c in known and not self._only_an_answer_of(c, current)]
        if current in named:
            return current
        if named:
            return named[0]
        if current is not None:
            return current
        if self.inferred in known:
            return self.inferred
        by_answers = sorted((c for c in self.facts if c in known), key=lambda c: -len(self.facts[c]))
        return by_answers[0] if by_answers else None


def read_entities(entities: list[dict]) -> Reading:
    reading = Reading()
    for e in entities:
        value = str(e.get("value", ""))
        if e.get("entity") == "category" and e.get("role") == "inferred":
            reading.inferred = value
        elif e.get("entity") == "category":
            if value not in reading.categories:
                reading.categories.append(value)
            if "start" in e:
                reading.named_at.setdefault(value, []).append((e["start"], e["end"]))
        elif e.get("entity") == "aspect":
            reading.aspects.append(value)
        elif e.get("entity") == "fact" and (parsed := parse_fact(value)):
            category, question, option = parsed
            said = reading.facts.setdefault(category, {})
            # a later mention wins, but a narrowing phrase keeps a decided answer it allows (as across turns)
            said[question] = merge(said.get(question), option)
            if "start" in e:
                reading.answered_at.setdefault(category, []).append((e["start"], e["end"]))
            reading.said_at.append((category, question, option, e.get("start", -1)))
    return reading


def _ordinal(text: str) -> int | None:
    match = ORDINAL.match(text)
    if not match:
        return None
    try:
        return int(cn2an.cn2an(match.group(1), "smart"))
    except ValueError:
        return None


def answer_to_pending(question: Question, shown: list[Option], text: str, intent: str | None) -> str | None:
    """An answer that only makes sense for the question just asked: "2", "第二个", "是", "没有", a label.

    `shown` are the options the citizen was offered, in button order: numbers refer to them.
    """
    text = (text or "").strip()
    if question.number is not None and (option := _numeric_answer(question, shown, text)) is not None:
        return option
    number = _ordinal(text)
    if number is not None and 1 <= number <= len(shown):
        return shown[number - 1].id
    for option in shown:
        if text and text in (option.label, option.id):
            return option.id
    if intent == "affirm" and question.yes:
        return question.yes
    if intent == "deny" and question.no:
        return question.no
    return None


def _numeric_answer(question: Question, shown: list[Option], text: str) -> str | None:
    """"35岁" or "三十五" for "申请人今年多大？"; a bare small number stays a button number."""
    assert question.number is not None
    said = [q.value for q in quantities(text) if q.unit == question.number.unit]
    value = said[0] if said else bare_number(text)
    if value is None or (not said and 1 <= value <= len(shown) and value == int(value)):
        return None
    return next((o.id for o in question.options if o.covers(value)), None)


def valid_facts(tree: CategoryTree, facts: dict[str, str]) -> dict[str, str]:
    """Drop facts that name a question or option the current catalog no longer has."""
    out = {}
    for q, answer in facts.items():
        question = tree.question(q)
        if question is not None and all(question.option(o) is not None for o in choices(answer)):
            out[q] = answer
    return out
