"""Questions asked before the checklist: from a scenario's one-sentence description versus the bare tree path.

For every scenario, its description (its first example sentence, or its title if it has none) is read by the
trained NLU; the facts read for the scenario's category go into the answers exactly as action_consult puts them
(valid_facts, then merge), and the engine is walked, each question answered the way that leads to the scenario.
The same walk from no answers at all is the tree path. Pure functions: parses come in, nothing runs Rasa here.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.catalog.model import Catalog, CategoryTree, Question, Scenario
from bot.consult.engine import Answers, merge, next_step, remaining_options
from bot.consult.interpret import read_entities, valid_facts


def description(scenario: Scenario) -> str:
    return scenario.examples[0] if scenario.examples else scenario.title


def scenario_descriptions(catalog: Catalog) -> list[tuple[CategoryTree, Scenario, str]]:
    return [(tree, s, description(s)) for tree in catalog.trees.values() for s in tree.scenarios]


def _answer_towards(question: Question, scenario: Scenario, answers: Answers) -> str:
    """The option a citizen in this scenario gives: one its conditions allow, else the first one left."""
    left = [o.id for o in remaining_options(question, answers)] or [o.id for o in question.options]
    allowed = scenario.when.get(question.id)
    fitting = [o for o in left if allowed is None or o in allowed]
    return (fitting or left)[0]


def questions_until(tree: CategoryTree, scenario: Scenario, answers: Answers) -> int | None:
    """Questions the engine asks before it answers with `scenario`; None if it answers something else."""
    answers = dict(answers)
    for asked in range(len(tree.questions) + 1):
        step = next_step(tree, answers)
        if step.question is None:
            return asked if step.scenario is not None and step.scenario.id == scenario.id else None
        answers[step.question.id] = _answer_towards(step.question, scenario, answers)
    return None


def facts_read(tree: CategoryTree, parse: dict) -> Answers:
    """The answers action_consult starts from after this first message, in this category."""
    reading = read_entities(parse.get("entities") or [])
    answers: Answers = {}
    for q, answer in valid_facts(tree, reading.facts.get(tree.code, {})).items():
        answers[q] = merge(answers.pop(q, None), answer)
    return answers


@dataclass
class QuestionCount:
    category: str
    scenario: str
    text: str
    facts: Answers
    asked: int | None  # None: the facts read lead elsewhere (a misread), the scenario is not reached
    path: int | None

    @property
    def ratio(self) -> float | None:
        if self.asked is None or not self.path:
            return None
        return self.asked / self.path


def count_questions(tree: CategoryTree, scenario: Scenario, text: str, parse: dict) -> QuestionCount:
    facts = facts_read(tree, parse)
    return QuestionCount(tree.code, scenario.id, text, facts, questions_until(tree, scenario, facts),
                         questions_until(tree, scenario, {}))


@dataclass
class QuestionSummary:
    scenarios: int
    measured: int  # reached with a path of at least one question
    mean_ratio: float
    at_most_half: int
    not_reached: list[QuestionCount]
    no_question: int  # the tree answers with no question at all


def summarize(counts: list[QuestionCount]) -> QuestionSummary:
    ratios = [c.ratio for c in counts if c.ratio is not None]
    return QuestionSummary(
        scenarios=len(counts), measured=len(ratios),
        mean_ratio=sum(ratios) / len(ratios) if ratios else 0.0,
        at_most_half=sum(r <= 0.5 for r in ratios),
        not_reached=[c for c in counts if c.asked is None],
        no_question=sum(1 for c in counts if c.asked is not None and not c.path))
