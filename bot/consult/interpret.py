"""Reads a citizen's message as answers to the current category's questions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import cn2an

from bot.catalog.model import CategoryTree, Option, Question
from bot.consult.engine import choices
from bot.nlu.matcher import parse_fact

ORDINAL = re.compile(r"^\s*(?:第|选)?\s*([0-9一二三四五六七八九十两]+)\s*(?:个|项|条|号)?\s*$")


@dataclass
class Reading:
    categories: list[str] = field(default_factory=list)  # businesses the message names, in order of evidence
    facts: dict[str, dict[str, str]] = field(default_factory=dict)  # category -> {question: option}
    inferred: str | None = None  # the classifier's guess when the message names no business

    def categories_implied(self) -> list[str]:
        return self.categories + [c for c in self.facts if c not in self.categories]

    def target(self, current: str | None, known: set[str]) -> str | None:
        """The business to talk about: the current one if named again, else the best named one, else the
        current one; the classifier's guess only when there is none (a guess never switches topic)."""
        named = [c for c in self.categories_implied() if c in known]
        if current in named:
            return current
        if named:
            return named[0]
        if current is None and self.inferred in known:
            return self.inferred
        return current


def read_entities(entities: list[dict]) -> Reading:
    reading = Reading()
    for e in entities:
        value = str(e.get("value", ""))
        if e.get("entity") == "category" and e.get("role") == "inferred":
            reading.inferred = value
        elif e.get("entity") == "category" and value not in reading.categories:
            reading.categories.append(value)
        elif e.get("entity") == "fact" and (parsed := parse_fact(value)):
            category, question, option = parsed
            reading.facts.setdefault(category, {})[question] = option  # a later mention wins
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


def valid_facts(tree: CategoryTree, facts: dict[str, str]) -> dict[str, str]:
    """Drop facts that name a question or option the current catalog no longer has."""
    out = {}
    for q, answer in facts.items():
        question = tree.question(q)
        if question is not None and all(question.option(o) is not None for o in choices(answer)):
            out[q] = answer
    return out
