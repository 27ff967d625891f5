"""`./huji stats`: what the catalog holds, computed from the YAML alone (nothing trained, no database)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from statistics import mean

from bot.catalog.model import Catalog, CategoryTree
from bot.consult.engine import Answers, next_step

FEW_SCENARIOS = 5
MAX_QUESTIONS = 7  # with nothing said up front, no path should ask more


@dataclass
class TreeStats:
    code: str
    name: str
    questions: int
    scenarios: int
    online_scenarios: int
    online_businesses: set[str]
    paths: int
    mean_path: float
    longest_path: int


def question_paths(tree: CategoryTree) -> list[int]:
    """Questions asked on every answer path, from nothing said to the answer (the validator's walk)."""
    lengths: list[int] = []
    stack: list[tuple[Answers, int]] = [({}, 0)]
    while stack:
        answers, asked = stack.pop()
        step = next_step(tree, answers)
        if step.question is None:
            lengths.append(asked)
            continue
        stack.extend(({**answers, step.question.id: o.id}, asked + 1) for o in step.question.options)
    return lengths


def tree_stats(catalog: Catalog, tree: CategoryTree) -> TreeStats:
    info = catalog.info(tree.code)
    paths = question_paths(tree)
    online = [s for s in tree.scenarios if s.online.available]
    return TreeStats(tree.code, info.name if info else tree.code, len(tree.questions), len(tree.scenarios),
                     len(online), {s.online.business or s.title for s in online}, len(paths),
                     mean(paths) if paths else 0.0, max(paths, default=0))


def _cell(text: object, width: int, right: bool = False) -> str:
    """Pads to a terminal width: a Chinese character takes two columns."""
    text = str(text)
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    pad = " " * max(0, width - used)
    return pad + text if right else text + pad


def report(catalog: Catalog) -> str:
    rows = [tree_stats(catalog, catalog.trees[c.code]) for c in catalog.categories if c.code in catalog.trees]
    missing = [c for c in catalog.categories if c.code not in catalog.trees]
    businesses = set().union(*(r.online_businesses for r in rows)) if rows else set()
    lines = [
        f"分类 {len(catalog.categories)} 个（有问答树 {len(rows)} 个）；问题 {sum(r.questions for r in rows)} 个；"
        f"情景 {sum(r.scenarios for r in rows)} 个；网办业务 {len(businesses)} 项、网办情景 "
        f"{sum(r.online_scenarios for r in rows)} 个；模板 {len(catalog.templates)} 个；大厅 {len(catalog.halls)} 个",
        "",
        _cell("代码", 18) + _cell("业务", 30) + "".join(_cell(h, 10, True) for h in
                                                   ("问题", "情景", "网办情景", "路径", "平均问", "最多问")),
    ]
    for r in rows:
        flag = "  ⚠ 超过7问" if r.longest_path > MAX_QUESTIONS else ""
        figures = (r.questions, r.scenarios, r.online_scenarios, r.paths, f"{r.mean_path:.1f}", r.longest_path)
        lines.append(_cell(r.code, 18) + _cell(r.name, 30) + "".join(_cell(f, 10, True) for f in figures) + flag)
    few = [r for r in rows if r.scenarios < FEW_SCENARIOS] + missing
    lines.append("")
    if few:
        lines.append(f"情景少于 {FEW_SCENARIOS} 个的分类：" + "、".join(
            f"{r.code}（{getattr(r, 'scenarios', 0)}）" for r in few))
    else:
        lines.append(f"每个分类都至少有 {FEW_SCENARIOS} 个情景。")
    if businesses:
        lines.append("网办业务：" + "、".join(sorted(businesses)))
    return "\n".join(lines)
