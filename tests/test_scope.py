"""What is not 户政: the outside topics (scenarios/outside.yml), the scope decision and the pointer answer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.catalog.loader import load_valid_catalog
from bot.catalog.outside import load_topics, topic_in
from bot.consult.outside import GENERIC, out_of_scope_answer
from bot.nlu.scope import OUTSIDE, scoped_intent
from bot.settings import SCENARIOS_DIR


@pytest.fixture(scope="module")
def topics():
    return load_valid_catalog(SCENARIOS_DIR).topics


@pytest.mark.parametrize(("text", "code"), [
    ("护照过期了怎么换", "exit_entry"),
    ("我在广州买了房想迁户口", "house_purchase"),
    ("买房资格怎么查", "property"),  # buying without 户口 words is a property question
    ("公积金怎么提取", "housing_fund"),
    ("驾驶证到期换证", "traffic"),
    ("老婆生了孩子怎么上户口", None),
    ("身份证丢了怎么补", None),
    ("单位帮我办人才引进，我在广州没买房，户口地址填哪里", None),  # a denied keyword is not the topic
])
def test_topic_found_by_keywords(topics, text: str, code: str | None) -> None:
    found = topic_in(topics, text)
    assert (found.code if found else None) == code


def test_every_topic_reply_names_where_to_ask(topics) -> None:
    for topic in topics:
        assert re.search(r"12\d{3}", topic.reply) or topic.choices, topic.code  # a hotline, or businesses to offer
        assert len(topic.reply) <= 200


def test_bad_topics_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "outside.yml").write_text(
        "topics:\n  - code: x\n    name: X\n    reply: 去别处\n    choices: [nope]\n", encoding="utf-8")
    topics, problems = load_topics(tmp_path, {"birth"})
    kinds = {p.kind for p in problems}
    assert "missing-field" in kinds and "unknown-category" in kinds
    assert topics[0].code == "x"


@pytest.mark.parametrize(("intent", "named", "topic", "over", "likely", "want"), [
    # a topic and no business named: out of scope, whatever DIET thought
    ("consult", [], "exit_entry", False, {"id_card": 0.4, OUTSIDE: 0.3}, "out_of_scope"),
    # a business named too: the sentence as a whole decides
    ("consult", ["id_card"], "exit_entry", False, {"id_card": 0.5, OUTSIDE: 0.3}, "consult"),
    ("consult", ["local_move"], "traffic", False, {"local_move": 0.2, OUTSIDE: 0.6}, "out_of_scope"),
    # house purchase is answered even though it names 户口迁移 …
    ("consult", ["local_move"], "house_purchase", True, {"local_move": 0.3, OUTSIDE: 0.6}, "out_of_scope"),
    ("consult", ["local_move"], "house_purchase", True, {"local_move": 0.65, OUTSIDE: 0.1}, "out_of_scope"),
    # … unless the sentence is surely one business's ("在海珠买了新房，户口想从越秀迁过去")
    ("consult", [], "house_purchase", True, {"local_move": 0.8, OUTSIDE: 0.1}, "consult"),
    # a topic word inside a sure 户政 sentence ("交着社保，能申请积分入户吗") keeps the consultation
    ("out_of_scope", [], "social_insurance", False, {"points": 0.7, OUTSIDE: 0.1}, "consult"),
    ("consult", [], "social_insurance", False, {"points": 0.5, OUTSIDE: 0.1}, "out_of_scope"),
    # no topic: the classifier's outside class keeps a sure non-户政 message out
    ("consult", [], None, False, {"birth": 0.1, OUTSIDE: 0.8}, "out_of_scope"),
    ("consult", [], None, False, {"birth": 0.6, OUTSIDE: 0.3}, None),
    # DIET's out_of_scope yields to a named business or a sure classifier
    ("out_of_scope", ["id_card"], None, False, {"id_card": 0.3, OUTSIDE: 0.5}, "consult"),
    ("out_of_scope", [], None, False, {"temp_id": 0.7, OUTSIDE: 0.2}, "consult"),
    ("out_of_scope", [], None, False, {"temp_id": 0.3, OUTSIDE: 0.5}, None),
])
def test_scoped_intent(intent, named, topic, over, likely, want) -> None:
    assert scoped_intent(intent, named, topic, over, likely) == want


def test_other_intents_yield_only_when_diet_hesitates_over_a_topic() -> None:
    assert scoped_intent("greet", [], "traffic", False, {OUTSIDE: 0.9}, confidence=0.95) is None
    assert scoped_intent("cancel_booking", [], "marriage", False, {OUTSIDE: 0.9}, confidence=0.5) == "out_of_scope"
    assert scoped_intent("cancel_booking", [], None, False, {OUTSIDE: 0.9}, confidence=0.5) is None
    assert scoped_intent("find_hall", ["id_card"], "traffic", False, {OUTSIDE: 0.9}, confidence=0.5) is None


def test_answer_points_elsewhere_and_offers_routes(topics) -> None:
    names = {c.code: c.name for c in load_valid_catalog(SCENARIOS_DIR).categories}
    text, buttons = out_of_scope_answer(topics, "house_purchase", names)
    assert "一般不能直接落户" in text and "窗口告知为准" in text
    assert [b["payload"] for b in buttons] == [f'/consult{{"category":"{c}"}}'
                                               for c in ("talent", "points", "family", "local_move")]
    text, buttons = out_of_scope_answer(topics, "exit_entry", names)
    assert "12367" in text and buttons == []
    assert out_of_scope_answer(topics, None, names) == (GENERIC, [])
    assert out_of_scope_answer(topics, "no-such-topic", names) == (GENERIC, [])
