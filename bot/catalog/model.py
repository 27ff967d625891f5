"""Object model of the scenario catalog, shared by the loader, the database layer and the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.halls.model import Hall

Verdict = Literal["eligible", "conditional", "ineligible"]
Form = Literal["original", "copy", "original_and_copy"]

VERDICTS: tuple[str, ...] = ("eligible", "conditional", "ineligible")
FORMS: tuple[str, ...] = ("original", "copy", "original_and_copy")
RELIABILITIES: tuple[str, ...] = ("OFFICIAL", "LOCAL-GOV", "3RD", "UNVERIFIED")

# A scenario condition: question id -> the option ids that satisfy it.
Conditions = dict[str, tuple[str, ...]]


@dataclass
class Option:
    id: str
    label: str
    synonyms: list[str] = field(default_factory=list)
    line: int = 0
    # for a numeric question: the band [low, high) this option covers; None = unbounded on that side
    low: float | None = None
    high: float | None = None

    def covers(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value < self.high)

    def phrases(self) -> list[str]:
        """Every phrase that names this option in free text, label included."""
        return [p for p in dict.fromkeys([self.label, *self.synonyms]) if p]


@dataclass
class OptionGroup:
    """Words that narrow a question to some of its options ("收养的": adopted with or without formalities)."""

    options: list[str]
    synonyms: list[str]
    line: int = 0


NUMBER_UNITS: tuple[str, ...] = ("岁", "年", "个月", "天", "分", "次")


@dataclass
class NumberSpec:
    """How a number in free text answers a question: its unit, and words that tie it to this question."""

    unit: str
    cues: list[str] = field(default_factory=list)  # needed when the question is not the one being asked


@dataclass
class Assumption:
    """The common case, assumed instead of asked when the answers so far make it overwhelmingly likely (a
    married couple's child is their own): applied by the engine, stated to the citizen, undone by a correction."""

    option: str
    when: Conditions  # the answers under which it is assumed; never an uncertain inference
    confirm: str  # said in the next reply: "按亲生子女为您核对，如是收养请告诉我。"
    line: int = 0


@dataclass
class Question:
    id: str
    prompt: str
    why: str
    options: list[Option]
    yes: str | None = None  # option chosen by a bare "是/有/对"
    no: str | None = None  # option chosen by a bare "不是/没有"
    groups: list[OptionGroup] = field(default_factory=list)
    line: int = 0
    number: NumberSpec | None = None  # the citizen may answer with a number ("我今年35岁")
    assume: Assumption | None = None  # assumed instead of asked under its conditions

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass
class Material:
    name: str
    form: str = "original"
    copies: int = 1
    note: str = ""
    line: int = 0


@dataclass
class ChoiceGroup:
    """'以下任选其一': any one of the alternatives is enough."""

    alternatives: list[Material]
    note: str = ""
    line: int = 0


ChecklistItem = Material | ChoiceGroup


@dataclass
class Source:
    title: str
    url: str = ""
    reliability: str = "UNVERIFIED"


@dataclass
class TimeLimit:
    apply_within: str = ""
    working_days: int | None = None
    note: str = ""


@dataclass
class Online:
    available: bool = False
    channel: str = ""
    note: str = ""
    business: str = ""  # the online service item's name (居住证签注); scenarios of one item share it
    postal: bool = False  # the result can be posted (邮政寄递)


@dataclass
class Scenario:
    id: str
    category: str
    title: str
    when: Conditions
    verdict: str
    reason: str
    who_must_come: str = ""
    materials: list[ChecklistItem] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    where: str = ""
    time_limit: TimeLimit = field(default_factory=TimeLimit)
    fee: str = ""
    online: Online = field(default_factory=Online)
    notes: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    last_verified: str = ""
    line: int = 0


@dataclass
class Extra:
    """A conditional addition (materials, notes, who must come) to the scenarios it applies to."""

    id: str
    when: Conditions
    scenarios: list[str] | None  # None: every scenario that is not ineligible
    materials: list[ChecklistItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    who_must_come: str = ""
    templates: list[str] = field(default_factory=list)
    ask: bool = False  # ask its question; otherwise it is shown as "如属…" unless already answered
    line: int = 0
    # False: never shown as "如属…" to everyone, only once the citizen raised it (a baby who died)
    mention: bool = True

    def applies_to(self, scenario: Scenario) -> bool:
        if self.scenarios is None:
            return scenario.verdict != "ineligible"
        return scenario.id in self.scenarios


@dataclass
class CategoryTree:
    """One category's question tree and its scenario leaves."""

    code: str
    questions: list[Question]
    scenarios: list[Scenario]
    extras: list[Extra] = field(default_factory=list)
    file: str = ""
    # named checklists from the YAML; scenarios hold the same objects, so what is shared can be told apart
    material_sets: dict[str, list[ChecklistItem]] = field(default_factory=dict)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def scenario(self, scenario_id: str) -> Scenario | None:
        return next((s for s in self.scenarios if s.id == scenario_id), None)


@dataclass
class Route:
    """An answer that makes a message another business's.

    "我是湖南户口，身份证丢了" names 身份证 (居民身份证) but is 身份证异地受理."""

    question: str  # a question of this category's tree
    option: str
    to: str  # the category code that answers it
    line: int = 0


@dataclass
class CategoryInfo:
    code: str
    name: str
    summary: str
    keywords: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    line: int = 0
    routes: list[Route] = field(default_factory=list)


@dataclass
class TemplateField:
    """One blank of a form: what it asks, a clearly fictitious example, and the answer that may prefill it."""

    id: str
    label: str
    example: str
    fact: str = ""  # a question id (its answer's label, or `values`) or "district"; never personal data
    values: dict[str, str] = field(default_factory=dict)  # option id -> wording on the form
    line: int = 0


@dataclass
class Template:
    id: str
    name: str
    purpose: str
    fields: list[TemplateField] = field(default_factory=list)
    body: str = ""  # the form's text; {field_id} marks a blank
    signer: str = ""  # who signs and dates the form (申请人, 父母双方 …); "" = no signature block
    file: str = ""
    line: int = 0

    def field(self, field_id: str) -> TemplateField | None:
        return next((f for f in self.fields if f.id == field_id), None)


@dataclass
class Catalog:
    categories: list[CategoryInfo]
    trees: dict[str, CategoryTree]
    templates: dict[str, Template]
    halls: list[Hall] = field(default_factory=list)
    topics: list = field(default_factory=list)  # bot.catalog.outside.Topic: what is not 户政 and who handles it

    def hall(self, hall_id: str) -> Hall | None:
        return next((h for h in self.halls if h.id == hall_id), None)

    def info(self, code: str) -> CategoryInfo | None:
        return next((c for c in self.categories if c.code == code), None)

    def trees_using(self, template_id: str) -> list[CategoryTree]:
        """The categories whose scenarios or extras name this form: its prefills read their answers."""
        return [t for t in self.trees.values()
                if any(template_id in item.templates for item in [*t.scenarios, *t.extras])]

    @property
    def scenario_count(self) -> int:
        return sum(len(t.scenarios) for t in self.trees.values())
