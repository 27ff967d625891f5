"""SQLAlchemy models of the scenario database (derived from scenarios/*.yml; never edited by hand)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.schema import Column

Base: Any = declarative_base()


class CatalogMeta(Base):
    __tablename__ = "catalog_meta"
    key = Column(String(64), primary_key=True)
    value = Column(Text, nullable=False)


class CategoryRow(Base):
    __tablename__ = "categories"
    code = Column(String(32), primary_key=True)
    position = Column(Integer, nullable=False)
    name = Column(String(64), nullable=False)
    summary = Column(Text, nullable=False, default="")
    keywords = Column(JSON, nullable=False, default=list)
    examples = Column(JSON, nullable=False, default=list)
    has_tree = Column(Boolean, nullable=False, default=False)


class QuestionRow(Base):
    __tablename__ = "questions"
    id = Column(Integer, primary_key=True)
    category_code = Column(String(32), ForeignKey("categories.code", ondelete="CASCADE"), nullable=False, index=True)
    key = Column(String(64), nullable=False)
    position = Column(Integer, nullable=False)
    prompt = Column(Text, nullable=False)
    why = Column(Text, nullable=False)
    yes_option = Column(String(64))
    no_option = Column(String(64))
    groups = Column(JSON, nullable=False, default=list)  # [{"options": [...], "synonyms": [...]}]
    number = Column(JSON)  # {"unit": "岁", "cues": [...]} for a question answered by a number
    assume = Column(JSON)  # {"option", "when": {question: [options]}, "confirm"}: assumed instead of asked
    options = relationship("OptionRow", order_by="OptionRow.position", cascade="all, delete-orphan")


class OptionRow(Base):
    __tablename__ = "options"
    id = Column(Integer, primary_key=True)
    question_id = Column(Integer, ForeignKey("questions.id", ondelete="CASCADE"), nullable=False, index=True)
    key = Column(String(64), nullable=False)
    position = Column(Integer, nullable=False)
    label = Column(Text, nullable=False)
    synonyms = Column(JSON, nullable=False, default=list)
    low = Column(Float)  # numeric band [low, high)
    high = Column(Float)


class TemplateRow(Base):
    __tablename__ = "templates"
    id = Column(String(64), primary_key=True)
    name = Column(Text, nullable=False)
    purpose = Column(Text, nullable=False, default="")
    fields = Column(JSON, nullable=False, default=list)  # [{"id", "label", "example", "fact", "values"}]
    body = Column(Text, nullable=False, default="")
    signer = Column(Text, nullable=False, default="")


class ScenarioRow(Base):
    __tablename__ = "scenarios"
    id = Column(String(96), primary_key=True)
    category_code = Column(String(32), ForeignKey("categories.code", ondelete="CASCADE"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    title = Column(Text, nullable=False)
    conditions = Column(JSON, nullable=False)  # question key -> [option keys]
    verdict = Column(String(16), nullable=False)
    reason = Column(Text, nullable=False)
    who_must_come = Column(Text, nullable=False, default="")
    where = Column(Text, nullable=False, default="")
    apply_within = Column(Text, nullable=False, default="")
    working_days = Column(Integer)
    time_note = Column(Text, nullable=False, default="")
    fee = Column(Text, nullable=False, default="")
    online_available = Column(Boolean, nullable=False, default=False)
    online_channel = Column(Text, nullable=False, default="")
    online_note = Column(Text, nullable=False, default="")
    online_business = Column(Text, nullable=False, default="")
    online_postal = Column(Boolean, nullable=False, default=False)
    notes = Column(JSON, nullable=False, default=list)
    examples = Column(JSON, nullable=False, default=list)
    sources = Column(JSON, nullable=False, default=list)
    templates = Column(JSON, nullable=False, default=list)  # template ids, in order
    last_verified = Column(String(10), nullable=False, default="")
    materials = relationship(
        "MaterialRow",
        primaryjoin="and_(ScenarioRow.id == MaterialRow.scenario_id, MaterialRow.parent_id == None)",
        order_by="MaterialRow.position",
        viewonly=True,
    )


class ExtraRow(Base):
    __tablename__ = "extras"
    id = Column(Integer, primary_key=True)
    category_code = Column(String(32), ForeignKey("categories.code", ondelete="CASCADE"), nullable=False, index=True)
    key = Column(String(64), nullable=False)
    position = Column(Integer, nullable=False)
    conditions = Column(JSON, nullable=False)
    scenario_ids = Column(JSON)  # null: every scenario that is not ineligible
    notes = Column(JSON, nullable=False, default=list)
    who_must_come = Column(Text, nullable=False, default="")
    templates = Column(JSON, nullable=False, default=list)
    ask = Column(Boolean, nullable=False, default=False)
    mention = Column(Boolean, nullable=False, default=True)
    materials = relationship(
        "MaterialRow",
        primaryjoin="and_(ExtraRow.id == MaterialRow.extra_id, MaterialRow.parent_id == None)",
        order_by="MaterialRow.position",
        viewonly=True,
    )


class MaterialRow(Base):
    """A checklist entry: a material, or a 'one_of' group whose children are the alternatives."""

    __tablename__ = "materials"
    id = Column(Integer, primary_key=True)
    scenario_id = Column(String(96), ForeignKey("scenarios.id", ondelete="CASCADE"), index=True)
    extra_id = Column(Integer, ForeignKey("extras.id", ondelete="CASCADE"), index=True)
    parent_id = Column(Integer, ForeignKey("materials.id", ondelete="CASCADE"), index=True)
    position = Column(Integer, nullable=False)
    is_choice = Column(Boolean, nullable=False, default=False)
    name = Column(Text, nullable=False, default="")
    form = Column(String(24), nullable=False, default="original")
    copies = Column(Integer, nullable=False, default=1)
    note = Column(Text, nullable=False, default="")
    alternatives = relationship("MaterialRow", order_by="MaterialRow.position", viewonly=True)
