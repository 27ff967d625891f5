"""Hotline figures: category accuracy on held-out messages with and without the normalization step, how often
normalization corrected a sentence that was already right, and turn latency through the real assistant.

    .venv/bin/python bench/hotline_bench.py             # accuracy and damage (loads the trained NLU model)
    .venv/bin/python bench/hotline_bench.py --latency   # also starts the servers and times hotline turns (p50/p95)
    .venv/bin/python bench/hotline_bench.py --latency --redis [URL]   # the same with the call state in Redis
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
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


def percentile(sorted_times: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted values."""
    return sorted_times[max(0, min(len(sorted_times) - 1, int(round(p / 100 * len(sorted_times))) - 1))]


def latency(redis_url: str | None) -> None:
    """Hotline turns through the real assistant (normalization, Rasa, actions, spoken rendering, call state)."""
    import uuid

    import requests

    from bot.services import running_assistant
    from tests.hall_service import free_port

    calls = [["喂 你好 嗯 那个 我老婆上个月生了个女儿 我们都是广州户口", "第一个", "第一个", "第一个", "按键 1"],
             ["嗯 我的身分正丢了 想补办 护口在天河", "第一个", "第一个", "第一个"],
             ["我爸去世了 要住销户口", "第一个", "第一个", "我要转人工"],
             ["家里的户口薄 被小孩撕烂了 能换一本新的吗", "第一个", "第一个"]]
    env = {}
    prefix = f"huji-bench:hotline:{uuid.uuid4().hex[:8]}:"
    if redis_url:
        env = {"HUJI_REDIS_URL": redis_url, "HUJI_HOTLINE_REDIS_PREFIX": prefix}
    times: list[float] = []
    run = uuid.uuid4().hex[:6]
    try:
        with running_assistant(ensure_model(), free_port(), free_port(), free_port(), env=env) as base:
            url = f"{base}/webhooks/hotline/webhook"
            requests.post(url, json={"call_id": f"warm-up-{run}", "text": "你好"}, timeout=120)
            for n, utterances in enumerate(calls * 5):
                for said in utterances:
                    body = {"call_id": f"bench-{run}-{n}"}
                    body |= {"dtmf": said.split()[-1]} if said.startswith("按键") else {"text": said}
                    started = time.perf_counter()
                    requests.post(url, json=body, timeout=60).raise_for_status()
                    times.append(time.perf_counter() - started)
    finally:
        if redis_url:
            import redis

            client = redis.Redis.from_url(redis_url)
            keys = list(client.scan_iter(prefix + "*"))
            if keys:
                client.delete(*keys)
    times.sort()
    where = "Redis" if redis_url else "memory"
    print(f"hotline turn latency, call state in {where}, {len(times)} turns: "
          f"p50 {percentile(times, 50) * 1000:.0f} ms, p95 {percentile(times, 95) * 1000:.0f} ms, "
          f"max {times[-1] * 1000:.0f} ms (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", action="store_true", help="start the servers and time hotline turns")
    parser.add_argument("--redis", metavar="URL", nargs="?", const="redis://127.0.0.1:6379/0",
                        help="with --latency: keep the call state in this Redis (a throwaway key prefix)")
    parser.add_argument("--no-accuracy", action="store_true", help="only the latency (with --latency)")
    args = parser.parse_args()
    if args.no_accuracy and args.latency:
        latency(args.redis)
        return 0
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
        latency(args.redis)
    return 0


if __name__ == "__main__":
    sys.exit(main())
