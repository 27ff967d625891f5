"""Finds catalog phrases (business keywords, answer synonyms) in free Chinese text.

Phrases are looked up character by character, not on jieba's words: with 21 businesses' phrases in one
dictionary, jieba's segmentation for one business ("想申请" | "集体户") would cut another business's phrase
("申请集体户") in half. Longest matches win within each business, never across them. Phrases written with
sound-alike characters are found by pinyin (bot.nlu.homophones), and a phrase right after a negation word
("不是在香港出生") is not taken as an answer, unless the phrase carries the negation itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

from bot.catalog.model import Catalog
from bot.nlu.homophones import MIN_LENGTH as SOUND_ALIKE_MIN
from bot.nlu.homophones import SoundAlikeIndex
from bot.nlu.numbers import NumericQuestion, answers_in, numeric_questions

NEGATIONS = ("不是", "没有", "并非", "不", "没", "未", "非", "无")
JIEBA_FREQ = 2_000_000  # high enough that jieba (the Rasa tokenizer) keeps every catalog phrase whole
MAX_SCAN = 5000  # characters of a message searched; longer input is a paste, not a description


@dataclass(frozen=True)
class Match:
    entity: str  # "category" or "fact"
    value: str  # category code, or "category:question=option"
    start: int
    end: int
    text: str


def fact_value(category: str, question: str, option: str) -> str:
    return f"{category}:{question}={option}"


def parse_fact(value: str) -> tuple[str, str, str] | None:
    try:
        category, rest = value.split(":", 1)
        question, option = rest.split("=", 1)
    except ValueError:
        return None
    return category, question, option


def catalog_patterns(catalog: Catalog) -> dict[str, list[str]]:
    """phrase -> entity labels ("category|birth" or "fact|birth:marital=married"), derived from the catalog."""
    patterns: dict[str, list[str]] = {}
    for info in catalog.categories:
        for keyword in [info.name, *info.keywords]:
            patterns.setdefault(keyword, []).append(f"category|{info.code}")
    for tree in catalog.trees.values():
        for q in tree.questions:
            for o in q.options:
                for phrase in o.phrases():
                    patterns.setdefault(phrase, []).append(f"fact|{fact_value(tree.code, q.id, o.id)}")
            for g in q.groups:
                for phrase in g.synonyms:
                    patterns.setdefault(phrase, []).append(f"fact|{fact_value(tree.code, q.id, '|'.join(g.options))}")
    return patterns


class PhraseFinder:
    def __init__(self, patterns: dict[str, list[str]], numbers: list[NumericQuestion] | None = None):
        self.patterns = patterns
        self.numbers = numbers or []

    @classmethod
    def for_catalog(cls, catalog: Catalog) -> PhraseFinder:
        return cls(catalog_patterns(catalog), numeric_questions(catalog))

    @classmethod
    def from_json(cls, text: str) -> PhraseFinder:
        data = json.loads(text)
        return cls(data["phrases"], [NumericQuestion.from_dict(d) for d in data.get("numbers", [])])

    def to_json(self) -> str:
        return json.dumps({"phrases": self.patterns, "numbers": [n.to_dict() for n in self.numbers]},
                          ensure_ascii=False, sort_keys=True)

    @cached_property
    def _lengths(self) -> list[int]:
        """Phrase lengths to try at each position; one-character phrases only ever match a whole reply."""
        return sorted({len(p) for p in self.patterns if len(p) > 1}, reverse=True)

    def _exact(self, text: str) -> list[tuple[int, int, str]]:
        """Every (start, end, phrase) of the catalog in the text, overlapping ones included."""
        if text.strip() in self.patterns:
            whole = text.strip()
            start = text.index(whole)
            return [(start, start + len(whole), whole)]
        found = []
        for i in range(len(text)):
            for length in self._lengths:
                if i + length <= len(text) and (phrase := text[i:i + length]) in self.patterns:
                    found.append((i, i + length, phrase))
        return found

    @cached_property
    def _sound_alikes(self) -> SoundAlikeIndex:
        return SoundAlikeIndex(list(self.patterns))

    def find(self, text: str) -> list[Match]:
        """Every business and answer the text names. Longest match wins within each category, never across
        them: "捡到一张身份证" answering one business must not hide "身份证" answering another."""
        if not text or not text.strip():
            return []
        text = text[:MAX_SCAN]
        by_group: dict[str, set[tuple[int, int]]] = {}
        exact_all = self._exact(text)
        for start, end, phrase in exact_all:
            for group in self._groups_of(phrase):
                by_group.setdefault(group, set()).add((start, end))
        # text spelled like a catalog phrase is not re-heard as another; short words ("没有") do not count
        heard = self._sound_alikes.find(text, [(a, b) for a, b, p in exact_all if len(p) >= SOUND_ALIKE_MIN])
        found: list[Match] = []
        for group in self._heard_groups(heard) - set(by_group):
            by_group[group] = []
        names = _longest_first(by_group.get("category", set()))
        for group, spans in by_group.items():  # a part of a business's name is not an answer ("港澳居民居住证")
            if group != "category":
                by_group[group] = {(a, b) for a, b in spans
                                   if not any(c <= a and b <= d and (c, d) != (a, b) for c, d in names)}
        for group, spans in by_group.items():
            exact = [(a, b, text[a:b]) for a, b in _longest_first(spans)]
            sounds = [h for h in heard if group in self._groups_of(h[2])
                      and not any(h[0] < e and s < h[1] for s, e, _ in exact)]
            for start, end, phrase in exact + sounds:
                negated = negated_at(text, start, phrase)
                for label in self.patterns.get(phrase, []):
                    entity, value = label.split("|", 1)
                    if _group(label) != group or (negated and entity == "fact"):  # "还没报户口" names the business
                        continue
                    found.append(Match(entity, value, start, end, text[start:end]))
        found = list(dict.fromkeys(found))
        said = {(m.value.rsplit("=", 1)[0], m.start, m.end) for m in found if m.entity == "fact"}
        for nq, option, q in answers_in(text, self.numbers):
            question = f"{nq.category}:{nq.question}"
            if any(k == question and start < q.end and q.start < end for k, start, end in said):
                continue  # "未满十六周岁" as a phrase already answered this question
            found.append(Match("fact", fact_value(nq.category, nq.question, option), q.start, q.end,
                               text[q.start:q.end]))
        return sorted(found, key=lambda m: (m.start, m.end))

    def _groups_of(self, phrase: str) -> set[str]:
        return {_group(label) for label in self.patterns.get(phrase, [])}

    def _heard_groups(self, heard: list[tuple[int, int, str]]) -> set[str]:
        return {g for _, _, phrase in heard for g in self._groups_of(phrase)}


def _longest_first(spans: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """Non-overlapping spans, longer ones chosen first (then the earlier one)."""
    chosen: list[tuple[int, int]] = []
    for a, b in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):
        if all(b <= c or d <= a for c, d in chosen):
            chosen.append((a, b))
    return sorted(chosen)


def _group(label: str) -> str:
    """Business keywords compete with each other; each category's answers compete among themselves."""
    entity, value = label.split("|", 1)
    return "category" if entity == "category" else value.split(":", 1)[0]


def negated_at(text: str, start: int, phrase: str) -> bool:
    """Whether `phrase`, found at `start`, comes right after a negation word ("没买房")."""
    if phrase.startswith(NEGATIONS):
        return False
    before = text[max(0, start - 2):start]
    return any(before.endswith(n) for n in NEGATIONS)
