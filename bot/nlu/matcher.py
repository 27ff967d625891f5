"""Finds catalog phrases (business keywords, answer synonyms) in free Chinese text.

A blank spaCy `zh` pipeline segments with jieba; every catalog phrase is added to jieba's dictionary so it
comes out as one token, and a PhraseMatcher finds it. Phrases written with sound-alike characters are found by
pinyin (bot.nlu.homophones). Longest matches win, and a phrase right after a
negation word ("不是在香港出生") is not taken as an answer, unless the phrase carries the negation itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

import jieba
import spacy
from spacy.matcher import PhraseMatcher
from spacy.util import filter_spans

from bot.catalog.model import Catalog
from bot.nlu.homophones import SoundAlikeIndex

NEGATIONS = ("不是", "没有", "并非", "不", "没", "未", "非", "无")
JIEBA_FREQ = 2_000_000  # high enough that jieba keeps every catalog phrase whole


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
    def __init__(self, patterns: dict[str, list[str]]):
        self.patterns = patterns

    @classmethod
    def from_json(cls, text: str) -> PhraseFinder:
        return cls(json.loads(text))

    def to_json(self) -> str:
        return json.dumps(self.patterns, ensure_ascii=False, sort_keys=True)

    @cached_property
    def _pipeline(self) -> tuple[spacy.language.Language, PhraseMatcher]:
        for phrase in self.patterns:
            jieba.add_word(phrase, freq=JIEBA_FREQ)
        nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
        matcher = PhraseMatcher(nlp.vocab)
        for phrase, labels in self.patterns.items():
            for label in labels:
                matcher.add(label, [nlp.make_doc(phrase)])
        return nlp, matcher

    @cached_property
    def _sound_alikes(self) -> SoundAlikeIndex:
        return SoundAlikeIndex(list(self.patterns))

    def find(self, text: str) -> list[Match]:
        if not text or not text.strip():
            return []
        nlp, matcher = self._pipeline
        doc = nlp.make_doc(text)
        exact = [(s.start_char, s.end_char, s.text) for s in filter_spans([doc[s:e] for _, s, e in matcher(doc)])]
        heard = self._sound_alikes.find(text, [(start, end) for start, end, _ in exact])
        found: list[Match] = []
        for start, end, phrase in sorted(exact + heard):
            negated = _negated(text, start, phrase)
            for label in self.patterns.get(phrase, []):
                entity, value = label.split("|", 1)
                if negated and entity == "fact":  # "还没报户口" still names the business
                    continue
                found.append(Match(entity, value, start, end, text[start:end]))
        return found


def _negated(text: str, start: int, phrase: str) -> bool:
    if phrase.startswith(NEGATIONS):
        return False
    before = text[max(0, start - 2):start]
    return any(before.endswith(n) for n in NEGATIONS)
