"""Prints the evaluation: the project and the stock baseline side by side, then the question counts."""

from __future__ import annotations

from bot.catalog.model import Catalog
from bot.evaluation.questions import QuestionCount, QuestionSummary
from bot.evaluation.scoring import Scores


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)  # CJK characters take two columns


def _cell(text: str, width: int, right: bool = False) -> str:
    pad = " " * max(0, width - _width(text))
    return pad + text if right else text + pad


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(_cell(c, w, right=i > 0) for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()


def side_by_side(project: Scores, stock: Scores | None, extra_rows: list[list[str]]) -> list[str]:
    """The headline figures, then `extra_rows` ([label, project, stock], already formatted: times)."""
    t = project.totals
    rows = [
        ["", "本项目", "原生 Rasa"],
        [f"业务识别准确率（{t['category_cases']} 条）", pct(project.category_accuracy),
         pct(stock.category_accuracy) if stock else "未测"],
        [f"不属户政/寒暄未进入咨询（{t['out_cases']} 条）", pct(project.kept_out),
         pct(stock.kept_out) if stock else "未测"],
        [f"两项业务都识别（{t['two_cases']} 条）", pct(project.two_found), pct(stock.two_found) if stock else "未测"],
        [f"事实精确率（读出 {t['facts_found']} 个）", pct(project.fact_precision), "不读事实"],
        [f"事实召回率（期望 {t['facts_expected']} 个）", pct(project.fact_recall), "不读事实"],
    ]
    rows += extra_rows
    widths = [max(_width(r[i]) for r in rows) for i in range(3)]
    return [_row(r, widths) for r in rows]


def per_category(catalog: Catalog, project: Scores, stock: Scores | None) -> list[str]:
    rows = [["代码", "业务", "留出", "本项目 F1", "原生 F1"]]
    for info in catalog.categories:
        cases = project.tp[info.code] + project.fn[info.code]
        rows.append([info.code, info.name, str(cases), _f1(project, info.code), _f1(stock, info.code)])
    widths = [max(_width(r[i]) for r in rows) for i in range(5)]
    return ["  ".join(_cell(c, w, right=i >= 2) for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()
            for r in rows]


def _f1(scores: Scores | None, code: str) -> str:
    if scores is None:
        return "未测"
    value = scores.f1(code)
    return "—" if value is None else f"{value:.2f}"


def kept_out_by_group(project: Scores, stock: Scores | None) -> str:
    parts = []
    for group, cases in sorted(project.cases_by_group.items()):
        stock_part = f"/{stock.kept_by_group[group]}" if stock else ""
        parts.append(f"{group} {project.kept_by_group[group]}{stock_part}/{cases}")
    return "按主题未进入咨询（本项目" + ("/原生" if stock else "") + "/总数）：" + "，".join(parts)


def question_lines(summary: QuestionSummary, counts: list[QuestionCount]) -> list[str]:
    lines = [f"情景 {summary.scenarios} 个：从一句话描述开始，平均提问数为问答树路径的 {summary.mean_ratio:.0%}"
             f"（{summary.measured} 个可比）；不超过一半的 {summary.at_most_half} 个（目标：全部）；"
             f"无需提问的 {summary.no_question} 个；读错事实、到不了该情景的 {len(summary.not_reached)} 个"]
    by_category: dict[str, list[QuestionCount]] = {}
    for c in counts:
        by_category.setdefault(c.category, []).append(c)
    for code, items in by_category.items():
        ratios = [c.ratio for c in items if c.ratio is not None]
        asked = sum(c.asked or 0 for c in items if c.ratio is not None)
        path = sum(c.path or 0 for c in items if c.ratio is not None)
        mean = f"{sum(ratios) / len(ratios):.0%}" if ratios else "—"
        lines.append(f"  {code:<17} 情景 {len(items):>3}  问 {asked:>4} / 路径 {path:>4}  平均比例 {mean:>4}  "
                     f"不超过一半 {sum(r <= 0.5 for r in ratios):>3}")
    return lines
