"""The consultation actions against real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from bot.catalog.model import Catalog
from bot.nlu.matcher import PhraseFinder
from tests.conversation import Conversation
from tests.test_engine import walk


@pytest.fixture()
def talk(db_url: str, finder: PhraseFinder, monkeypatch: pytest.MonkeyPatch) -> Conversation:
    monkeypatch.setenv("HUJI_DATABASE_URL", db_url)
    return Conversation(finder)


def answer_until_done(talk: Conversation, catalog: Catalog, scenario_id: str) -> None:
    tree = catalog.trees["birth"]
    target = tree.scenario(scenario_id)
    for _ in range(len(tree.questions) + 1):
        pending = talk.slots.get("pending_question")
        if not pending:
            return
        wanted = (target.when.get(pending) or [tree.question(pending).options[0].id])[0]
        label = tree.question(pending).option(wanted).label
        talk.press(label)
    raise AssertionError("still asking")


def test_headline_conversation_asks_only_what_is_missing(talk: Conversation, catalog: Catalog) -> None:
    talk.say("我老婆上个月在广州生了个女儿,我们都是广州户口,孩子户口怎么上")
    assert talk.slots["category"] == "birth"
    assert {"marital", "gz_hukou", "birthplace"} <= set(talk.slots["answers"])
    assert talk.slots["pending_question"] not in ("marital", "gz_hukou", "birthplace")
    assert talk.buttons, "the question comes with buttons"
    answer_until_done(talk, catalog, "birth_married_in_time")
    assert talk.slots["scenario"] == "birth_married_in_time"
    assert "需要准备的材料" in talk.text and "出生医学证明" in talk.text
    assert "一次性告知单" in talk.text
    talk.press("查看完整清单")  # what did not fit in the chat answer, on request
    assert "费用" in talk.text and "在哪办理" in talk.text and "办理时限" in talk.text


def test_every_birth_scenario_through_the_action(talk: Conversation, catalog: Catalog) -> None:
    tree = catalog.trees["birth"]
    for scenario in tree.scenarios:
        talk.say("/start_over")
        talk.say("我想咨询出生登记")
        assert talk.slots["category"] == "birth"
        answer_until_done(talk, catalog, scenario.id)
        assert talk.slots["scenario"] == scenario.id, scenario.id
        reached, _ = walk(tree, scenario, {})
        assert reached.title in talk.text


def test_correction_changes_the_answer_and_the_scenario(talk: Conversation, catalog: Catalog) -> None:
    talk.say("我老婆刚生了孩子，我们都是广州户口")
    answer_until_done(talk, catalog, "birth_married_in_time")
    assert talk.slots["scenario"] == "birth_married_in_time"
    talk.say("不对，我们还没领结婚证", intent="correct")
    assert talk.slots["answers"]["marital"] == "unmarried"
    assert "已为您更正" in talk.text
    assert talk.slots["scenario"] != "birth_married_in_time"


def test_generic_correction_reasks_the_last_answer(talk: Conversation) -> None:
    talk.say("孩子出生一年多了还没报户口")
    first = talk.slots["pending_question"]
    talk.press(talk.buttons[0]["title"])
    talk.say("不对，我说错了", intent="correct")
    assert talk.slots["pending_question"] == first
    assert first not in talk.slots["answers"]


def test_a_narrowing_word_asks_only_between_the_options_it_leaves(talk: Conversation, catalog: Catalog) -> None:
    talk.say("孩子是收养的怎么落户")
    parentage = catalog.trees["birth"].question("parentage")
    assert talk.slots["pending_question"] == "parentage"
    adoption = [o.label for o in parentage.options if o.id.startswith("adopted")]
    assert [b["title"] for b in talk.buttons] == adoption
    talk.say("1")
    assert talk.slots["answers"]["parentage"] == "adopted"
    assert talk.slots["scenario"] == "birth_adopted"


def test_a_fact_that_changes_nothing_gets_a_short_answer(talk: Conversation, catalog: Catalog) -> None:
    talk.say("我老婆刚生了孩子，我们都是广州户口")
    answer_until_done(talk, catalog, "birth_married_in_time")
    talk.say("孩子是在广州出生的")
    assert talk.slots["scenario"] == "birth_married_in_time"
    assert "不影响" in talk.text and "需要准备的材料" not in talk.text


def test_an_answer_to_another_question_is_noted_and_the_question_repeated(talk: Conversation) -> None:
    talk.say("喂你好那个我想问一下就是我老婆生了个小孩然后我们都是广州户口的嗯要怎么上户口")
    pending = talk.slots["pending_question"]
    assert pending == "birthplace"
    talk.say("有出生证")
    assert talk.slots["answers"]["birth_cert"] == "has"
    assert talk.slots["pending_question"] == pending and talk.text.startswith("好的，已记下。")


def test_why_ask_explains_the_pending_question(talk: Conversation, catalog: Catalog) -> None:
    talk.say("孩子出生一年多了还没报户口")
    pending = talk.slots["pending_question"]
    talk.say("为什么要问这个", intent="why_ask")
    assert catalog.trees["birth"].question(pending).why in talk.text
    assert talk.slots["pending_question"] == pending


def test_start_over_clears_the_consultation(talk: Conversation) -> None:
    talk.say("非婚生的孩子怎么上户口")
    assert talk.slots["answers"]
    talk.say("重新开始", intent="start_over")
    assert talk.slots["category"] is None and talk.slots["answers"] is None and talk.slots["scenario"] is None


def test_topic_switch_resets_answers(talk: Conversation) -> None:
    talk.say("非婚生的孩子怎么上户口")
    talk.say("另外我身份证丢了怎么补办")
    assert talk.slots["category"] == "id_card"
    assert talk.slots["answers"] == {"need": "lost"}, "birth answers dropped, the new message's answer kept"
    assert "改为咨询" in talk.text


def test_not_understood_twice_offers_human_help(talk: Conversation) -> None:
    talk.say("孩子出生一年多了还没报户口")
    talk.say("asdfgh", intent="nlu_fallback")
    assert "没太明白" in talk.text and talk.buttons
    talk.say("qwerty", intent="nlu_fallback")
    assert "12345" in talk.text
    assert any("人工" in b["title"] for b in talk.buttons)


@pytest.mark.parametrize("text", ["", "😀😀", "。。。", "x" * 20000])
def test_bad_input_gets_a_clear_answer(talk: Conversation, text: str) -> None:
    talk.say(text, intent="nlu_fallback")
    assert talk.text.strip()


def test_number_and_yes_answers_to_the_pending_question(talk: Conversation, catalog: Catalog) -> None:
    talk.say("孩子出生一年多了还没报户口")
    pending = catalog.trees["birth"].question(talk.slots["pending_question"])
    talk.say("2")
    assert talk.slots["answers"][pending.id] == pending.options[1].id


def test_show_template_after_the_answer(talk: Conversation, catalog: Catalog) -> None:
    talk.say("我老婆刚生了孩子，我们都是广州户口")
    answer_until_done(talk, catalog, "birth_married_in_time")
    talk.say("/show_template")
    scenario = catalog.trees["birth"].scenario("birth_married_in_time")
    names = [catalog.templates[t].name for t in scenario.templates]
    assert names and all(n.strip("《》") in talk.text for n in names)
    for t in scenario.templates:
        assert f"/api/templates/{t}?variant=sample" in talk.text
        assert f"/api/templates/{t}?variant=prefilled&answers=" in talk.text, "prefilled with the answers given"


def test_the_answer_links_its_notice_sheet_and_print_sends_it(talk: Conversation, catalog: Catalog) -> None:
    talk.say("我老婆刚生了孩子，我们都是广州户口")
    answer_until_done(talk, catalog, "birth_married_in_time")
    assert "一次性告知单" in talk.text
    assert "http://localhost:5080/api/scenarios/birth_married_in_time/notice?" in talk.text
    talk.say("我要打印", intent="print_notice")
    assert "/api/scenarios/birth_married_in_time/notice.pdf?" in talk.text
    assert "marital%3Amarried" in talk.text, "the sheet knows the answers (option ids, never typed text)"


def test_print_before_any_outcome_asks_for_the_situation(talk: Conversation) -> None:
    talk.say("我要打印", intent="print_notice")
    assert "请先告诉我" in talk.text and "http" not in talk.text


def test_extras_stay_conditional_until_the_citizen_says_so(talk: Conversation, catalog: Catalog) -> None:
    tree = catalog.trees["birth"]
    unit = tree.question("household").option("unit_collective")
    consent = next(e for e in tree.extras if e.when.get("household") == ("unit_collective",)).materials[0].name
    talk.say("我老婆刚生了孩子，我们都是广州户口")
    answer_until_done(talk, catalog, "birth_married_in_time")
    assert consent not in talk.text, "the special cases are offered, not printed"
    talk.press("还有特殊情况要看吗")
    assert f"「{unit.label}」" in talk.text and consent not in talk.text
    talk.press(unit.label)  # the case's button applies it: the checklist again, with the addition
    assert talk.slots["scenario"] == "birth_married_in_time"
    assert talk.slots["answers"]["household"] == "unit_collective"
    assert consent in talk.text.split("📌")[0]
    talk.press("还有特殊情况要看吗")
    assert f"「{unit.label}」" not in talk.text, "a case that applies is no longer offered"
    talk.say("/start_over")
    talk.say("我老婆刚生了孩子，我们都是广州户口")
    answer_until_done(talk, catalog, "birth_married_in_time")
    talk.say(f"孩子落{unit.synonyms[0]}")  # said in words, the same
    assert consent in talk.text.split("📌")[0]
    talk.say("/show_template")
    form = catalog.templates["collective_consent"].name
    assert form in talk.text, "the extra's template is offered too"


def test_a_category_the_catalog_no_longer_has_starts_afresh(talk: Conversation) -> None:
    talk.slots.update(category="retired_code", answers={"x": "y"}, pending_question="x")
    talk.say("孩子出生一年多了还没报户口")
    assert talk.slots["category"] == "birth" and talk.slots["pending_question"] != "x"


def test_a_guessed_business_starts_but_never_switches(talk: Conversation) -> None:
    talk.say("随便问问", intent="nlu_fallback")
    assert talk.slots.get("category") is None
    talk.say("这个要怎么办理", guess="id_card")
    assert talk.slots["category"] == "id_card"
    talk.say("/start_over")
    talk.say("孩子出生一年多了还没报户口")
    talk.say("对，就是这个情况", intent="affirm", guess="certificate")
    assert talk.slots["category"] == "birth"


def test_a_private_finder_is_told_what_to_do_instead_of_registering(talk: Conversation) -> None:
    talk.say("在路边捡到一个BB 可以帮佢上户口吗")
    assert talk.slots["scenario"] == "birth_foundling_finder" and talk.slots["pending_question"] is None
    assert "不能按本业务办理" in talk.text and "110" in talk.text and "民政" in talk.text
    assert "需要准备的材料" not in talk.text, "no checklist for a case that cannot be filed"


def test_documents_from_an_apostille_state_need_no_consular_legalisation(talk: Conversation,
                                                                        catalog: Catalog) -> None:
    talk.say("孩子在英国出生 出生纸办了海牙认证 只有中国护照 我是广州户口 怎么上户口")
    assert talk.slots["category"] == "birth" and talk.slots["answers"]["birthplace"] == "abroad"
    answer_until_done(talk, catalog, "birth_abroad_chinese")
    assert talk.slots["scenario"] == "birth_abroad_chinese"
    talk.press("查看完整清单")  # the materials' notes did not fit in the chat answer
    assert "附加证明书" in talk.text and "2023年11月7日" in talk.text
    assert "非缔约国" in talk.text, "consular legalisation only where the convention does not apply"
