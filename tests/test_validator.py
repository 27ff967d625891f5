"""The validator reports each kind of catalog problem with file, line and scenario."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.catalog.loader import load_catalog
from bot.catalog.problems import Problem
from bot.catalog.validator import validate
from bot.settings import SCENARIOS_DIR

CATEGORIES = """\
categories:
  - {code: demo, name: 演示业务, summary: 演示, keywords: [演示业务]}
"""
TEMPLATES = """\
templates:
  - id: form_a
    name: 申请表
    purpose: 演示
    fields:
      - {id: who, label: 申请人姓名, example: 张某某}
      - {id: pick, label: 所选选项, example: 选项甲, fact: q1}
    body: "{who}申请，选择{pick}。"
"""
QUESTIONS = """\
category: demo
defaults:
  sources: [{title: 演示依据, reliability: OFFICIAL}]
  last_verified: 2026-11-25
questions:
  - id: q1
    prompt: 第一个问题？
    why: 演示
    options:
      - {id: a, label: 选项甲, synonyms: [甲]}
      - {id: b, label: 选项乙, synonyms: [乙]}
  - id: q2
    prompt: 第二个问题？
    why: 演示
    options:
      - {id: x, label: 选项X}
      - {id: y, label: 选项Y}
scenarios:
"""
LEAF_A = """\
  - id: demo_a
    title: 情景甲
    when: {q1: a}
    verdict: eligible
    reason: 可以
    templates: [form_a]
    materials:
      - {name: 身份证, form: original}
"""
LEAF_B = """\
  - id: demo_b
    title: 情景乙
    when: {q1: b}
    verdict: ineligible
    reason: 不可以
"""


def problems_for(tmp_path: Path, tree: str, templates: str = TEMPLATES) -> list[Problem]:
    (tmp_path / "categories.yml").write_text(CATEGORIES, encoding="utf-8")
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "demo.yml").write_text(templates, encoding="utf-8")
    (tmp_path / "demo.yml").write_text(textwrap.dedent(tree), encoding="utf-8")
    catalog, problems = load_catalog(tmp_path)
    return problems + validate(catalog)


def kinds(problems: list[Problem]) -> set[str]:
    return {p.kind for p in problems}


def test_the_real_catalog_has_no_problems() -> None:
    catalog, problems = load_catalog(SCENARIOS_DIR)
    problems += validate(catalog)
    assert problems == []
    assert "birth" in catalog.trees


def test_a_minimal_complete_tree_is_clean(tmp_path: Path) -> None:
    assert problems_for(tmp_path, QUESTIONS + LEAF_A + LEAF_B) == []


def test_gap_is_reported_with_the_unanswered_path(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, QUESTIONS + LEAF_A)
    gap = [p for p in problems if p.kind == "gap"]
    assert len(gap) == 1 and "q1=b" in gap[0].message
    assert gap[0].file.endswith("demo.yml")


def test_overlapping_and_unreachable_leaves_name_file_line_and_scenario(tmp_path: Path) -> None:
    shadowed = LEAF_A.replace("demo_a", "demo_a2").replace("{q1: a}", "{q1: a, q2: x}").replace("身份证", "户口簿")
    problems = problems_for(tmp_path, QUESTIONS + LEAF_A + LEAF_B + shadowed)
    overlap = next(p for p in problems if p.kind == "overlapping-leaves")
    assert overlap.where == "demo_a2" and "demo_a" in overlap.message
    assert overlap.line == QUESTIONS.count("\n") + LEAF_A.count("\n") + LEAF_B.count("\n") + 1
    assert any(p.kind == "unreachable-leaf" and p.where == "demo_a2" for p in problems)
    assert str(overlap).startswith(str(tmp_path / "demo.yml") + f":{overlap.line}: [demo_a2]")


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        (("{q1: a}", "{q9: a}"), "unknown-question"),
        (("{q1: a}", "{q1: c}"), "unknown-option"),
        (("      - {name: 身份证, form: original}\n", ""), "no-materials"),
        (("form: original}", "form: scan}"), "bad-value"),
        (("      - {name: 身份证, form: original}\n",
          "      - {name: 身份证, form: original}\n      - {name: 身份证, form: copy}\n"), "duplicate-material"),
        (("[form_a]", "[form_zz]"), "unknown-template"),
        (("      - {name: 身份证, form: original}\n", "      - use: nowhere\n"), "unknown-material-set"),
        (("    title: 情景甲\n", ""), "missing-field"),
        (("id: demo_a", "id: other_a"), "bad-id"),
    ],
)
def test_each_kind_of_scenario_error(tmp_path: Path, change: tuple[str, str], kind: str) -> None:
    leaf = LEAF_A.replace(*change)
    assert leaf != LEAF_A
    problems = problems_for(tmp_path, QUESTIONS + leaf + LEAF_B)
    assert kind in kinds(problems), problems
    hit = next(p for p in problems if p.kind == kind)
    assert hit.line > QUESTIONS.count("\n"), "points into the scenario, not the file head"


def test_duplicated_written_out_checklist(tmp_path: Path) -> None:
    two_items = LEAF_A.replace("      - {name: 身份证, form: original}\n",
                               "      - {name: 身份证, form: original}\n      - {name: 户口簿, form: original}\n")
    twin = two_items.replace("demo_a", "demo_c").replace("{q1: a}", "{q1: b, q2: x}")
    other = LEAF_B.replace("{q1: b}", "{q1: b, q2: y}")
    problems = problems_for(tmp_path, QUESTIONS + two_items + twin + other)
    dup = [p for p in problems if p.kind == "duplicated-checklist"]
    assert [p.where for p in dup] == ["demo_c"] and "demo_a" in dup[0].message


def test_a_checklist_shared_through_material_sets_is_not_a_duplicate(tmp_path: Path) -> None:
    sets = "material_sets:\n  ids:\n    - {name: 身份证, form: original}\n    - {name: 户口簿, form: original}\n"
    use = LEAF_A.replace("      - {name: 身份证, form: original}\n", "      - use: ids\n")
    twin = use.replace("demo_a", "demo_c").replace("{q1: a}", "{q1: b, q2: x}")
    other = LEAF_B.replace("{q1: b}", "{q1: b, q2: y}")
    tree = QUESTIONS.replace("scenarios:\n", sets + "scenarios:\n") + use + twin + other
    assert problems_for(tmp_path, tree) == []


def test_duplicate_ids_and_ambiguous_synonyms(tmp_path: Path) -> None:
    tree = QUESTIONS.replace("synonyms: [乙]", "synonyms: [甲]") + LEAF_A + LEAF_B + LEAF_B
    problems = problems_for(tmp_path, tree)
    assert {"duplicate-id", "ambiguous-synonym"} <= kinds(problems)


def test_unused_template(tmp_path: Path) -> None:
    templates = TEMPLATES + "  - {id: form_b, name: 没人用的表, purpose: 演示, body: 正文}\n"
    problems = problems_for(tmp_path, QUESTIONS + LEAF_A + LEAF_B, templates)
    assert [(p.kind, p.where) for p in problems] == [("unused-template", "form_b")]


def test_groups_name_only_existing_options(tmp_path: Path) -> None:
    grouped = QUESTIONS.replace("      - {id: b, label: 选项乙, synonyms: [乙]}\n",
                                "      - {id: b, label: 选项乙, synonyms: [乙]}\n"
                                "    groups:\n      - {options: [a, z], synonyms: [甲乙]}\n", 1)
    assert grouped != QUESTIONS
    problems = problems_for(tmp_path, grouped + LEAF_A + LEAF_B)
    assert [p.where for p in problems if p.kind == "unknown-option"] == ["q1"]


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, QUESTIONS + LEAF_A + "  - id: [unclosed\n")
    syntax = [p for p in problems if p.kind == "yaml-syntax"]
    assert syntax and syntax[0].line > 0


def test_a_broken_catalog_stops_the_command_line_with_the_problems(tmp_path: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    import bot.build
    from bot.cli import main

    problems_for(tmp_path, QUESTIONS + LEAF_A)  # writes a catalog with a gap
    monkeypatch.setattr(bot.build, "SCENARIOS_DIR", tmp_path)
    assert main(["build"]) == 1
    err = capsys.readouterr().err
    assert "gap" in err and "demo.yml" in err and "Traceback" not in err


def test_template_blanks_and_fields_must_match(tmp_path: Path) -> None:
    templates = TEMPLATES.replace('body: "{who}申请，选择{pick}。"', 'body: "{who}申请{nobody}。"')
    problems = problems_for(tmp_path, QUESTIONS + LEAF_A + LEAF_B, templates)
    assert {(p.kind, p.where) for p in problems} == {("unknown-field", "form_a"), ("unused-field", "form_a")}


def test_a_form_never_prefills_personal_data_or_unknown_answers(tmp_path: Path) -> None:
    templates = TEMPLATES.replace("example: 张某某}", "example: 张某某, fact: q1}").replace("fact: q1}\n    body",
                                                                                           "fact: q9}\n    body")
    problems = problems_for(tmp_path, QUESTIONS + LEAF_A + LEAF_B, templates)
    assert {p.kind for p in problems} == {"personal-prefill", "unknown-question"}


NUMERIC = """\
  - id: q3
    prompt: 今年多大？
    why: 演示
    number: {unit: 岁}
    options:
      - {id: young, label: 不满16周岁, range: [0, 16]}
      - {id: old, label: 16周岁及以上, range: [%s, null]}
"""


@pytest.mark.parametrize(("low", "kind"), [(16, None), (18, "band-gap"), (12, "band-overlap")])
def test_numeric_bands_cover_every_value_once(tmp_path: Path, low: int, kind: str | None) -> None:
    tree = QUESTIONS.replace("scenarios:\n", NUMERIC % low + "scenarios:\n") + LEAF_A + LEAF_B
    problems = problems_for(tmp_path, tree)
    assert [p.kind for p in problems] == ([kind] if kind else [])


def test_a_route_must_name_an_answer_of_the_tree_and_another_business(tmp_path: Path) -> None:
    def route_problems(route: str) -> list[Problem]:
        (tmp_path / "categories.yml").write_text(CATEGORIES.replace("keywords:", f"routes: [{route}], keywords:")
                                                 + "  - {code: other, name: 另一业务, summary: 演示}\n",
                                                 encoding="utf-8")
        catalog, problems = load_catalog(tmp_path)
        return [p for p in problems + validate(catalog) if "route" in p.message]

    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "demo.yml").write_text(TEMPLATES, encoding="utf-8")
    (tmp_path / "demo.yml").write_text(textwrap.dedent(QUESTIONS + LEAF_A + LEAF_B), encoding="utf-8")
    assert route_problems("{when: {q1: a}, to: other}") == []
    assert kinds(route_problems("{when: {q1: zz}, to: other}")) == {"unknown-option"}
    assert kinds(route_problems("{when: {q9: a}, to: other}")) == {"unknown-option"}
    assert kinds(route_problems("{when: {q1: a}, to: demo}")) == {"unknown-category"}
    assert kinds(route_problems("{when: {q1: a}, to: nowhere}")) == {"unknown-category"}
