"""Walks any category's question tree: asks only what still matters, then names the one scenario that applies.

Answers are a plain dict question id -> option id, so they fit in a Rasa slot and survive corrections:
a corrected answer simply replaces the old one and the walk is recomputed from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.catalog.model import CategoryTree, Conditions, Extra, Question, Scenario

Answers = dict[str, str]


def consistent(when: Conditions, answers: Answers) -> bool:
    """No given answer contradicts the conditions (unanswered questions may still match)."""
    return all(answers[q] in allowed for q, allowed in when.items() if q in answers)


def satisfied(when: Conditions, answers: Answers) -> bool:
    return all(answers.get(q) in allowed for q, allowed in when.items())


@dataclass
class Step:
    """Where a consultation stands after the answers so far."""

    question: Question | None = None  # the next question to ask, if any
    scenario: Scenario | None = None  # the scenario that applies, once known
    extras: list[Extra] = field(default_factory=list)  # additions that apply to it
    possible_extras: list[Extra] = field(default_factory=list)  # apply only "如属…": not asked, not yet known
    candidates: list[Scenario] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.scenario is not None and self.question is None

    @property
    def dead_end(self) -> bool:
        """No scenario fits these answers (a gap in the tree) or several do and nothing is left to ask."""
        return self.question is None and self.scenario is None


def _first_open_question(tree: CategoryTree, conditions: list[Conditions], answers: Answers) -> Question | None:
    named = {q for when in conditions for q in when}
    return next((q for q in tree.questions if q.id in named and q.id not in answers), None)


def next_step(tree: CategoryTree, answers: Answers) -> Step:
    candidates = [s for s in tree.scenarios if consistent(s.when, answers)]
    if len(candidates) == 1 and satisfied(candidates[0].when, answers):
        scenario = candidates[0]
        open_extras = [e for e in tree.extras if e.applies_to(scenario) and consistent(e.when, answers)]
        question = _first_open_question(tree, [e.when for e in open_extras if e.ask], answers)
        extras = [e for e in open_extras if satisfied(e.when, answers)]
        possible = [e for e in open_extras if not e.ask and not satisfied(e.when, answers)]
        return Step(question=question, scenario=scenario, extras=extras, possible_extras=possible,
                    candidates=candidates)
    question = _first_open_question(tree, [s.when for s in candidates], answers)
    return Step(question=question, candidates=candidates)

