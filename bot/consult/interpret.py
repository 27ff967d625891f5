"""Reads a citizen's message as answers to the current category's questions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import cn2an

from bot.catalog.model import CategoryTree, Option, Question
from bot.consult.engine import choices, merge
from bot.nlu.matcher import parse_fact
from bot.nlu.numbers import bare_number, quantities

ORDINAL = re.compile(r"^\s*(?:第|选)?\s*([0-9一二三四五六七八九十两]+)\s*(?:个|项|条|号)?\s*$")


@dataclass
class Reading:
    categories: list[str] = field(default_factory=list)  # businesses the message names, in order of evidence
    facts: dict[str, dict[str, str]] = field(default_factory=dict)  # category -> {question: option}
    inferred: str | None = None  # the classifier's guess when the message names no business
    # where in the message each business was named, and where each business's answers were
    named_at: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    answered_at: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def _only_an_answer_of(self, category: str, current: str | None) -> bool:
        """Every mention of the business is also an answer to the current one: "孩子落单位集体户" during a birth
        consultation answers it; it does not ask about 集体户口."""
        if current is None or category == current or category not in self.named_at:
            return False
        answers = self.answered_at.get(current, [])
        return all(any(a <= s and e <= b for a, b in answers) for s, e in self.named_at[category])

    def categories_implied(self) -> list[str]:
        return self.categories + [c for c in self.facts if c not in self.categories]

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
        elif e.get("entity") == "fact" and (parsed := parse_fact(value)):
            category, question, option = parsed
            said = reading.facts.setdefault(category, {})
            # a later mention wins, but a narrowing phrase keeps a decided answer it allows (as across turns)
            said[question] = merge(said.get(question), option)
            if "start" in e:
                reading.answered_at.setdefault(category, []).append((e["start"], e["end"]))
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
