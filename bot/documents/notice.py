"""The 一次性告知单 of one scenario: everything the citizen needs, in one place, as the hall would tell it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from bot.catalog.model import Catalog, CategoryTree, ChecklistItem, Extra, Scenario, Template
from bot.consult import render
from bot.halls.districts import nearby
from bot.halls.model import Hall

HALLS_ON_SHEET = 3


@dataclass
class Notice:
    category_name: str
    scenario: Scenario
    checklist: list[ChecklistItem]
    who_must_come: list[str]
    notes: list[str]
    situation: list[str]  # what the citizen told us, as the catalog words it
    possible: list[tuple[str, Extra]]  # extras that apply only "如属…"
    templates: list[tuple[Template, str]]  # each form with its link
    halls: list[Hall]
    district: str | None
    generated: dt.date
    time_limit: str
    online: str
    links: dict[str, str] = field(default_factory=dict)


def _link(base_url: str, path: str, pdf: bool, **query: str | None) -> str:
    """A document URL: catalog ids and a district name only, never anything the citizen typed."""
    given = {k: v for k, v in query.items() if v}
    return f"{base_url}{path}{'.pdf' if pdf else ''}" + (f"?{urlencode(given)}" if given else "")


def template_link(base_url: str, template_id: str, variant: str = "blank", answers: dict[str, str] | None = None,
                  district: str | None = None, pdf: bool = False) -> str:
    prefilled = variant == "prefilled"
    return _link(base_url, f"/api/templates/{template_id}", pdf, variant=None if variant == "blank" else variant,
                 answers=answer_query(answers or {}) if prefilled else None, district=district if prefilled else None)


def notice_link(base_url: str, scenario_id: str, extras: list[str] | None = None,
                answers: dict[str, str] | None = None, district: str | None = None, pdf: bool = False) -> str:
    return _link(base_url, f"/api/scenarios/{scenario_id}/notice", pdf, extras=",".join(extras or []),
                 answers=answer_query(answers or {}), district=district)


def answer_query(answers: dict[str, str]) -> str:
    """Decided answers as "q:o,q:o" (option ids from the catalog, never free text)."""
    return ",".join(f"{q}:{o}" for q, o in answers.items() if "|" not in o)


def parse_answer_query(raw: str, tree: CategoryTree) -> dict[str, str]:
    """The inverse of answer_query, keeping only questions and options the tree has."""
    answers = {}
    for pair in (raw or "").split(","):
        q, _, o = pair.partition(":")
        question = tree.question(q.strip())
        if question is not None and question.option(o.strip()) is not None:
            answers[question.id] = o.strip()
    return answers


def halls_for(catalog: Catalog, category: str, district: str | None) -> list[Hall]:
    """Halls of the district (then its neighbours) that take the business: the district centre first."""
    if not district:
        return []
    order = {d: i for i, d in enumerate(nearby(district))}
    pool = [h for h in catalog.halls if h.district in order and h.accepts(category) and h.appointments]
    return sorted(pool, key=lambda h: (order[h.district], h.kind != "center", h.id))[:HALLS_ON_SHEET]


def build_notice(catalog: Catalog, scenario: Scenario, extra_ids: list[str], *, answers: dict[str, str],
                 district: str | None, base_url: str, today: dt.date) -> Notice:
    tree = catalog.trees[scenario.category]
    info = catalog.info(scenario.category)
    applicable = [e for e in tree.extras if e.applies_to(scenario)]
    chosen = [e for e in applicable if e.id in extra_ids]
    possible = [(render.condition_label(tree, e.when), e) for e in applicable
                if e not in chosen and e.mention and not e.ask]
    template_ids = list(dict.fromkeys(scenario.templates + [t for e in chosen for t in e.templates]))
    templates = [(catalog.templates[t], template_link(base_url, t, "prefilled" if answers or district else "blank",
                                                      answers, district))
                 for t in template_ids if t in catalog.templates]
    situation = []
    for qid, oid in answers.items():
        question = tree.question(qid)
        option = question.option(oid) if question else None
        if option is not None:
            situation.append(f"{question.prompt.rstrip('？?')}：{option.label}")
    return Notice(
        category_name=info.name if info else scenario.category,
        scenario=scenario,
        checklist=list(scenario.materials) + [m for e in chosen for m in e.materials],
        who_must_come=[w for w in [scenario.who_must_come, *(e.who_must_come for e in chosen)] if w],
        notes=scenario.notes + [n for e in chosen for n in e.notes],
        situation=situation,
        possible=possible,
        templates=templates,
        halls=halls_for(catalog, scenario.category, district),
        district=district,
        generated=today,
        time_limit=render.time_limit_text(scenario),
        online=render.online_text(scenario),
        links={"pdf": notice_link(base_url, scenario.id, [e.id for e in chosen], answers, district, pdf=True),
               "html": notice_link(base_url, scenario.id, [e.id for e in chosen], answers, district)},
    )
