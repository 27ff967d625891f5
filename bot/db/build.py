"""Rebuilds the scenario database from the catalog, so the database never drifts from the YAML."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.catalog.model import Catalog, ChecklistItem, ChoiceGroup
from bot.db.models import (
    Base,
    CatalogMeta,
    CategoryRow,
    ExtraRow,
    MaterialRow,
    OptionRow,
    QuestionRow,
    ScenarioRow,
    TemplateRow,
)
from bot.db.repository import CatalogRepository


def catalog_fingerprint(directory: Path) -> str:
    """Hash of every catalog file: the database (and the model) are rebuilt when it changes."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*.yml")):
        digest.update(str(path.relative_to(directory)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _checklist_rows(items: list[ChecklistItem], **owner: object) -> list[MaterialRow]:
    rows = []
    for position, item in enumerate(items):
        if isinstance(item, ChoiceGroup):
            group = MaterialRow(position=position, is_choice=True, note=item.note, **owner)
            group.alternatives = [
                MaterialRow(position=i, name=m.name, form=m.form, copies=m.copies, note=m.note, **owner)
                for i, m in enumerate(item.alternatives)
            ]
            rows.append(group)
        else:
            rows.append(MaterialRow(position=position, name=item.name, form=item.form,
                                    copies=item.copies, note=item.note, **owner))
    return rows


def _save_checklist(session: Session, items: list[ChecklistItem], **owner: object) -> None:
    for row in _checklist_rows(items, **owner):
        children = list(row.alternatives) if row.is_choice else []
        row.alternatives = []
        session.add(row)
        session.flush()
        for child in children:
            child.parent_id = row.id
            session.add(child)


def rebuild(engine: Engine, catalog: Catalog, version: str) -> None:
    """Drop and recreate every catalog table, then insert the catalog in one transaction."""
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine, future=True) as session, session.begin():
        session.add(CatalogMeta(key="version", value=version))
        for t in catalog.templates.values():
            session.add(TemplateRow(id=t.id, name=t.name, purpose=t.purpose, body=t.body, signer=t.signer,
                                    fields=[{k: v for k, v in asdict(f).items() if k != "line"} for f in t.fields]))
        for position, info in enumerate(catalog.categories):
            session.add(CategoryRow(code=info.code, position=position, name=info.name, summary=info.summary,
                                    keywords=info.keywords, examples=info.examples,
                                    has_tree=info.code in catalog.trees))
        session.flush()
        for tree in catalog.trees.values():
            for position, q in enumerate(tree.questions):
                session.add(QuestionRow(
                    category_code=tree.code, key=q.id, position=position, prompt=q.prompt, why=q.why,
                    yes_option=q.yes, no_option=q.no, number=asdict(q.number) if q.number else None,
                    groups=[{"options": g.options, "synonyms": g.synonyms} for g in q.groups],
                    assume={"option": q.assume.option, "when": {k: list(v) for k, v in q.assume.when.items()},
                            "confirm": q.assume.confirm} if q.assume else None,
                    options=[OptionRow(key=o.id, position=i, label=o.label, synonyms=o.synonyms, low=o.low, high=o.high)
                             for i, o in enumerate(q.options)],
                ))
            for position, s in enumerate(tree.scenarios):
                session.add(ScenarioRow(
                    id=s.id, category_code=tree.code, position=position, title=s.title,
                    conditions={q: list(v) for q, v in s.when.items()}, verdict=s.verdict, reason=s.reason,
                    who_must_come=s.who_must_come, where=s.where, apply_within=s.time_limit.apply_within,
                    working_days=s.time_limit.working_days, time_note=s.time_limit.note, fee=s.fee,
                    online_available=s.online.available, online_channel=s.online.channel,
                    online_note=s.online.note, online_business=s.online.business,
                    online_postal=s.online.postal, notes=s.notes, examples=s.examples,
                    sources=[asdict(src) for src in s.sources], templates=s.templates,
                    last_verified=s.last_verified,
                ))
                session.flush()
                _save_checklist(session, s.materials, scenario_id=s.id)
            for position, e in enumerate(tree.extras):
                row = ExtraRow(category_code=tree.code, key=e.id, position=position,
                               conditions={q: list(v) for q, v in e.when.items()},
                               scenario_ids=e.scenarios, notes=e.notes, who_must_come=e.who_must_come,
                               templates=e.templates, ask=e.ask, mention=e.mention)
                session.add(row)
                session.flush()
                _save_checklist(session, e.materials, extra_id=row.id)


def stored_version(engine: Engine) -> str | None:
    """The catalog fingerprint the database was built from; None for an empty database."""
    if not inspect(engine).has_table(CatalogMeta.__tablename__):
        return None
    with Session(engine, future=True) as session:
        return CatalogRepository(session).version()

