"""Measures the trained NLU on held-out citizen messages (tests/heldout/messages.yml) and prints figures.

Intent accuracy counts the classifier alone. "Routed right" counts what the citizen experiences: every intent
that goes to the consultation loop (consult, affirm, deny, correct, nlu_fallback) is the same route there.
Categories and facts are read from the entities exactly as action_consult reads them.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import yaml

from bot.catalog.loader import load_catalog
from bot.consult.interpret import read_entities
from bot.settings import SCENARIOS_DIR

LOOP_INTENTS = {"consult", "affirm", "deny", "correct", "nlu_fallback"}


async def _parse(model: Path, texts: list[str]) -> list[dict]:
    from rasa.core.agent import load_agent

    agent = await load_agent(model_path=str(model))
    return [await agent.parse_message(t) for t in texts]


def evaluate(model: Path, messages_file: Path) -> dict[str, float]:
    messages = yaml.safe_load(messages_file.read_text(encoding="utf-8"))["messages"]
    parses = asyncio.run(_parse(model, [m["text"] for m in messages]))
    known = {c.code for c in load_catalog(SCENARIOS_DIR)[0].categories}
    totals: Counter = Counter()
    misses: list[str] = []
    for m, p in zip(messages, parses, strict=True):
        want, got = m["intent"], p["intent"]["name"]
        totals["messages"] += 1
        totals["intent_right"] += want == got
        routed = (got in LOOP_INTENTS) if want in LOOP_INTENTS else want == got
        totals["routed_right"] += routed
        if not routed:
            misses.append(f"路由错误  {m['text']}  期望 {want}，得到 {got}")
        reading = read_entities(p.get("entities") or [])
        if m.get("category"):
            totals["category_cases"] += 1
            got_category = reading.target(None, known)
            if got_category == m["category"]:
                totals["category_right"] += 1
            else:
                misses.append(f"业务错误  {m['text']}  期望 {m['category']}，得到 {got_category}")
        want_facts = set((m.get("facts") or {}).items())
        got_facts = set(reading.facts.get("birth", {}).items()) if m.get("category") == "birth" else set()
        totals["facts_expected"] += len(want_facts)
        totals["facts_found"] += len(got_facts)
        totals["facts_right"] += len(want_facts & got_facts)
        for q, o in sorted(got_facts - want_facts):
            misses.append(f"多读事实  {m['text']}  {q}={o}")
        for q, o in sorted(want_facts - got_facts):
            misses.append(f"漏读事实  {m['text']}  {q}={o}")
    figures = {
        "messages": totals["messages"],
        "intent_accuracy": totals["intent_right"] / totals["messages"],
        "routed_right": totals["routed_right"] / totals["messages"],
        "category_accuracy": totals["category_right"] / max(1, totals["category_cases"]),
        "fact_precision": totals["facts_right"] / max(1, totals["facts_found"]),
        "fact_recall": totals["facts_right"] / max(1, totals["facts_expected"]),
    }
    for line in misses:
        print(line)
    print(f"\n{figures['messages']} 条留出消息（{messages_file}）")
    print(f"意图准确率 {figures['intent_accuracy']:.1%}；路由正确率 {figures['routed_right']:.1%}；"
          f"业务识别准确率 {figures['category_accuracy']:.1%}（{totals['category_cases']} 条）；"
          f"事实精确率 {figures['fact_precision']:.1%}，召回率 {figures['fact_recall']:.1%}"
          f"（期望 {totals['facts_expected']} 个事实）")
    return figures
