"""Every scenario of the catalog as the hotline reads it: short pages before each question, the checklist as
"需要带四样东西：一、…", the conditional extras ("如属以下情况") offered as keypad choices."""

from __future__ import annotations

import re

import pytest

from bot.catalog.model import Catalog, CategoryTree, Extra, Scenario
from bot.channels.hotline.speech import (
    MAX_CHOICES,
    PREFACE_LIMIT,
    SMS_SENT,
    Choice,
    after_question,
    choices_from,
    extra_choice,
    extra_pages,
    material_names,
    number,
    ordinal,
    reading,
    scenario_pages,
    spoken_item,
)
from bot.consult.render import AFTER_ANSWER_BUTTONS, condition_label

AFTER = choices_from(AFTER_ANSWER_BUTTONS)


def every_scenario(catalog: Catalog) -> list[tuple[CategoryTree, str, Scenario]]:
    names = {c.code: c.name for c in catalog.categories}
    return [(tree, names[code], s) for code, tree in catalog.trees.items() for s in tree.scenarios]


def mentioned(tree: CategoryTree, s: Scenario) -> list[Extra]:
    return [e for e in tree.extras if e.applies_to(s) and not e.ask and e.mention]


def turns_of(tree: CategoryTree, name: str, s: Scenario, applied: list[Extra]):
    pages, lead = scenario_pages(s, name, applied)
    offered = [extra_choice(condition_label(tree, e.when), f"/consult-{e.id}") for e in mentioned(tree, s)]
    return pages, lead, reading(pages, after_question(offered, AFTER, lead))


def test_every_scenario_is_read_in_short_pages(catalog: Catalog) -> None:
    checked = 0
    for tree, name, s in every_scenario(catalog):
        extras = [e for e in tree.extras if e.applies_to(s)]
        for applied in ([], extras):  # no extra, and every extra that can apply (the longest checklist)
            pages, lead, turns = turns_of(tree, name, s, applied)
            for turn in turns:
                assert 0 < len(turn.preface) <= PREFACE_LIMIT, (s.id, turn.preface)
                assert turn.speech.startswith(turn.preface) and turn.question, s.id
                assert all(f"请按{c.key}" in turn.question for c in turn.choices), (s.id, turn.question)
                assert len(turn.choices) <= MAX_CHOICES
            spoken = "".join(pages)
            assert SMS_SENT in spoken or SMS_SENT.rstrip("。") in turns[-1].question, s.id
            names = material_names(s, applied)
            if names:
                assert f"需要带{number(len(names))}样东西：一、" in spoken, s.id
                positions = [spoken.index(f"{ordinal(k)}、{n}") for k, n in enumerate(names, 1)]
                assert positions == sorted(positions), s.id  # read in the checklist's order
            checked += 1
    assert checked >= 2 * 400


def test_the_verdict_comes_first(catalog: Catalog) -> None:
    for _, name, s in every_scenario(catalog):
        pages, _ = scenario_pages(s, name)
        first = pages[0]
        if s.verdict == "ineligible":
            assert "不能按这项业务办理" in first, s.id
        else:
            assert re.match(r"^[^。]*可以办理。", first), (s.id, first)


def test_conditional_extras_are_offered_by_keypad(catalog: Catalog) -> None:
    offered_somewhere = 0
    for tree, name, s in every_scenario(catalog):
        extras = mentioned(tree, s)
        _, _, turns = turns_of(tree, name, s, [])
        last = turns[-1]
        if not extras:
            assert "去哪里办" in last.question
            continue
        offered_somewhere += 1
        labels = [condition_label(tree, e.when).strip("「」") for e in extras]
        assert "您属于以下情况吗" in last.question
        assert [c.say for c in last.choices[:len(extras[:3])]] == labels[:3]
        assert [c.key for c in last.choices] == [str(n) for n in range(1, len(last.choices) + 1)]
        assert any("去哪里办" in c.say for c in last.choices)
        if len(extras) > 3:
            assert "其他情况见短信" in last.question
    assert offered_somewhere > 100


def test_what_an_extra_adds_is_read_when_the_caller_says_it_applies(catalog: Catalog) -> None:
    for tree, _, s in every_scenario(catalog):
        for extra in mentioned(tree, s):
            label = condition_label(tree, extra.when).strip("「」")
            pages, lead = extra_pages(label, extra)
            assert all(0 < len(p) <= PREFACE_LIMIT for p in pages), (extra.id, pages)
            assert pages[0].startswith("好的，")
            names = [spoken_item(m) for m in extra.materials]
            if names:
                assert f"还要带{number(len(names))}样东西：一、" in "".join(pages), extra.id
            assert lead or "短信" in pages[-1]


def test_a_long_choice_of_documents_is_read_by_its_first(catalog: Catalog) -> None:
    from bot.catalog.model import ChoiceGroup

    groups = [i for t in catalog.trees.values() for s in t.scenarios for i in s.materials
              if isinstance(i, ChoiceGroup) and len(i.alternatives) > 2]
    assert groups
    for group in groups:
        said = spoken_item(group)
        assert "《" not in said and "（" not in said
        assert said.startswith(spoken_item(group.alternatives[0])), said
        assert len(said) <= 24 or "种中的一种" in said


@pytest.mark.parametrize("extras", [[], [("单位或人才市场集体户", "/a")], [(f"情况{n}", f"/{n}") for n in range(6)]])
def test_after_question_keys_are_consecutive(extras: list[tuple[str, str]]) -> None:
    question, choices = after_question(extras, AFTER)
    assert len(choices) <= MAX_CHOICES
    assert all(isinstance(c, Choice) and f"{c.say}请按{c.key}" in question for c in choices)
