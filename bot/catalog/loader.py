"""Reads the scenario YAML files into the catalog model, keeping line numbers for error reports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from bot.catalog.model import (
    NUMBER_UNITS,
    Assumption,
    Catalog,
    CategoryInfo,
    CategoryTree,
    ChecklistItem,
    ChoiceGroup,
    Conditions,
    Extra,
    Material,
    NumberSpec,
    Online,
    Option,
    OptionGroup,
    Question,
    Route,
    Scenario,
    Source,
    Template,
    TemplateField,
    TimeLimit,
)
from bot.catalog.problems import CatalogError, Problem

CATEGORIES_FILE = "categories.yml"
TEMPLATES_DIR = "templates"  # one file per topic, so editors of different categories do not collide
NOT_TREES = {CATEGORIES_FILE, "halls.yml", "outside.yml"}  # outside.yml: bot/catalog/outside.py


def _line(node: Any, key: Any = None) -> int:
    """1-based line of a mapping (or of one of its keys) read by ruamel."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return 0
    if key is not None:
        try:
            return lc.key(key)[0] + 1
        except (KeyError, TypeError, AttributeError):
            pass
    return (lc.line or 0) + 1


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value).strip()


def _texts(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [_text(v) for v in value if _text(v)]
    return [_text(value)]


class _Reader:
    """Collects problems while turning one YAML document into model objects."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, line: int, kind: str, message: str, where: str = "") -> None:
        self.problems.append(Problem(self.file, line, kind, message, where))

    def load(self, path: Path) -> Any:
        try:
            return YAML(typ="rt").load(path.read_text(encoding="utf-8"))
        except YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            self.problem((mark.line + 1) if mark else 0, "yaml-syntax", str(exc).splitlines()[0])
        except OSError as exc:
            self.problem(0, "unreadable", str(exc))
        return None

    def mapping(self, node: Any, what: str, line: int, where: str = "") -> dict:
        if isinstance(node, dict):
            return node
        self.problem(line, "wrong-type", f"{what} 应为映射（key: value）", where)
        return {}

    def seq(self, node: Any, what: str, line: int, where: str = "") -> list:
        if node is None:
            return []
        if isinstance(node, list):
            return node
        self.problem(line, "wrong-type", f"{what} 应为列表", where)
        return []

    def required(self, node: dict, key: str, where: str) -> str:
        value = _text(node.get(key))
        if not value:
            self.problem(_line(node), "missing-field", f"缺少 `{key}`", where)
        return value

    # --- pieces -------------------------------------------------------------------------
    def conditions(self, node: Any, line: int, where: str) -> Conditions:
        out: Conditions = {}
        for question_id, allowed in self.mapping(node, "when", line, where).items():
            values = tuple(_texts(allowed))
            if not values:
                self.problem(_line(node, question_id), "empty-condition",
                             f"条件 `{question_id}` 没有任何选项", where)
            out[str(question_id)] = values
        return out

    def material(self, node: dict, where: str) -> Material:
        copies = node.get("copies", 1)
        if not isinstance(copies, int) or copies < 1:
            self.problem(_line(node, "copies"), "bad-value", f"copies 应为正整数，得到 {copies!r}", where)
            copies = 1
        return Material(
            name=self.required(node, "name", where),
            form=_text(node.get("form")) or "original",
            copies=copies,
            note=_text(node.get("note")),
            line=_line(node),
        )

    def checklist(self, node: Any, line: int, where: str, sets: dict[str, list[ChecklistItem]]) -> list[ChecklistItem]:
        items: list[ChecklistItem] = []
        for entry in self.seq(node, "materials", line, where):
            entry = self.mapping(entry, "material", line, where)
            if "use" in entry:
                name = _text(entry["use"])
                if name not in sets:
                    self.problem(_line(entry), "unknown-material-set", f"未定义的 material_sets `{name}`", where)
                items.extend(sets.get(name, []))
            elif "one_of" in entry:
                alternatives = [
                    self.material(self.mapping(a, "alternative", _line(entry), where), where)
                    for a in self.seq(entry["one_of"], "one_of", _line(entry), where)
                ]
                if len(alternatives) < 2:
                    self.problem(_line(entry), "bad-choice", "one_of 至少要有两个备选材料", where)
                items.append(ChoiceGroup(alternatives, _text(entry.get("note")), _line(entry)))
            elif entry:
                items.append(self.material(entry, where))
        return items

    def sources(self, node: Any, line: int, where: str) -> list[Source]:
        out = []
        for s in self.seq(node, "sources", line, where):
            s = self.mapping(s, "source", line, where)
            out.append(Source(self.required(s, "title", where), _text(s.get("url")),
                              _text(s.get("reliability")) or "UNVERIFIED"))
        return out

    def template(self, node: dict, file: str) -> Template:
        tid = self.required(node, "id", "")
        fields = []
        for f in self.seq(node.get("fields"), "fields", _line(node), tid):
            f = self.mapping(f, "field", _line(node), tid)
            values = self.mapping(f.get("values") or {}, "values", _line(f), tid)
            fields.append(TemplateField(self.required(f, "id", tid), self.required(f, "label", tid),
                                        self.required(f, "example", tid), _text(f.get("fact")),
                                        {str(k): _text(v) for k, v in values.items()}, _line(f)))
        return Template(tid, self.required(node, "name", tid), _text(node.get("purpose")), fields,
                        self.required(node, "body", tid), _text(node.get("signer")), file, _line(node))

    def number(self, node: Any, line: int, where: str) -> NumberSpec | None:
        if node is None:
            return None
        node = self.mapping(node, "number", line, where)
        unit = _text(node.get("unit"))
        if unit not in NUMBER_UNITS:
            self.problem(line, "bad-value", f"number.unit 应为 {'、'.join(NUMBER_UNITS)} 之一，得到 {unit!r}", where)
        return NumberSpec(unit, _texts(node.get("cues")))

    def band(self, node: dict, where: str) -> tuple[float | None, float | None]:
        value = node.get("range")
        if value is None:
            return None, None
        if (not isinstance(value, list) or len(value) != 2
                or any(v is not None and not isinstance(v, (int, float)) for v in value)):
            self.problem(_line(node, "range"), "bad-value", f"range 应为 [下限, 上限)，得到 {value!r}", where)
            return None, None
        low, high = (None if v is None else float(v) for v in value)
        return low, high

    # --- documents ----------------------------------------------------------------------
    def question(self, node: dict) -> Question:
        qid = self.required(node, "id", "")
        options = []
        for o in self.seq(node.get("options"), "options", _line(node), qid):
            o = self.mapping(o, "option", _line(node), qid)
            low, high = self.band(o, qid)
            options.append(Option(self.required(o, "id", qid), self.required(o, "label", qid),
                                  _texts(o.get("synonyms")), _line(o), low, high))
        if len(options) < 2:
            self.problem(_line(node), "too-few-options", "问题至少要有两个选项", qid)
        groups = []
        for g in self.seq(node.get("groups"), "groups", _line(node), qid):
            g = self.mapping(g, "group", _line(node), qid)
            groups.append(OptionGroup(_texts(g.get("options")), _texts(g.get("synonyms")), _line(g)))
        return Question(qid, self.required(node, "prompt", qid), self.required(node, "why", qid), options,
                        _text(node.get("yes")) or None, _text(node.get("no")) or None, groups, _line(node),
                        self.number(node.get("number"), _line(node, "number"), qid),
                        self.assumption(node.get("assume"), _line(node, "assume"), qid))

    def assumption(self, node: Any, line: int, where: str) -> Assumption | None:
        if node is None:
            return None
        node = self.mapping(node, "assume", line, where)
        return Assumption(self.required(node, "option", where), self.conditions(node.get("when"), line, where),
                          self.required(node, "confirm", where), line)

    def scenario(self, node: dict, code: str, defaults: dict, sets: dict[str, list[ChecklistItem]]) -> Scenario:
        sid = self.required(node, "id", "")
        merged = {**defaults, **node}
        tl = self.mapping(merged.get("time_limit") or {}, "time_limit", _line(node), sid)
        online = self.mapping(merged.get("online") or {}, "online", _line(node), sid)
        working_days = tl.get("working_days")
        if working_days is not None and (not isinstance(working_days, int) or working_days < 0):
            self.problem(_line(node), "bad-value", f"working_days 应为非负整数，得到 {working_days!r}", sid)
            working_days = None
        return Scenario(
            id=sid,
            category=code,
            title=self.required(node, "title", sid),
            when=self.conditions(node.get("when") or {}, _line(node, "when"), sid),
            verdict=self.required(node, "verdict", sid),
            reason=self.required(node, "reason", sid),
            who_must_come=_text(merged.get("who_must_come")),
            materials=self.checklist(node.get("materials"), _line(node, "materials"), sid, sets),
            templates=_texts(node.get("templates")),
            where=_text(merged.get("where")),
            time_limit=TimeLimit(_text(tl.get("apply_within")), working_days, _text(tl.get("note"))),
            fee=_text(merged.get("fee")),
            online=Online(bool(online.get("available", False)), _text(online.get("channel")),
                          _text(online.get("note")), _text(online.get("business")),
                          bool(online.get("postal", False))),
            notes=_texts(node.get("notes")),
            examples=_texts(node.get("examples")),
            sources=self.sources(merged.get("sources"), _line(node), sid),
            last_verified=_text(merged.get("last_verified")),
            line=_line(node),
        )

    def tree(self, doc: Any) -> CategoryTree | None:
        doc = self.mapping(doc, "分类文件", 1)
        code = self.required(doc, "category", "")
        if not code:
            return None
        defaults = self.mapping(doc.get("defaults") or {}, "defaults", _line(doc, "defaults"))
        sets: dict[str, list[ChecklistItem]] = {}
        for name, items in self.mapping(doc.get("material_sets") or {}, "material_sets", _line(doc)).items():
            sets[str(name)] = self.checklist(items, _line(doc, "material_sets"), f"material_sets.{name}", sets)
        questions = [self.question(self.mapping(q, "question", _line(doc, "questions")))
                     for q in self.seq(doc.get("questions"), "questions", _line(doc))]
        scenarios = [self.scenario(self.mapping(s, "scenario", _line(doc, "scenarios")), code, defaults, sets)
                     for s in self.seq(doc.get("scenarios"), "scenarios", _line(doc))]
        extras = []
        for e in self.seq(doc.get("extras"), "extras", _line(doc)):
            e = self.mapping(e, "extra", _line(doc, "extras"))
            eid = self.required(e, "id", "")
            extras.append(Extra(
                id=eid,
                when=self.conditions(e.get("when") or {}, _line(e), eid),
                scenarios=_texts(e["scenarios"]) if e.get("scenarios") is not None else None,
                materials=self.checklist(e.get("materials"), _line(e), eid, sets),
                notes=_texts(e.get("notes")),
                who_must_come=_text(e.get("who_must_come")),
                templates=_texts(e.get("templates")),
                ask=bool(e.get("ask", False)),
                line=_line(e),
                mention=bool(e.get("mention", True)),
            ))
        return CategoryTree(code, questions, scenarios, extras, self.file, sets)


def _routes(reader: _Reader, category: dict, code: str) -> list[Route]:
    """`routes: [{when: {question: option}, to: code}]`: one answer, one other business."""
    routes = []
    for node in reader.seq(category.get("routes"), "routes", _line(category), code):
        node = reader.mapping(node, "route", _line(category), code)
        when = reader.mapping(node.get("when"), "when", _line(node), code)
        if len(when) != 1:
            reader.problem(_line(node), "wrong-type", "route 的 when 只写一个问题和一个选项", code)
            continue
        (question, option), = when.items()
        routes.append(Route(_text(question), _text(option), reader.required(node, "to", code), _line(node)))
    return routes


def load_catalog(directory: Path) -> tuple[Catalog, list[Problem]]:
    """Read every catalog file in `directory`; return the catalog and the problems met while reading."""
    problems: list[Problem] = []

    reader = _Reader(str(directory / CATEGORIES_FILE))
    doc = reader.load(directory / CATEGORIES_FILE) or {}
    categories = []
    for c in reader.seq(reader.mapping(doc, "categories.yml", 1).get("categories"), "categories", 1):
        c = reader.mapping(c, "category", 1)
        code = reader.required(c, "code", "")
        categories.append(CategoryInfo(code, reader.required(c, "name", ""),
                                       _text(c.get("summary")), _texts(c.get("keywords")),
                                       _texts(c.get("examples")), _line(c), _routes(reader, c, code)))
    problems += reader.problems

    templates: dict[str, Template] = {}
    for path in sorted((directory / TEMPLATES_DIR).glob("*.yml")):
        reader = _Reader(str(path))
        doc = reader.load(path) or {}
        for t in reader.seq(reader.mapping(doc, path.name, 1).get("templates"), "templates", 1):
            t = reader.mapping(t, "template", 1)
            template = reader.template(t, str(path))
            if template.id in templates:
                reader.problem(_line(t), "duplicate-id",
                               f"模板 id `{template.id}` 重复（已在 {templates[template.id].file}）", template.id)
            templates[template.id] = template
        problems += reader.problems

    trees: dict[str, CategoryTree] = {}
    for path in sorted(directory.glob("*.yml")):
        if path.name in NOT_TREES:
            continue
        reader = _Reader(str(path))
        doc = reader.load(path)
        tree = reader.tree(doc) if doc is not None else None
        if tree is not None:
            if tree.code in trees:
                reader.problem(1, "duplicate-category", f"分类 `{tree.code}` 已在 {trees[tree.code].file} 定义")
            else:
                trees[tree.code] = tree
        problems += reader.problems

    from bot.catalog.outside import load_topics
    from bot.halls.loader import load_halls  # reuses this module's reader

    halls, hall_problems = load_halls(directory, {c.code for c in categories})
    topics, topic_problems = load_topics(directory, {c.code for c in categories})
    return Catalog(categories, trees, templates, halls, topics), problems + hall_problems + topic_problems


def load_valid_catalog(directory: Path) -> Catalog:
    """Load and validate; raise CatalogError listing every problem if there is any."""
    from bot.catalog.validator import validate

    catalog, problems = load_catalog(directory)
    problems += validate(catalog)
    if problems:
        raise CatalogError(problems)
    return catalog
