"""Numbers with a unit answer numeric questions: "我今年35岁", "社保交了五年", "未满16岁", "一年半"."""

from __future__ import annotations

import pytest

from bot.catalog.model import Catalog
from bot.consult.interpret import answer_to_pending
from bot.nlu.matcher import PhraseFinder, parse_fact
from bot.nlu.numbers import NumericQuestion, answers_in, bare_number, quantities


@pytest.mark.parametrize(("text", "value", "unit"), [
    ("我今年35岁", 35, "岁"), ("三十五周岁", 35, "岁"), ("社保交了五年", 5, "年"), ("住了半年", 0.5, "年"),
    ("孩子一年半了", 1.5, "年"), ("三个多月", 3, "个月"), ("结婚两年", 2, "年"),
])
def test_quantities_are_read_with_their_unit(text: str, value: float, unit: str) -> None:
    [q] = quantities(text)
    assert (q.value, q.unit) == (value, unit)


def test_under_and_below_mean_just_under_the_number_and_dates_are_not_durations() -> None:
    assert all(q.value < 16 for q in quantities("未满16岁") + quantities("16岁以下") + quantities("不满十六周岁"))
    assert quantities("18岁以上")[0].value == 18
    assert quantities("2024年结婚的") == []


def test_cue_words_tie_each_number_to_its_own_question() -> None:
    age = NumericQuestion("demo", "age", "岁", ("今年",), ((0, 16, "young"), (16, None, "adult")))
    married = NumericQuestion("demo", "married", "年", ("结婚",), ((0, 2, "short"), (2, None, "long")))
    insured = NumericQuestion("demo", "insured", "年", ("社保",), ((0, 4, "few"), (4, None, "enough")))
    found = {(nq.question, option) for nq, option, _ in answers_in("结婚三年了，社保交了一年，我今年40岁",
                                                                  [age, married, insured])}
    assert found == {("married", "long"), ("insured", "few"), ("age", "adult")}
    assert answers_in("交了一年", [insured]) == [], "no cue: not an answer unless it is the question asked"
    assert [o for _, o, _ in answers_in("交了一年", [insured], pending=("demo", "insured"))] == ["few"]


def test_a_bare_number_answers_the_question_being_asked_but_a_small_one_stays_a_button(catalog: Catalog) -> None:
    question = next(q for t in catalog.trees.values() for q in t.questions
                    if q.number is not None and q.number.unit == "岁" and len(q.options) >= 2)
    shown = question.options
    assert bare_number("35") == 35 and bare_number("我今年三十五岁") == 35 and bare_number("你好") is None
    assert answer_to_pending(question, shown, "2", "consult") == shown[1].id, "2 is the second button"
    older = next(o for o in question.options if o.covers(99))
    assert answer_to_pending(question, shown, "99岁", "consult") == older.id


def test_the_catalog_matcher_reads_ages_in_free_text(finder: PhraseFinder) -> None:
    facts = [parse_fact(m.value) for m in finder.find("我今年15岁，想办身份证") if m.entity == "fact"]
    id_card_age = [f[2] for f in facts if f and f[0] == "id_card" and f[1] == "age"]
    assert id_card_age == ["under16"]
