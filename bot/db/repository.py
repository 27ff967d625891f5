"""Reads catalog objects back from the database; the actions use this, never the YAML."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.catalog.model import (
    Assumption,
    CategoryInfo,
    CategoryTree,
    ChecklistItem,
    ChoiceGroup,
    Extra,
    Material,
    NumberSpec,
    Online,
    Option,
    OptionGroup,
    Question,
    Scenario,
    Source,
    Template,
    TemplateField,
    TimeLimit,
)
from bot.db.models import CatalogMeta, CategoryRow, ExtraRow, MaterialRow, QuestionRow, ScenarioRow, TemplateRow


def _material(row: MaterialRow) -> Material:
    return Material(row.name, row.form, row.copies, row.note)


def _checklist(rows: list[MaterialRow]) -> list[ChecklistItem]:
    return [ChoiceGroup([_material(a) for a in r.alternatives], r.note) if r.is_choice else _material(r)
            for r in rows]


def _conditions(raw: dict) -> dict[str, tuple[str, ...]]:
    return {q: tuple(v) for q, v in raw.items()}


_MATERIALS = selectinload(ScenarioRow.materials).selectinload(MaterialRow.alternatives)


def _scenario(r: ScenarioRow) -> Scenario:
    return Scenario(
        id=r.id, category=r.category_code, title=r.title, when=_conditions(r.conditions), verdict=r.verdict,
        reason=r.reason, who_must_come=r.who_must_come, materials=_checklist(r.materials),
        templates=list(r.templates), where=r.where,
        time_limit=TimeLimit(r.apply_within, r.working_days, r.time_note), fee=r.fee,
        online=Online(r.online_available, r.online_channel, r.online_note, r.online_business, r.online_postal),
        notes=list(r.notes),
        examples=list(r.examples), sources=[Source(**s) for s in r.sources], last_verified=r.last_verified,
    )


class CatalogRepository:
    def __init__(self, session: Session):
        self.session = session

    def version(self) -> str | None:
        return self.session.execute(
            select(CatalogMeta.value).where(CatalogMeta.key == "version")
        ).scalar_one_or_none()

    def categories(self) -> list[CategoryInfo]:
        rows = self.session.execute(select(CategoryRow).order_by(CategoryRow.position)).scalars()
        return [CategoryInfo(r.code, r.name, r.summary, list(r.keywords), list(r.examples)) for r in rows]

    def has_tree(self, code: str) -> bool:
        row = self.session.get(CategoryRow, code)
        return bool(row and row.has_tree)

    def tree(self, code: str) -> CategoryTree | None:
        if not self.has_tree(code):
            return None
        questions = self.session.execute(
            select(QuestionRow).where(QuestionRow.category_code == code)
            .order_by(QuestionRow.position).options(selectinload(QuestionRow.options))
        ).scalars()
        scenarios = self.session.execute(
            select(ScenarioRow).where(ScenarioRow.category_code == code)
            .order_by(ScenarioRow.position).options(_MATERIALS)
        ).scalars()
        extras = self.session.execute(
            select(ExtraRow).where(ExtraRow.category_code == code).order_by(ExtraRow.position)
            .options(selectinload(ExtraRow.materials).selectinload(MaterialRow.alternatives))
        ).scalars()
        return CategoryTree(
            code=code,
            questions=[Question(q.key, q.prompt, q.why,
                                [Option(o.key, o.label, list(o.synonyms), 0, o.low, o.high) for o in q.options],
                                q.yes_option, q.no_option,
                                [OptionGroup(g["options"], g["synonyms"]) for g in q.groups], 0,
                                NumberSpec(**q.number) if q.number else None,
                                Assumption(q.assume["option"], _conditions(q.assume["when"]), q.assume["confirm"])
                                if q.assume else None) for q in questions],
            scenarios=[_scenario(s) for s in scenarios],
            extras=[Extra(e.key, _conditions(e.conditions),
                          list(e.scenario_ids) if e.scenario_ids is not None else None,
                          _checklist(e.materials), list(e.notes), e.who_must_come, list(e.templates), e.ask,
                          mention=e.mention)
                    for e in extras],
        )

    def scenario(self, scenario_id: str) -> Scenario | None:
        row = self.session.execute(
            select(ScenarioRow).where(ScenarioRow.id == scenario_id).options(_MATERIALS)
        ).scalar_one_or_none()
        return _scenario(row) if row else None

    def templates(self, ids: list[str]) -> list[Template]:
        rows = {r.id: r for r in self.session.execute(select(TemplateRow).where(TemplateRow.id.in_(ids))).scalars()}
        return [_template(r) for i in ids if (r := rows.get(i))]

    def template(self, template_id: str) -> Template | None:
        row = self.session.get(TemplateRow, template_id)
        return _template(row) if row else None


def _template(r: TemplateRow) -> Template:
    return Template(r.id, r.name, r.purpose, [TemplateField(**f) for f in r.fields], r.body, r.signer)
