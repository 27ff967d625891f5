"""Hotline figures: category accuracy on held-out messages with and without the normalization step, how often
normalization corrected a sentence that was already right, and turn latency through the real assistant.

    .venv/bin/python bench/hotline_bench.py             # accuracy and damage (loads the trained NLU model)
    .venv/bin/python bench/hotline_bench.py --latency   # also starts the servers and times hotline turns
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import statistics
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.catalog.loader import load_valid_catalog  # noqa: E402
from bot.channels.normalize import Normalizer  # noqa: E402
from bot.consult.interpret import read_entities  # noqa: E402
from bot.settings import ROOT, SCENARIOS_DIR  # noqa: E402
from bot.training import ensure_model  # noqa: E402

HELDOUT = ROOT / "tests" / "heldout" / "messages.yml"


def hotline_style(text: str) -> bool:
    """Transcripts: no punctuation, words set apart by the recognizer's spaces."""
    return " " in text.strip() or not re.search(r"[，。？！,?!]", text)


async def categories(model: Path, texts: list[str], known: set[str]) -> list[str | None]:
    from rasa.core.agent import load_agent

    agent = await load_agent(model_path=str(model))
    logging.disable(logging.WARNING)  # Rasa logs every parse at debug level
    return [read_entities((await agent.parse_message(t)).get("entities") or []).target(None, known) for t in texts]


def accuracy(got: list, want: list) -> str:
    right = sum(g == w for g, w in zip(got, want, strict=True))
    return f"{right}/{len(want)} = {right / max(1, len(want)):.1%}"


def latency(normalizer: Normalizer) -> None:
    import requests

    from bot.services import running_assistant
    from tests.hall_service import free_port

    calls = [["喂 你好 嗯 那个 我老婆上个月生了个女儿 我们都是广州户口", "第一个", "第一个", "第一个"],
             ["嗯 我的身分正丢了 想补办 护口在天河", "第一个", "第一个"],
             ["我爸去世了 要住销户口", "第一个", "我要转人工"]]
    times = []
    with running_assistant(ensure_model(), free_port(), free_port(), free_port()) as base:
        url = f"{base}/webhooks/hotline/webhook"
        requests.post(url, json={"call_id": "warm-up", "text": "你好"}, timeout=120)
        for n, utterances in enumerate(calls * 3):
            for text in utterances:
                started = time.perf_counter()
                requests.post(url, json={"call_id": f"bench-{n}", "text": text}, timeout=60).raise_for_status()
                times.append(time.perf_counter() - started)
    times.sort()
    print(f"turn latency over {len(times)} hotline turns: median {statistics.median(times) * 1000:.0f} ms, "
          f"p95 {times[int(len(times) * 0.95) - 1] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", action="store_true", help="start the servers and time hotline turns")
    args = parser.parse_args()
    catalog = load_valid_catalog(SCENARIOS_DIR)
    started = time.perf_counter()
    normalizer = Normalizer.for_catalog(catalog)
    print(f"normalizer built in {time.perf_counter() - started:.1f} s")
    known = {c.code for c in catalog.categories}
    messages = [m for m in yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))["messages"] if m.get("category")]
    texts = [m["text"] for m in messages]
    want = [m["category"] for m in messages]
    started = time.perf_counter()
    normalized = [normalizer.normalize(t).text for t in texts]
    per_message = (time.perf_counter() - started) / len(texts) * 1000
    raw, fixed = asyncio.run(categories(ensure_model(), texts + normalized, known)), None
    raw, fixed = raw[:len(texts)], raw[len(texts):]
    hot = [i for i, t in enumerate(texts) if hotline_style(t)]
    print(f"\nheld-out messages with a category: {len(texts)} ({len(hot)} hotline-style)")
    print(f"category accuracy, all:           without {accuracy(raw, want)}   with {accuracy(fixed, want)}")
    print(f"category accuracy, hotline-style: without {accuracy([raw[i] for i in hot], [want[i] for i in hot])}"
          f"   with {accuracy([fixed[i] for i in hot], [want[i] for i in hot])}")
    for i in hot:
        if fixed[i] != want[i]:
            print(f"  still wrong: {texts[i]!r} -> {normalized[i]!r}: {fixed[i]} (want {want[i]})")
    for t in texts:  # every sound-alike correction made, to be read for damage (the messages are not all right)
        for c in normalizer.normalize(t).corrections:
            print(f"  corrected: {c.before!r} -> {c.after!r} in {t!r}")
    for i, (r, f) in enumerate(zip(raw, fixed, strict=True)):
        if r != f:
            print(f"  changed by normalization: {texts[i]!r}: {r} -> {f} (want {want[i]})")
    correct = [e for c in catalog.categories for e in c.examples]
    correct += [e for t in catalog.trees.values() for s in t.scenarios for e in s.examples]
    typed = [t for t in texts if not hotline_style(t)]
    for name, sentences in (("catalog example sentences", correct), ("typed held-out messages", typed)):
        damaged = [(s, normalizer.normalize(s).corrections) for s in sentences]
        damaged = [(s, c) for s, c in damaged if c]
        print(f"sound-alike corrections in correct text ({name}): {len(damaged)}/{len(sentences)} "
              f"= {len(damaged) / max(1, len(sentences)):.2%}")
        for s, c in damaged[:10]:
            print(f"  {s!r}: {[(x.before, x.after) for x in c]}")
    print(f"normalization time: {per_message:.2f} ms per message")
    if args.latency:
        latency(normalizer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
