"""Walks any category's question tree: asks only what still matters, then names the one scenario that applies.

Answers are a plain dict question id -> option id, so they fit in a Rasa slot and survive corrections:
a corrected answer simply replaces the old one and the walk is recomputed from scratch. An answer may also be
narrowed but not decided ("adopted|adopted_informal" for "收养的"); its question is then asked with the
remaining options only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.catalog.model import CategoryTree, Conditions, Extra, Option, Question, Scenario

Answers = dict[str, str]


def choices(answer: str) -> list[str]:
    return answer.split("|")


def decided(answers: Answers, question_id: str) -> bool:
    return question_id in answers and "|" not in answers[question_id]


def remaining_options(question: Question, answers: Answers) -> list[Option]:
    if question.id not in answers:
        return list(question.options)
    left = choices(answers[question.id])
    return [o for o in question.options if o.id in left]


def merge(old: str | None, new: str) -> str:
    """A narrowing answer keeps an earlier decided answer it allows; anything else replaces it."""
    if old is not None and "|" in new and set(choices(old)) <= set(choices(new)):
        return old
    return new


def consistent(when: Conditions, answers: Answers) -> bool:
    """No given answer contradicts the conditions (unanswered questions may still match)."""
    return all(set(choices(answers[q])) & set(allowed) for q, allowed in when.items() if q in answers)


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
    # answers the catalog assumed (question id -> option id): to be confirmed to the citizen
    assumed: Answers = field(default_factory=dict)
    answers: Answers = field(default_factory=dict)  # what the step stands on: given and assumed answers

    def confirmations(self, tree: CategoryTree, before: Step | None = None) -> list[str]:
        """The confirmation lines of the assumptions made at this step and not already made `before`."""
        said = before.assumed if before else {}
        return [tree.question(q).assume.confirm for q, o in self.assumed.items() if said.get(q) != o]

    @property
    def done(self) -> bool:
        return self.scenario is not None and self.question is None

    @property
    def dead_end(self) -> bool:
        """No scenario fits these answers (a gap in the tree) or several do and nothing is left to ask."""
        return self.question is None and self.scenario is None


def _first_open_question(tree: CategoryTree, conditions: list[Conditions], answers: Answers) -> Question | None:
    named = {q for when in conditions for q in when}
    return next((q for q in tree.questions if q.id in named and not decided(answers, q.id)), None)


def assumptions(tree: CategoryTree, answers: Answers) -> Answers:
    """The catalog's common cases that the given answers make overwhelmingly likely, for questions not answered
    (a narrowed or corrected answer always wins). They are never stored as answers: a later correction of the
    answers they stand on withdraws them."""
    return {q.id: q.assume.option for q in tree.questions
            if q.assume is not None and q.id not in answers and satisfied(q.assume.when, answers)}


def next_step(tree: CategoryTree, answers: Answers, assume: bool = True) -> Step:
    """The next question or the scenario. `assume=False` asks every question (the validator walks every path)."""
    assumed = assumptions(tree, answers) if assume else {}
    step = _step(tree, {**answers, **assumed})
    step.assumed, step.answers = assumed, {**answers, **assumed}
    return step


def _step(tree: CategoryTree, answers: Answers) -> Step:
    candidates = [s for s in tree.scenarios if consistent(s.when, answers)]
    if len(candidates) == 1 and satisfied(candidates[0].when, answers):
        scenario = candidates[0]
        open_extras = [e for e in tree.extras if e.applies_to(scenario) and consistent(e.when, answers)]
        question = _first_open_question(tree, [e.when for e in open_extras if e.ask], answers)
        extras = [e for e in open_extras if satisfied(e.when, answers)]
        possible = [e for e in open_extras if not e.ask and e.mention and not satisfied(e.when, answers)]
        return Step(question=question, scenario=scenario, extras=extras, possible_extras=possible,
                    candidates=candidates)
    question = _first_open_question(tree, [s.when for s in candidates], answers)
    return Step(question=question, candidates=candidates)

