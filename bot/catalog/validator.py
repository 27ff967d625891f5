"""Checks a loaded catalog and reports every problem with file, line and scenario.

Structural completeness is checked by walking each tree with the same engine the assistant uses,
so "the validator passes" means "every conversation path ends at exactly one scenario".
"""

from __future__ import annotations

import re
from itertools import combinations

from bot.catalog.model import (
    FORMS,
    RELIABILITIES,
    VERDICTS,
    Catalog,
    CategoryInfo,
    CategoryTree,
    ChecklistItem,
    ChoiceGroup,
    Conditions,
    Material,
    Question,
)
from bot.catalog.problems import Problem
from bot.consult.engine import Answers, consistent, next_step

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_PATHS = 100_000  # a tree with more distinct paths than this is too big to be a consultation


def _materials(items: list[ChecklistItem]) -> list[Material]:
    out: list[Material] = []
    for item in items:
        out.extend(item.alternatives if isinstance(item, ChoiceGroup) else [item])
    return out


def _signature(items: list[ChecklistItem]) -> tuple:
    return tuple(
        tuple(sorted((m.name, m.form) for m in i.alternatives)) if isinstance(i, ChoiceGroup) else (i.name, i.form)
        for i in items
    )


class _TreeCheck:
    def __init__(self, tree: CategoryTree, catalog: Catalog):
        self.tree = tree
        self.catalog = catalog
        self.problems: list[Problem] = []

    def add(self, line: int, kind: str, message: str, where: str = "") -> None:
        self.problems.append(Problem(self.tree.file, line, kind, message, where))

    def run(self) -> list[Problem]:
        if self.catalog.info(self.tree.code) is None:
            self.add(1, "unknown-category", f"分类代码 `{self.tree.code}` 不在 categories.yml 中")
        self.check_questions()
        self.check_scenarios()
        self.check_extras()
        if not any(p.kind in ("unknown-question", "unknown-option") for p in self.problems):
            self.check_overlaps()
            self.check_paths()
        return self.problems

    def check_questions(self) -> None:
        seen: set[str] = set()
        for q in self.tree.questions:
            if q.id in seen:
                self.add(q.line, "duplicate-id", f"问题 id `{q.id}` 重复", q.id)
            seen.add(q.id)
            if q.id and not ID_PATTERN.match(q.id):
                self.add(q.line, "bad-id", f"问题 id `{q.id}` 应为小写 snake_case", q.id)
            option_ids = [o.id for o in q.options]
            for dup in {o for o in option_ids if option_ids.count(o) > 1}:
                self.add(q.line, "duplicate-id", f"选项 id `{dup}` 重复", q.id)
            for key, value in (("yes", q.yes), ("no", q.no)):
                if value and value not in option_ids:
                    self.add(q.line, "unknown-option", f"`{key}: {value}` 不是本问题的选项", q.id)
            for g in q.groups:
                unknown = [o for o in g.options if o not in option_ids]
                if unknown or len(g.options) < 2:
                    self.add(g.line or q.line, "unknown-option" if unknown else "bad-choice",
                             f"groups 应列出本问题的至少两个选项，未知选项：{unknown}", q.id)
            if q.number is not None:
                self.check_bands(q)
            elif any(o.low is not None or o.high is not None for o in q.options):
                self.add(q.line, "bad-value", "选项有 range，但问题没有 number（单位）", q.id)
            owner: dict[str, str] = {}
            named = [(o.id, o.phrases()) for o in q.options] + [("|".join(g.options), g.synonyms) for g in q.groups]
            for oid, phrases in named:
                for phrase in phrases:
                    if phrase in owner and owner[phrase] != oid:
                        self.add(q.line, "ambiguous-synonym",
                                 f"「{phrase}」同时属于选项 `{owner[phrase]}` 和 `{oid}`", q.id)
                    owner[phrase] = oid
            if q.assume is not None:
                self.check_assumption(q)

    def check_assumption(self, q: Question) -> None:
        """An assumed answer: a real option, under conditions on other questions, that leads to a scenario, and a
        confirmation that tells the citizen how to correct it."""
        a = q.assume
        if q.option(a.option) is None:
            self.add(a.line or q.line, "unknown-option", f"`assume.option: {a.option}` 不是本问题的选项", q.id)
            return
        if not a.when:
            self.add(a.line or q.line, "empty-condition", "`assume` 必须写明在什么回答下才默认（when）", q.id)
            return
        if q.id in a.when:
            self.add(a.line or q.line, "bad-value", "`assume.when` 不能以本问题自己为条件", q.id)
        self.check_conditions(a.when, a.line or q.line, q.id)
        if "如" not in a.confirm:
            self.add(a.line or q.line, "bad-value", "`assume.confirm` 应告诉市民如何更正（如“如是收养请告诉我”）", q.id)
        given = {k: "|".join(v) for k, v in a.when.items()} | {q.id: a.option}
        if not any(consistent(s.when, given) for s in self.tree.scenarios):
            self.add(a.line or q.line, "assume-dead-end", "按 `assume` 默认后没有任何情景可以成立", q.id)

    def check_bands(self, q) -> None:
        """A numeric question's bands cover every value from 0 up, each exactly once."""
        bands = sorted(q.options, key=lambda o: -1 if o.low is None else o.low)
        if any(o.low is None and o.high is None for o in bands):
            self.add(q.line, "bad-band", "数字问题的每个选项都要写 range: [下限, 上限)", q.id)
            return
        edge = 0.0
        for o in bands:
            low = 0.0 if o.low is None else o.low
            if low != edge:
                kind = "band-gap" if low > edge else "band-overlap"
                self.add(o.line or q.line, kind,
                         f"选项 `{o.id}` 从 {low:g} 开始，应从 {edge:g} 开始（区间之间不能有空缺或重叠）", q.id)
            if o.high is None:
                if o is not bands[-1]:
                    self.add(o.line or q.line, "band-overlap", f"选项 `{o.id}` 没有上限，却不是最后一个区间", q.id)
                return
            if o.high <= low:
                self.add(o.line or q.line, "bad-band", f"选项 `{o.id}` 的上限应大于下限", q.id)
            edge = o.high
        self.add(q.line, "band-gap", f"数字问题的区间只覆盖到 {edge:g}，最后一个区间的上限应为 null", q.id)

    def check_conditions(self, when: Conditions, line: int, where: str) -> None:
        for qid, allowed in when.items():
            question = self.tree.question(qid)
            if question is None:
                self.add(line, "unknown-question", f"条件引用了不存在的问题 `{qid}`", where)
                continue
            for option_id in allowed:
                if question.option(option_id) is None:
                    self.add(line, "unknown-option", f"问题 `{qid}` 没有选项 `{option_id}`", where)

    def check_checklist(self, items: list[ChecklistItem], where: str, line: int) -> None:
        names: set[str] = set()
        for m in _materials(items):
            if m.form not in FORMS:
                self.add(m.line or line, "bad-value",
                         f"材料「{m.name}」的 form `{m.form}` 应为 {'/'.join(FORMS)}", where)
            if m.name in names:
                self.add(m.line or line, "duplicate-material", f"材料「{m.name}」在同一清单中出现两次", where)
            names.add(m.name)

    def check_scenarios(self) -> None:
        seen: dict[str, int] = {}
        written_out: dict[tuple, str] = {}
        shared = {id(item) for items in self.tree.material_sets.values() for item in items}
        for s in self.tree.scenarios:
            if s.id in seen:
                self.add(s.line, "duplicate-id", f"情景 id `{s.id}` 重复（第 {seen[s.id]} 行已定义）", s.id)
            seen[s.id] = s.line
            if s.id and not (ID_PATTERN.match(s.id) and s.id.startswith(self.tree.code + "_")):
                self.add(s.line, "bad-id", f"情景 id 应以 `{self.tree.code}_` 开头并为 snake_case", s.id)
            if s.verdict and s.verdict not in VERDICTS:
                self.add(s.line, "bad-value", f"verdict `{s.verdict}` 应为 {'/'.join(VERDICTS)}", s.id)
            if s.verdict != "ineligible" and not s.materials:
                self.add(s.line, "no-materials", "可办理的情景必须列出材料", s.id)
            if not s.when:
                self.add(s.line, "no-conditions", "情景没有 when 条件，会与其他情景重叠", s.id)
            self.check_conditions(s.when, s.line, s.id)
            self.check_checklist(s.materials, s.id, s.line)
            for t in s.templates:
                if t not in self.catalog.templates:
                    self.add(s.line, "unknown-template", f"模板 `{t}` 不在 templates/ 中", s.id)
            if not s.sources:
                self.add(s.line, "no-source", "缺少 sources（依据）", s.id)
            for src in s.sources:
                if src.reliability not in RELIABILITIES:
                    self.add(s.line, "bad-value",
                             f"reliability `{src.reliability}` 应为 {'/'.join(RELIABILITIES)}", s.id)
            if not DATE_PATTERN.match(s.last_verified):
                self.add(s.line, "bad-date", f"last_verified 应为 YYYY-MM-DD，得到 `{s.last_verified}`", s.id)
            # A checklist written out item by item in two scenarios belongs in material_sets.
            own = [item for item in s.materials if id(item) not in shared]
            sig = _signature(own)
            if len(own) >= 2 and sig in written_out:
                self.add(s.line, "duplicated-checklist",
                         f"材料清单与情景 `{written_out[sig]}` 完全相同；请合并情景或用 material_sets 共享", s.id)
            written_out.setdefault(sig, s.id)

    def check_extras(self) -> None:
        ids = {s.id for s in self.tree.scenarios}
        for e in self.tree.extras:
            self.check_conditions(e.when, e.line, e.id)
            self.check_checklist(e.materials, e.id, e.line)
            for sid in e.scenarios or []:
                if sid not in ids:
                    self.add(e.line, "unknown-scenario", f"附加规则引用了不存在的情景 `{sid}`", e.id)
            for t in e.templates:
                if t not in self.catalog.templates:
                    self.add(e.line, "unknown-template", f"模板 `{t}` 不在 templates/ 中", e.id)
            if not (e.materials or e.notes or e.who_must_come):
                self.add(e.line, "empty-extra", "附加规则没有材料、提示或到场要求", e.id)

    def check_overlaps(self) -> None:
        for a, b in combinations(self.tree.scenarios, 2):
            shared = set(a.when) & set(b.when)
            if all(set(a.when[q]) & set(b.when[q]) for q in shared):
                self.add(b.line, "overlapping-leaves",
                         f"与情景 `{a.id}`（第 {a.line} 行）的条件可以同时成立", b.id)

    def check_paths(self) -> None:
        """Walk every answer path; report gaps and scenarios no path reaches."""
        reached: set[str] = set()
        gaps: list[Answers] = []
        paths = 0
        stack: list[Answers] = [{}]
        while stack and paths < MAX_PATHS:
            answers = stack.pop()
            # every answer stays reachable: an assumed answer can always be corrected
            step = next_step(self.tree, answers, assume=False)
            if step.question is not None:
                stack.extend({**answers, step.question.id: o.id} for o in reversed(step.question.options))
                continue
            paths += 1
            if step.scenario is not None:
                reached.add(step.scenario.id)
            elif not step.candidates:
                gaps.append(answers)
        if stack:
            self.add(1, "tree-too-large", f"回答路径超过 {MAX_PATHS} 条，未检查完")
        for answers in gaps[:20]:
            path = "，".join(f"{q}={o}" for q, o in answers.items())
            self.add(1, "gap", f"这组回答没有对应的情景：{path}")
        for s in self.tree.scenarios:
            if s.id not in reached and s.when:
                self.add(s.line, "unreachable-leaf", "没有任何回答路径能到达这个情景", s.id)


def _route_problems(catalog: Catalog, c: CategoryInfo, codes: list[str]) -> list[Problem]:
    problems = []
    tree = catalog.trees.get(c.code)
    for r in c.routes:
        question = next((q for q in tree.questions if q.id == r.question), None) if tree else None
        if question is None or r.option not in {o.id for o in question.options}:
            problems.append(Problem("categories.yml", r.line, "unknown-option",
                                    f"route 引用的 `{r.question}={r.option}` 不是 `{c.code}` 的问题和选项", c.code))
        if r.to not in codes or r.to == c.code:
            problems.append(Problem("categories.yml", r.line, "unknown-category",
                                    f"route 的去向 `{r.to}` 不是另一个分类", c.code))
    return problems


def validate(catalog: Catalog) -> list[Problem]:
    problems: list[Problem] = []
    codes = [c.code for c in catalog.categories]
    for c in catalog.categories:
        if codes.count(c.code) > 1:
            problems.append(Problem("categories.yml", c.line, "duplicate-id", f"分类代码 `{c.code}` 重复", c.code))
    owner: dict[str, str] = {}
    for c in catalog.categories:
        for keyword in c.keywords:
            if owner.get(keyword, c.code) != c.code:
                problems.append(Problem("categories.yml", c.line, "ambiguous-keyword",
                                        f"关键词「{keyword}」同时属于 `{owner[keyword]}` 和 `{c.code}`", c.code))
            owner[keyword] = c.code
        problems += _route_problems(catalog, c, codes)
    used = {t for tree in catalog.trees.values() for item in [*tree.scenarios, *tree.extras] for t in item.templates}
    for t in catalog.templates.values():
        if t.id not in used:
            problems.append(Problem(t.file, t.line, "unused-template",
                                    "没有任何情景或附加规则引用这个模板", t.id))
    problems += _template_problems(catalog)
    scenario_ids: dict[str, str] = {}
    for tree in catalog.trees.values():
        problems += _TreeCheck(tree, catalog).run()
        for s in tree.scenarios:
            if s.id in scenario_ids and scenario_ids[s.id] != tree.file:
                problems.append(Problem(tree.file, s.line, "duplicate-id",
                                        f"情景 id 与 {scenario_ids[s.id]} 重复", s.id))
            scenario_ids[s.id] = tree.file
    return problems


PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
PERSONAL_WORDS = ("姓名", "身份号码", "电话", "手机", "护照号码", "证件号码")


def _template_problems(catalog: Catalog) -> list[Problem]:
    """Every blank of a form's body is a declared field and every field is used; prefills name real answers."""
    problems: list[Problem] = []
    for t in catalog.templates.values():
        trees = catalog.trees_using(t.id)
        def add(kind: str, message: str) -> None:
            problems.append(Problem(t.file, t.line, kind, message, t.id))  # noqa: B023 - called in this loop
        used = PLACEHOLDER.findall(t.body)
        ids = [f.id for f in t.fields]
        for unknown in sorted(set(used) - set(ids)):
            add("unknown-field", f"正文中的 {{{unknown}}} 没有在 fields 中定义")
        for unused in sorted(set(ids) - set(used)):
            add("unused-field", f"字段 `{unused}` 没有出现在正文中")
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            add("duplicate-id", f"字段 id `{dup}` 重复")
        for f in t.fields:
            if not f.fact:
                continue
            if any(w in f.label for w in PERSONAL_WORDS):
                add("personal-prefill", f"字段 `{f.id}`（{f.label}）是个人信息，不能用 fact 预填")
            if f.fact == "district":
                continue
            asked = [q for tree in trees if (q := tree.question(f.fact)) is not None]
            if trees and not asked:
                add("unknown-question", f"字段 `{f.id}` 的 fact `{f.fact}` 不是使用本模板的分类中的问题")
                continue
            for option_id in f.values:
                if asked and all(q.option(option_id) is None for q in asked):
                    add("unknown-option", f"字段 `{f.id}` 的 values 中，问题 `{f.fact}` 没有选项 `{option_id}`")
    return problems
