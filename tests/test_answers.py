"""Answers that fit a phone: every scenario's chat answer, aspect questions, assumed defaults, two businesses."""

from __future__ import annotations

from dataclasses import replace

import pytest

from actions.consultation import answer_buttons
from bot.catalog.loader import load_valid_catalog
from bot.catalog.model import Assumption, Catalog, CategoryTree, Scenario
from bot.catalog.validator import _TreeCheck
from bot.channels.wechat.render import MAX_BYTES
from bot.channels.wechat.render import render as wechat_render
from bot.consult import aspects, render
from bot.consult.engine import assumptions, next_step
from bot.consult.interpret import read_entities
from bot.documents.notice import notice_link
from bot.nlu.matcher import PhraseFinder
from bot.settings import SCENARIOS_DIR
from tests.conversation import Conversation
from tests.test_engine import walk

CATALOG = load_valid_catalog(SCENARIOS_DIR)
SCENARIOS = [(tree, s) for tree in CATALOG.trees.values() for s in tree.scenarios]
PUBLIC = "https://huji.example.gov.cn"


def chat_answer(tree: CategoryTree, scenario: Scenario, asked: list[str] = ()) -> tuple[render.ChatAnswer, list]:
    """The answer the action gives at the end of the scenario's own conversation (all extras it would offer)."""
    step = next_step(tree, {q: allowed[0] for q, allowed in scenario.when.items()}, assume=False)
    assert step.scenario is not None and step.scenario.id == scenario.id
    possible = [(render.condition_label(tree, e.when), e) for e in step.possible_extras]
    templates = [CATALOG.templates[t] for t in scenario.templates]
    url = notice_link(PUBLIC, scenario.id, [e.id for e in step.extras], step.answers, "天河")
    return render.scenario_answer(scenario, step.extras, CATALOG.info(tree.code).name, templates, possible,
                                  notice_url=url, aspects=asked), possible


@pytest.mark.parametrize(("tree", "scenario"), SCENARIOS, ids=[s.id for _, s in SCENARIOS])
def test_every_chat_answer_fits_and_leads_with_the_verdict_and_the_checklist(
        tree: CategoryTree, scenario: Scenario) -> None:
    answer, possible = chat_answer(tree, scenario)
    lines = answer.text.split("\n")
    assert render.visible_length(answer.text) <= render.MAX_ANSWER_CHARS
    turn, _ = wechat_render([{"text": answer.text, "buttons": answer_buttons(answer.complete, bool(possible))}])
    assert len(turn.encode("utf-8")) <= MAX_BYTES, "one WeChat message, buttons included"
    assert lines[0] == f"【{CATALOG.info(tree.code).name}｜{scenario.title}】"
    assert lines[1] == f"{render.VERDICT_LABELS[scenario.verdict]}：{scenario.reason}", "the verdict, whole"
    if scenario.materials:
        assert lines[2:4] == ["", "📋 需要准备的材料："], "the checklist right after the verdict"
        first = scenario.materials[0]
        names = [a.name for a in first.alternatives] if hasattr(first, "alternatives") else [first.name]
        assert lines[4].startswith("1. ") and (any(n in lines[4] for n in names) or "任选其一" in lines[4]
                                                  or "项材料" in lines[4])
    assert lines[-1].startswith("🖨 一次性告知单") and f"/api/scenarios/{scenario.id}/notice" in lines[-1]
    for _, extra in possible:
        assert render.extra_text(extra) not in answer.text, "a conditional addition is offered, not printed"
    if not answer.complete:
        assert render.FULL_LIST_HINT in answer.text


def test_the_full_answer_and_the_special_cases_are_there_on_request() -> None:
    tree = CATALOG.trees["birth"]
    scenario = tree.scenario("birth_married_in_time")
    answer, possible = chat_answer(tree, scenario)
    assert possible and not answer.complete
    buttons = [b["title"] for b in answer_buttons(answer.complete, True)]
    assert buttons[:2] == ["查看完整清单", "还有特殊情况要看吗"]
    full = render.full_answer(scenario, [], "出生登记", [], possible)
    for line in render.checklist_lines(scenario.materials):
        assert line in full, "the complete checklist, notes included"
    assert scenario.fee in full and scenario.where in full
    special = render.special_cases_text(possible)
    assert all(label in special for label, _ in possible)
    case_buttons = render.special_case_buttons(tree, possible)
    assert len(case_buttons) == len(possible)
    assert '"fact":"birth:household=unit_collective"' in " ".join(b["payload"] for b in case_buttons)


def test_a_long_checklist_is_cut_with_how_many_more() -> None:
    tree = CATALOG.trees["birth"]
    scenario = tree.scenario("birth_abroad_chinese")
    step = next_step(tree, {q: a[0] for q, a in scenario.when.items()}, assume=False)
    answer = render.scenario_answer(scenario, step.extras, "出生登记", [], notice_url=PUBLIC + "/x", limit=400)
    assert render.visible_length(answer.text) <= 400 and not answer.complete
    assert "另有" in answer.text and "项材料" in answer.text


@pytest.mark.parametrize(("text", "expected"), [
    ("补办身份证要多少钱", ["fee"]),
    ("居住证多久能拿到", ["time"]),
    ("在哪办", ["where"]),
    ("能网上办吗", ["online"]),
    ("要本人去吗", ["who"]),
    ("要带什么材料", ["materials"]),
    ("要几多钱？几耐先攞到？", ["fee", "time"]),
    ("孩子出生了怎么上户口", []),
])
def test_aspects_are_read_in_the_order_asked(text: str, expected: list[str]) -> None:
    assert aspects.detect(text) == expected


def test_the_aspect_asked_leads_the_answer() -> None:
    tree = CATALOG.trees["id_card"]
    scenario = next(s for s in tree.scenarios if s.verdict != "ineligible" and s.fee)
    answer, _ = chat_answer(tree, scenario, ["fee"])
    lines = answer.text.split("\n")
    assert lines[1] == f"💰 费用：{scenario.fee}" and lines[2].startswith(render.VERDICT_LABELS[scenario.verdict])
    assert "📋 需要准备的材料：" in lines[3:5]
    assert answer.text.count(f"💰 费用：{scenario.fee}") == 1, "not repeated below"


def test_an_ineligible_case_says_so_before_the_aspect() -> None:
    tree, scenario = next((t, s) for t, s in SCENARIOS if s.verdict == "ineligible" and s.where)
    answer, _ = chat_answer(tree, scenario, ["where"])
    lines = answer.text.split("\n")
    assert lines[1].startswith(render.VERDICT_LABELS["ineligible"]) and lines[2].startswith("📍 在哪办理")


def test_birth_parentage_is_assumed_only_for_married_parents() -> None:
    tree = CATALOG.trees["birth"]
    assume = tree.question("parentage").assume
    assert assume is not None and assume.option == "biological" and "收养" in assume.confirm
    assert assumptions(tree, {"marital": "married"}) == {"parentage": "biological"}
    assert assumptions(tree, {"marital": "unmarried"}) == {}
    assert assumptions(tree, {"marital": "married", "parentage": "adopted|adopted_informal"}) == {}, \
        "a correction wins"
    step = next_step(tree, {"marital": "married", "birthplace": "mainland"})
    assert step.assumed == {"parentage": "biological"} and step.question.id != "parentage"
    assert step.confirmations(tree) == [assume.confirm]
    assert step.confirmations(tree, step) == [], "said once"
    assert next_step(tree, {"marital": "married"}, assume=False).question.id == "birthplace"


def test_every_scenario_stays_reachable_with_the_assumptions() -> None:
    """An assumed answer never hides a scenario: the citizen can always give the other answer."""
    tree = CATALOG.trees["birth"]
    adopted = tree.scenario("birth_adopted")
    reached, asked = walk(tree, adopted, {"marital": "married", "parentage": "adopted"})
    assert reached is not None and reached.id == "birth_adopted"


def test_the_validator_checks_assumptions(catalog: Catalog) -> None:
    tree = catalog.trees["birth"]
    question = tree.question("parentage")
    original = question.assume
    try:
        for bad, kind in [(Assumption("no_such", {"marital": ("married",)}, "如不是请告诉我。"), "unknown-option"),
                          (Assumption("biological", {}, "如不是请告诉我。"), "empty-condition"),
                          (Assumption("biological", {"marital": ("wed",)}, "如不是请告诉我。"), "unknown-option"),
                          (Assumption("biological", {"marital": ("married",)}, "按亲生子女核对。"), "bad-value"),
                          (Assumption("biological", {"parentage": ("biological",)}, "如不是请告诉我。"), "bad-value")]:
            question.assume = bad
            kinds = {p.kind for p in _TreeCheck(tree, catalog).run() if p.where == "parentage"}
            assert kind in kinds, (bad, kinds)
        # a tree where no scenario takes a foundling: assuming one leads nowhere
        question.assume = Assumption("foundling", {"marital": ("married",)}, "如不是请告诉我。")
        no_foundling = replace(tree, scenarios=[s for s in tree.scenarios
                                                if "foundling" not in s.when.get("parentage", ("foundling",))])
        assert "assume-dead-end" in {p.kind for p in _TreeCheck(no_foundling, catalog).run() if p.where == "parentage"}
    finally:
        question.assume = original
    assert not [p for p in _TreeCheck(tree, catalog).run() if p.where == "parentage"]


def entities(finder: PhraseFinder, text: str) -> list[dict]:
    return [{"entity": m.entity, "value": m.value, "start": m.start, "end": m.end} for m in finder.find(text)]


def test_two_businesses_are_read_only_when_a_second_one_is_added(finder: PhraseFinder) -> None:
    known = {c.code for c in CATALOG.categories}
    both = "宝宝出生要上户口，还有我的居住证到期了"
    assert read_entities(entities(finder, both)).businesses(both, None, known) == ["birth", "residence_permit"]
    one = "集体户口生孩子怎么落户 户口在公司"  # a collective household is the birth's situation, not a business
    assert len(read_entities(entities(finder, one)).categories) >= 2
    assert read_entities(entities(finder, one)).businesses(one, None, known) == []


def test_few_single_business_descriptions_look_like_two() -> None:
    finder = PhraseFinder.for_catalog(CATALOG)
    known = {c.code for c in CATALOG.categories}
    examples = [e for _, s in SCENARIOS for e in s.examples]
    asked = [e for e in examples if read_entities(entities(finder, e)).businesses(e, None, known)]
    assert len(asked) <= len(examples) // 200, asked


@pytest.fixture()
def talk(db_url: str, finder: PhraseFinder, monkeypatch: pytest.MonkeyPatch) -> Conversation:
    monkeypatch.setenv("HUJI_DATABASE_URL", db_url)
    return Conversation(finder)


def finish(talk: Conversation) -> None:
    """Press the first button of every question until the answer comes."""
    for _ in range(20):
        if not talk.slots.get("pending_question"):
            return
        talk.say(talk.buttons[0]["payload"])
    raise AssertionError("still asking")


def test_married_parents_are_not_asked_whether_the_child_is_their_own(talk: Conversation) -> None:
    confirm = CATALOG.trees["birth"].question("parentage").assume.confirm
    talk.say("我们结婚了，孩子在广州出生，跟爸爸落户")
    assert talk.slots["category"] == "birth" and talk.slots["answers"]["marital"] == "married"
    assert confirm in talk.text, "the assumption is stated"
    assert talk.slots["pending_question"] != "parentage" and "parentage" not in talk.slots["answers"]
    talk.press(talk.buttons[0]["title"])
    assert confirm not in talk.text, "stated once"
    talk.say("是收养的")  # the correction undoes it
    assert "已为您更正" in talk.text
    assert talk.slots["answers"]["parentage"] == "adopted|adopted_informal"
    assert talk.slots["pending_question"] == "parentage"
    assert all("收养" in b["title"] for b in talk.buttons)


def test_the_assumption_reaches_the_answer_and_the_notice_sheet(talk: Conversation) -> None:
    talk.say("我们结婚了，孩子在广州出生，跟爸爸落户，我们都是广州户口")
    finish(talk)
    assert talk.slots["scenario"].startswith("birth_married")
    assert "parentage%3Abiological" in talk.text, "the notice sheet says what was assumed"


def test_the_fee_asked_first_leads_the_answer(talk: Conversation) -> None:
    talk.say("补办身份证要多少钱")
    assert talk.slots["category"] == "id_card" and talk.slots["asked_aspects"] == ["fee"]
    finish(talk)
    scenario = CATALOG.trees["id_card"].scenario(talk.slots["scenario"])
    assert talk.replies[-1]["text"].split("\n")[1] == f"💰 费用：{scenario.fee}"
    assert talk.slots["asked_aspects"] is None, "the next answer leads with the checklist again"
    talk.say("多久能拿到")  # after the answer: that aspect of the current scenario, nothing else
    assert "⏱ 办理时限" in talk.text and "需要准备的材料" not in talk.text
    assert talk.slots["scenario"] == scenario.id


def test_an_aspect_asked_before_the_case_is_clear_is_remembered(talk: Conversation) -> None:
    talk.say("居住证怎么办")
    assert talk.slots["category"] == "residence_permit" and talk.slots["pending_question"]
    pending = talk.slots["pending_question"]
    talk.say("要本人去吗")
    assert "先告诉您谁来办理" in talk.text and talk.buttons
    assert talk.slots["asked_aspects"] == ["who"]
    talk.say("要多少钱", intent="deny")  # as the trained model reads it: still not an answer to the question
    assert talk.slots["pending_question"] == pending and talk.slots["asked_aspects"] == ["who", "fee"]
    talk.say("asdf;;;", intent="nlu_fallback")  # garbage is not understood, not taken as asking again
    assert "没太明白" in talk.text and "先告诉您" not in talk.text
    assert talk.slots["pending_question"] == pending and talk.slots["asked_aspects"] == ["who", "fee"]
    finish(talk)
    lines = talk.replies[-1]["text"].split("\n")
    assert lines[1].startswith("👤 谁来办理") and lines[2].startswith("💰 费用")


def test_two_businesses_are_taken_one_after_the_other(talk: Conversation) -> None:
    talk.say("宝宝出生要上户口，还有我的居住证到期了")
    assert talk.slots.get("category") is None
    assert [b["title"] for b in talk.buttons] == ["出生登记", "居住登记与居住证"]
    talk.press("出生登记")
    assert talk.slots["category"] == "birth"
    finish(talk)
    assert talk.slots["scenario"].startswith("birth_")
    assert "还要咨询吗" in talk.text and "居住登记与居住证" in talk.text
    talk.press("咨询居住登记与居住证")
    assert talk.slots["category"] == "residence_permit"
    assert talk.slots["answers"] == {"business": "endorse"}, "what was said about it, and only that"
    assert not talk.slots.get("other_business")
