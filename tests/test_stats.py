"""`./huji stats` counts from the catalog alone, and no consultation asks more than 7 questions."""

from __future__ import annotations

from bot.catalog.model import Catalog
from bot.stats import MAX_QUESTIONS, question_paths, report, tree_stats


def test_every_answer_path_asks_at_most_seven_questions(catalog: Catalog) -> None:
    for code, tree in catalog.trees.items():
        longest = max(question_paths(tree))
        assert longest <= MAX_QUESTIONS, f"{code}: a path asks {longest} questions"


def test_report_counts_what_the_catalog_holds(catalog: Catalog) -> None:
    text = report(catalog)
    online = sum(1 for t in catalog.trees.values() for s in t.scenarios if s.online.available)
    assert f"情景 {catalog.scenario_count} 个" in text and f"网办情景 {online} 个" in text
    assert f"模板 {len(catalog.templates)} 个" in text
    for code, tree in catalog.trees.items():
        row = tree_stats(catalog, tree)
        assert row.scenarios == len(tree.scenarios) and code in text
        assert row.paths >= row.scenarios, "every scenario is at the end of at least one path"
