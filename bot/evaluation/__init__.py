"""./huji eval: the trained NLU and a stock Rasa baseline on the same held-out messages, side by side.

Held-out messages (tests/heldout/messages.yml) are never trained on. The project is measured on whatever model is
trained, from its parse results alone (bot/evaluation/scoring.py); the stock baseline is trained on the catalog's
own example sentences (bot/evaluation/baseline.py); the questions a scenario's one-sentence description still
needs are counted with the consultation engine (bot/evaluation/questions.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from bot.catalog.loader import load_valid_catalog
from bot.evaluation import report
from bot.evaluation.baseline import StockModel, ensure_stock_model
from bot.evaluation.questions import count_questions, scenario_descriptions, summarize
from bot.evaluation.scoring import Scores, load_expected, percentile, project_prediction, score, stock_prediction
from bot.settings import SCENARIOS_DIR

# is there a threshold at which the stock model gets both? (0.45 is the project's)
SWEEP_THRESHOLDS = (0.3, 0.45, 0.6, 0.8, 0.9)


async def _parse_timed(model: Path, texts: list[str]) -> tuple[list[dict], list[float]]:
    """Every parse result, and each parse's wall time in milliseconds."""
    from rasa.core.agent import load_agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # not a debug line per parse between the figures
    agent = await load_agent(model_path=str(model))
    await agent.parse_message("你好")  # warm-up: the first parse builds lazy caches
    parses, times = [], []
    for text in texts:
        started = time.perf_counter()
        parses.append(await agent.parse_message(text))
        times.append((time.perf_counter() - started) * 1000)
    return parses, times


def _latency(times: list[float]) -> str:
    return f"{percentile(times, 0.5):.0f} / {percentile(times, 0.95):.0f} ms"


def evaluate(model: Path, messages_file: Path, baseline: bool = True,
             scenario_limit: int | None = None) -> dict[str, float | None]:
    """Prints every miss and the report; returns the headline figures.

    `baseline=False` skips the stock model (no training); `scenario_limit` counts questions for the first
    scenarios only (the test suite's small run)."""
    catalog = load_valid_catalog(SCENARIOS_DIR)
    known = {c.code for c in catalog.categories}
    expected = load_expected(messages_file)
    described = scenario_descriptions(catalog)[:scenario_limit]
    texts = [m.text for m in expected]

    parses, times = asyncio.run(_parse_timed(model, texts + [d for _, _, d in described]))
    project = score(expected, [project_prediction(p, known) for p in parses[:len(texts)]])
    counts = [count_questions(tree, s, d, p) for (tree, s, d), p in zip(described, parses[len(texts):], strict=True)]
    questions = summarize(counts)

    stock_model: StockModel | None = ensure_stock_model(catalog) if baseline else None
    stock = stock_times = None
    sweep: dict[float, Scores] = {}
    if stock_model is not None:
        stock_parses, stock_times = asyncio.run(_parse_timed(stock_model.path, texts))
        stock = score(expected, [stock_prediction(p, known) for p in stock_parses], intents=False)
        sweep = {th: score(expected, [stock_prediction(p, known, th) for p in stock_parses], intents=False)
                 for th in SWEEP_THRESHOLDS}

    for line in project.misses:
        print(line)
    for c in questions.not_reached:
        print(f"读错事实  {c.scenario}  {c.text}  读出 {c.facts}")
    t = project.totals
    intent, routed = project.ratio("intent_right", "messages"), project.ratio("routed_right", "messages")
    print(f"\n{t['messages']} 条留出消息（{messages_file}）；意图准确率 {report.pct(intent)}，"
          f"路由正确率 {report.pct(routed)}")
    training = "—"
    if stock_model is not None:
        training = f"{stock_model.training_seconds:.0f} s"
        if stock_model.training_cpu_seconds is not None:
            training += f"（CPU {stock_model.training_cpu_seconds:.0f} s）"
        if stock_model.cached:
            training += "，已缓存"
    rows = [["原生模型训练用时（" + (f"{stock_model.examples} 条例句）" if stock_model else "未训练）"), "—", training],
            ["解析延迟 p50 / p95", _latency(times[:len(texts)]), _latency(stock_times) if stock_times else "未测"]]
    print("\n".join(report.side_by_side(project, stock, rows)))
    if sweep:
        print("原生 Rasa 换兜底阈值（只看最高置信度）：" + "；".join(
            f"{th:.2f} 时业务 {report.pct(sc.category_accuracy)}、未进入咨询 {report.pct(sc.kept_out)}"
            for th, sc in sweep.items()))
    if t["house_cases"]:
        print(f"在广州买房想迁户口（{t['house_cases']} 条）：本项目开始了某项业务咨询的 {t['house_started']} 条")
    if t["out_cases"]:
        print(report.kept_out_by_group(project, stock))
    print("\n各业务 F1（原生 Rasa：最高意图即业务，低于兜底阈值不算）")
    print("\n".join(report.per_category(catalog, project, stock)))
    print("\n提问数（情景的一句话描述 → 出清单前的提问，对比问答树路径）")
    print("\n".join(report.question_lines(questions, counts)))

    figures: dict[str, float | None] = {
        "messages": t["messages"],
        "intent_accuracy": project.ratio("intent_right", "messages"),
        "routed_right": project.ratio("routed_right", "messages"),
        "category_accuracy": project.category_accuracy,
        "kept_out": project.kept_out,
        "two_found": project.two_found,
        "fact_precision": project.fact_precision,
        "fact_recall": project.fact_recall,
        "parse_p50_ms": percentile(times[:len(texts)], 0.5),
        "parse_p95_ms": percentile(times[:len(texts)], 0.95),
        "question_ratio": questions.mean_ratio,
        "scenarios_at_most_half": questions.at_most_half,
        "scenarios_measured": questions.measured,
    }
    if stock is not None and stock_model is not None and stock_times is not None:
        figures |= {"stock_category_accuracy": stock.category_accuracy, "stock_kept_out": stock.kept_out,
                    "stock_two_found": stock.two_found, "stock_training_seconds": stock_model.training_seconds,
                    "stock_parse_p50_ms": percentile(stock_times, 0.5),
                    "stock_parse_p95_ms": percentile(stock_times, 0.95)}
    return figures
