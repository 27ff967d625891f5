"""Scores parse results against held-out messages: plain functions on plain data, the same for both pipelines.

A pipeline is judged by what the citizen would get, read from the parse alone (intent, entities, ranking):
- the project starts a consultation when the intent goes to the consultation loop and the entities name a
  business, read exactly as action_consult reads them;
- the stock baseline starts one on its top intent (a category code) unless the FallbackClassifier replaced it
  with nlu_fallback.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.consult.interpret import read_entities

# every intent that goes to the consultation loop (domain rules): the same route for the citizen
LOOP_INTENTS = {"consult", "affirm", "deny", "correct", "nlu_fallback"}
# messages that must not start a consultation: other offices' business, and small talk
KEPT_OUT_INTENTS = {"out_of_scope", "chitchat", "greet", "thanks", "goodbye"}
TWO_BUSINESSES = "two"
HOUSE_PURCHASE = "house_purchase"
OUT = "—"  # no consultation started


@dataclass(frozen=True)
class Expected:
    """One held-out message and what it should give."""

    text: str
    intent: str
    category: str | None = None  # one business code, "two", or none
    categories: tuple[str, ...] = ()  # the two businesses a "two" message names
    topic: str | None = None  # out-of-scope topic, or house_purchase
    facts: dict[str, str] | None = None  # question -> option of `category`, when annotated

    @property
    def kind(self) -> str:
        """category | two | house | out | other (in-conversation intents: only their routing is scored)."""
        if self.category == TWO_BUSINESSES or len(self.categories) >= 2:
            return "two"
        if self.topic == HOUSE_PURCHASE:
            return "house"
        if self.category:
            return "category"
        if self.intent in KEPT_OUT_INTENTS:
            return "out"
        return "other"

    @property
    def group(self) -> str:
        """The out-of-scope topic or small-talk intent, for the breakdown."""
        return self.topic or self.intent


def load_expected(path: Path) -> list[Expected]:
    messages = yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]
    return [expected_from(m) for m in messages]


def expected_from(m: dict) -> Expected:
    facts = m.get("facts")
    return Expected(
        text=str(m["text"]), intent=str(m.get("intent") or ""),
        category=m.get("category") or None, categories=tuple(m.get("categories") or ()),
        topic=m.get("topic") or None,
        facts={str(q): str(o) for q, o in facts.items()} if isinstance(facts, dict) else None)


@dataclass
class Prediction:
    """What one pipeline makes of one message."""

    intent: str
    category: str | None  # the business a consultation would start on; None: none starts
    named: list[str] = field(default_factory=list)  # businesses the message is read to name (two-business check)
    facts: dict[str, dict[str, str]] = field(default_factory=dict)  # category -> question -> option
    has_facts: bool = False  # the pipeline reads facts at all


def project_prediction(parse: dict, known: set[str]) -> Prediction:
    intent = (parse.get("intent") or {}).get("name") or ""
    reading = read_entities(parse.get("entities") or [])
    category = reading.target(None, known) if intent in LOOP_INTENTS else None
    return Prediction(intent, category, [c for c in reading.categories if c in known], reading.facts, True)


def stock_prediction(parse: dict, known: set[str], threshold: float | None = None) -> Prediction:
    """`threshold`: read the ranking as if the fallback threshold were this one (top confidence only)."""
    intent = (parse.get("intent") or {}).get("name") or ""
    # the FallbackClassifier puts nlu_fallback first in the ranking: the categories keep their confidences
    ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") in known]
    if threshold is not None:
        intent = ranking[0]["name"] if ranking and ranking[0].get("confidence", 0.0) >= threshold else "nlu_fallback"
    # the stock model cannot name two businesses: its two best intents stand for them
    return Prediction(intent, intent if intent in known else None, [r["name"] for r in ranking[:2]])


@dataclass
class Scores:
    totals: Counter = field(default_factory=Counter)
    # per category code: true positives, false positives, false negatives
    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)
    kept_by_group: Counter = field(default_factory=Counter)
    cases_by_group: Counter = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)

    def ratio(self, right: str, cases: str) -> float | None:
        return self.totals[right] / self.totals[cases] if self.totals[cases] else None

    @property
    def category_accuracy(self) -> float | None:
        return self.ratio("category_right", "category_cases")

    @property
    def kept_out(self) -> float | None:
        return self.ratio("kept_out", "out_cases")

    @property
    def two_found(self) -> float | None:
        return self.ratio("two_found", "two_cases")

    @property
    def fact_precision(self) -> float | None:
        return self.ratio("facts_right", "facts_found")

    @property
    def fact_recall(self) -> float | None:
        return self.ratio("facts_right", "facts_expected")

    def f1(self, code: str) -> float | None:
        """None when the category has neither held-out messages nor predictions."""
        tp, fp, fn = self.tp[code], self.fp[code], self.fn[code]
        return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None


def score(expected: list[Expected], predictions: list[Prediction], intents: bool = True) -> Scores:
    """`intents`: also score the intent and its routing (the project's intents; the stock model has none)."""
    s = Scores()
    for m, p in zip(expected, predictions, strict=True):
        s.totals["messages"] += 1
        if intents:
            _score_intent(s, m, p)
        kind = m.kind
        if kind == "category":
            s.totals["category_cases"] += 1
            if p.category == m.category:
                s.totals["category_right"] += 1
                s.tp[m.category] += 1
            else:
                s.fn[m.category] += 1
                if p.category:
                    s.fp[p.category] += 1
                s.misses.append(f"业务错误  {m.text}  期望 {m.category}，得到 {p.category or OUT}（{p.intent}）")
        elif kind == "out":
            s.totals["out_cases"] += 1
            s.cases_by_group[m.group] += 1
            if p.category is None:
                s.totals["kept_out"] += 1
                s.kept_by_group[m.group] += 1
            else:
                s.fp[p.category] += 1
                s.misses.append(f"未拦住    {m.text}  {m.group}，却开始咨询 {p.category}（{p.intent}）")
        elif kind == "two":
            s.totals["two_cases"] += 1
            if set(m.categories) <= set(p.named):
                s.totals["two_found"] += 1
            else:
                s.misses.append(f"两项业务  {m.text}  期望 {'+'.join(m.categories)}，"
                                f"得到 {'+'.join(p.named) or OUT}")
        elif kind == "house":
            s.totals["house_cases"] += 1
            s.totals["house_started"] += p.category is not None
        if m.facts is not None and m.category and p.has_facts:
            _score_facts(s, m, p)
    return s


def _score_intent(s: Scores, m: Expected, p: Prediction) -> None:
    s.totals["intent_right"] += m.intent == p.intent
    routed = (p.intent in LOOP_INTENTS) if m.intent in LOOP_INTENTS else m.intent == p.intent
    s.totals["routed_right"] += routed
    if not routed:
        s.misses.append(f"路由错误  {m.text}  期望 {m.intent}，得到 {p.intent}")


def _score_facts(s: Scores, m: Expected, p: Prediction) -> None:
    assert m.facts is not None and m.category
    want = set(m.facts.items())
    got = set(p.facts.get(m.category, {}).items())
    s.totals["facts_expected"] += len(want)
    s.totals["facts_found"] += len(got)
    s.totals["facts_right"] += len(want & got)
    s.misses += [f"多读事实  {m.text}  {q}={o}" for q, o in sorted(got - want)]
    s.misses += [f"漏读事实  {m.text}  {q}={o}" for q, o in sorted(want - got)]


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(fraction * len(ordered)))) - 1]
