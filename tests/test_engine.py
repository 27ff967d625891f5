"""The consultation engine reaches every scenario, by answers and by a one-sentence description."""

from __future__ import annotations

import pytest

from bot.catalog.loader import load_valid_catalog
from bot.catalog.model import Catalog, CategoryTree, Scenario
from bot.consult.engine import Answers, next_step
from bot.nlu.matcher import PhraseFinder, parse_fact
from bot.settings import SCENARIOS_DIR

CATALOG = load_valid_catalog(SCENARIOS_DIR)
SCENARIOS = [(tree, s) for tree in CATALOG.trees.values() for s in tree.scenarios]
EXAMPLES = [(tree, s, e) for tree, s in SCENARIOS for e in s.examples]


def walk(tree: CategoryTree, target: Scenario, answers: Answers) -> tuple[Scenario | None, list[str]]:
    """Answer every question the engine asks as the target scenario's citizen would."""
    asked: list[str] = []
    answers = dict(answers)
    for _ in range(len(tree.questions) + 1):
        step = next_step(tree, answers)
        if step.question is None:
            return step.scenario, asked
        asked.append(step.question.id)
        allowed = target.when.get(step.question.id) or [step.question.options[0].id]
        answers[step.question.id] = allowed[0]
    raise AssertionError("the engine kept asking")


def facts_of(finder: PhraseFinder, tree: CategoryTree, text: str) -> Answers:
    facts: Answers = {}
    for m in finder.find(text):
        parsed = parse_fact(m.value) if m.entity == "fact" else None
        if parsed and parsed[0] == tree.code:
            facts[parsed[1]] = parsed[2]
    return facts


@pytest.mark.parametrize(("tree", "scenario"), SCENARIOS, ids=[s.id for _, s in SCENARIOS])
def test_every_scenario_is_reached_by_its_answers(tree: CategoryTree, scenario: Scenario) -> None:
    reached, asked = walk(tree, scenario, {})
    assert reached is not None and reached.id == scenario.id
    assert set(scenario.when) <= set(asked), "each condition was asked, none was assumed"
    assert len(asked) == len(set(asked)), "no question asked twice"


@pytest.mark.parametrize(("tree", "scenario", "example"), EXAMPLES,
                         ids=[f"{s.id}-{i}" for i, (_, s, _) in enumerate(EXAMPLES)])
def test_every_description_leads_to_its_scenario_with_fewer_questions(
        finder: PhraseFinder, tree: CategoryTree, scenario: Scenario, example: str) -> None:
    facts = facts_of(finder, tree, example)
    assert facts, f"nothing understood in {example!r}"
    contradictions = {q: a for q, a in facts.items()
                      if q in scenario.when and not set(a.split("|")) & set(scenario.when[q])}
    assert not contradictions, f"{example!r} read as {contradictions}"
    reached, asked = walk(tree, scenario, facts)
    assert reached is not None and reached.id == scenario.id
    _, asked_without = walk(tree, scenario, {})
    assert len(asked) < len(asked_without), "the description spared at least one question"
    said = {q for q, a in facts.items() if "|" not in a}  # narrowed answers are asked, with fewer options
    assert not set(asked) & said, "never asks what the citizen already said"


def test_headline_birth_sentence_is_understood(finder: PhraseFinder, catalog: Catalog) -> None:
    tree = catalog.trees["birth"]
    facts = facts_of(finder, tree, "我老婆上个月在广州生了个女儿,我们都是广州户口,孩子户口怎么上")
    assert facts["marital"] == "married"
    assert facts["gz_hukou"] == "both"
    assert facts["birthplace"] == "mainland"
    step = next_step(tree, facts)
    assert step.question is not None and step.question.id not in facts


def test_dead_end_when_answers_contradict_every_scenario(catalog: Catalog) -> None:
    tree = catalog.trees["birth"]
    bogus = {q.id: "no_such_option" for q in tree.questions}
    step = next_step(tree, bogus)
    assert step.dead_end and not step.candidates
